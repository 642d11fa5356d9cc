#include "harness/script/mutate.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#include "harness/wire/format.h"
#include "harness/wire/ipv4.h"
#include "harness/wire/tcp.h"

namespace synack::script {
namespace {

std::string n(std::int64_t v) { return std::to_string(v); }

// The comparison that is false exactly where `op` is true.
std::string negated(const std::string& op) {
  if (op == "==") return "!=";
  if (op == "!=") return "==";
  if (op == "<") return ">=";
  if (op == ">=") return "<";
  if (op == ">") return "<=";
  return ">";  // <=
}

class Mutator {
 public:
  Mutator(const Script& s, const std::vector<int>& isn_lines) : s_(s), isn_lines_(isn_lines) {}

  std::vector<Mutant> run() {
    for (std::size_t i = 0; i < s_.lines.size(); ++i) {
      const Line& l = s_.lines[i];
      if (const auto* p = std::get_if<PacketLine>(&l.event)) {
        if (p->direction == Direction::kOutbound) packet(i, *p);
      } else if (const auto* c = std::get_if<SyscallLine>(&l.event)) {
        syscall(i, *c);
      } else if (const auto* a = std::get_if<AssertLine>(&l.event)) {
        assertion(i, *a);
      }
    }
    return std::move(out_);
  }

 private:
  // Adds the script with line i's event replaced by `event`.
  template <typename Event>
  void add(std::size_t i, Event event, const std::string& what) {
    Mutant m{s_, s_.lines[i].location.to_string() + ": " + what};
    m.script.lines[i].event = std::move(event);
    out_.push_back(std::move(m));
  }

  void packet(std::size_t i, const PacketLine& p) {
    {
      // FIN is a flag every state machine cares about; toggling it changes what is expected.
      PacketLine m = p;
      m.flags ^= wire::tcp_flags::kFin;
      add(i, m, "flags " + wire::format_flags(p.flags) + " -> " + wire::format_flags(m.flags));
    }
    if (std::find(isn_lines_.begin(), isn_lines_.end(), s_.lines[i].location.line) ==
        isn_lines_.end()) {
      PacketLine m = p;
      ++m.seq_start;
      ++m.seq_end;
      add(i, m, "seq " + n(p.seq_start) + " -> " + n(m.seq_start));
    }
    {
      PacketLine m = p;
      ++m.seq_end;
      ++m.payload_length;
      add(i, m, "length " + n(p.payload_length) + " -> " + n(m.payload_length));
    }
    if (p.ack) {
      PacketLine m = p;
      m.ack = *p.ack + 1;
      add(i, m, "ack " + n(*p.ack) + " -> " + n(*m.ack));
    }
    if (p.window) {
      PacketLine m = p;
      m.window = *p.window == 0 ? 1 : *p.window - 1;
      add(i, m, "win " + n(*p.window) + " -> " + n(*m.window));
    }
    if (p.urgent_pointer) {
      PacketLine m = p;
      m.urgent_pointer = *p.urgent_pointer + 1;
      add(i, m, "urg " + n(*p.urgent_pointer) + " -> " + n(*m.urgent_pointer));
    }
    if (p.direction == Direction::kOutbound) attributes(i, p);
    if (!p.options_any) {
      // Without <...> the options are checked, an absent list meaning "none".
      PacketLine m = p;
      if (m.options.empty()) {
        m.options.push_back(OptionSpec{});  // nop
        add(i, m, "options none -> <nop>");
      } else {
        m.options.pop_back();
        add(i, m, "options: last option dropped");
      }
    }
  }

  // The IPv4 fields an outbound line names ([src A, dst A, tos N, ttl N]) are checked too.
  void attributes(std::size_t i, const PacketLine& p) {
    const Attributes& a = p.attributes;
    auto addr = [](std::uint32_t v) { return wire::Ipv4Addr{v}.to_string(); };
    if (a.src) {
      PacketLine m = p;
      m.attributes.src = *a.src + 1;
      add(i, m, "src " + addr(*a.src) + " -> " + addr(*m.attributes.src));
    }
    if (a.dst) {
      PacketLine m = p;
      m.attributes.dst = *a.dst + 1;
      add(i, m, "dst " + addr(*a.dst) + " -> " + addr(*m.attributes.dst));
    }
    if (a.tos) {
      PacketLine m = p;
      m.attributes.tos = static_cast<std::uint8_t>(*a.tos ^ 0x04);  // a DSCP bit, not ECN
      add(i, m, "tos " + n(*a.tos) + " -> " + n(*m.attributes.tos));
    }
    if (a.ttl) {
      PacketLine m = p;
      m.attributes.ttl = static_cast<std::uint8_t>(*a.ttl == 255 ? 254 : *a.ttl + 1);
      add(i, m, "ttl " + n(*a.ttl) + " -> " + n(*m.attributes.ttl));
    }
  }

  void syscall(std::size_t i, const SyscallLine& c) {
    if (c.result) {
      SyscallLine m = c;
      const bool fd_creating = c.name == "socket" || c.name == "accept";
      if (*c.result == -1) {
        // The call must fail with exactly this errno.
        m.errno_name = c.errno_name == "EINVAL" ? "EBADF" : "EINVAL";
        add(i, m,
            c.name + " errno " + (c.errno_name.empty() ? "(any)" : c.errno_name) + " -> " +
                m.errno_name);
      } else if (fd_creating) {
        // The fd number is a name the script chooses, not a result the target gives.
        m.result = -1;
        m.errno_name = "EAGAIN";
        add(i, m, c.name + " = " + n(*c.result) + " -> -1 EAGAIN");
      } else {
        m.result = *c.result + 1;
        add(i, m, c.name + " = " + n(*c.result) + " -> " + n(*m.result));
      }
    }
    // getsockopt(fd, level, name, [value], len) and ioctl(fd, req, [value]) expect a value too.
    const std::size_t at = c.name == "getsockopt" ? 3 : c.name == "ioctl" ? 2 : c.args.size();
    if (at < c.args.size() && c.args[at].kind == Arg::Kind::kArray &&
        !c.args[at].elements.empty()) {
      SyscallLine m = c;
      Arg& v = m.args[at].elements[0];
      if (v.kind == Arg::Kind::kNumber) {
        ++v.number;
        add(i, m, c.name + " value [" + n(v.number - 1) + "] -> [" + n(v.number) + "]");
      } else if (v.kind == Arg::Kind::kSymbols && v.symbols.size() == 1) {
        // A named value (SO_ERROR's [ECONNREFUSED]): expect no error instead.
        v = Arg{};
        v.kind = Arg::Kind::kNumber;
        add(i, m, c.name + " value [" + c.args[at].elements[0].symbols[0] + "] -> [0]");
      }
    }
  }

  void assertion(std::size_t i, const AssertLine& a) {
    for (std::size_t k = 0; k < a.all.size(); ++k) {
      AssertLine m = a;
      m.all[k].op = negated(a.all[k].op);
      add(i, m,
          "assert " + a.all[k].field + " " + a.all[k].op + " " + a.all[k].value + " -> " +
              m.all[k].op);
    }
  }

  const Script& s_;
  const std::vector<int>& isn_lines_;
  std::vector<Mutant> out_;
};

}  // namespace

std::vector<Mutant> mutants(const Script& s, const std::vector<int>& isn_lines) {
  return Mutator(s, isn_lines).run();
}

}  // namespace synack::script
