// _synack: the C++ half of the `synack` Python package (python/synack/__init__.py holds the
// Scapy side). It owns one target (made as `synack run` makes them, harness/script/run_case.h)
// and the black-box oracle that watches it: every packet injected and captured, and every byte
// the target's application writes and reads, go to harness/oracle. Packets cross as bytes;
// anything that is not a whole IPv4/TCP packet is a ValueError here, before it reaches a
// target. Socket calls return (ret, errno, data, value) and never block; the Python side turns
// them into values or OSError.
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "harness/agent/client.h"
#include "harness/oracle/oracle.h"
#include "harness/script/parser.h"
#include "harness/script/run_case.h"
#include "harness/target/inproc.h"
#include "harness/target/target.h"
#include "harness/wire/tcp.h"

namespace py = pybind11;

namespace synack::python {
namespace {

// A target that cannot be made or used (not root, no such tap, a dead agent): a Python
// synack.TargetError.
class TargetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

target::Bytes to_bytes(const py::bytes& b) {
  const std::string s = b;
  return {s.begin(), s.end()};
}

py::bytes to_py(const target::Bytes& b) {
  return py::bytes(reinterpret_cast<const char*>(b.data()), b.size());  // NOLINT: bytes view
}

oracle::ConnKey oracle_key(const target::ConnKey& k) {
  return oracle::ConnKey{wire::Ipv4Addr{k.target_addr}, k.target_port,
                         wire::Ipv4Addr{k.harness_addr}, k.harness_port};
}

class Harness {
 public:
  Harness(const std::string& spec_text, const std::map<std::string, std::string>& knobs,
          std::uint64_t seed, bool use_oracle)
      : use_oracle_(use_oracle) {
    auto spec = script::parse_target_spec(spec_text);
    if (!spec) throw std::invalid_argument(spec.error());
    if (std::string why = script::target_unavailable(*spec); !why.empty()) throw TargetError(why);
    oracle::OracleOptions oo;
    // On real time, retransmission intervals get the runner's default timing tolerance too.
    if (spec->kind != script::TargetSpec::Kind::kInproc) oo.rto_slack_percent = 12.5;
    oracle_ = oracle::Oracle(oo);
    try {
      auto t = script::make_target(*spec, nullptr, seed);
      if (!t) throw TargetError(t.error());
      target_ = std::move(*t);
      for (const auto& [name, value] : knobs) {
        switch (target_->set_option(name, value)) {
          case target::OptionStatus::kApplied:
            break;
          case target::OptionStatus::kUnsupported:
            throw std::invalid_argument("the " + target_->name() + " target does not support --" +
                                        name);
          case target::OptionStatus::kBadValue: {
            std::string what = "--" + name;
            what += "=" + value;
            what += ": the " + target_->name();
            what += " target has no such knob or does not take that value";
            throw std::invalid_argument(what);
          }
        }
      }
    } catch (const agent::AgentError& e) {
      throw TargetError(e.what());
    }
    start_us_ = target_->now_us();
  }

  std::string name() const { return t().name(); }
  std::uint32_t target_addr() const { return t().target_addr(); }
  std::uint32_t harness_addr() const { return t().harness_addr(); }
  // Microseconds since the harness was made, on the target's clock.
  std::int64_t now_us() const { return t().now_us() - start_us_; }

  void inject(const py::bytes& packet) {
    const target::Bytes b = to_bytes(packet);
    auto p = wire::parse_tcp_packet(b);
    if (!p) {
      throw std::invalid_argument("not a whole IPv4/TCP packet: " + p.error().message());
    }
    {
      py::gil_scoped_release release;
      guard([&] { t().inject(b); });
    }
    if (use_oracle_) oracle_.on_segment(oracle::Direction::kToTarget, *p, now_us());
  }

  // Feeds a packet to the oracle as if it had crossed the link, without sending it.
  void observe(const py::bytes& packet, bool from_target) {
    const target::Bytes b = to_bytes(packet);
    auto p = wire::parse_tcp_packet(b);
    if (!p) {
      throw std::invalid_argument("not a whole IPv4/TCP packet: " + p.error().message());
    }
    if (use_oracle_) {
      oracle_.on_segment(
          from_target ? oracle::Direction::kFromTarget : oracle::Direction::kToTarget, *p,
          now_us());
    }
  }

  // The next packet from the target at or before deadline_us (harness time), as (bytes,
  // time_us); None when nothing came (the clock then reads deadline_us).
  std::optional<py::tuple> next_packet(std::int64_t deadline_us) {
    std::optional<target::Captured> c;
    {
      py::gil_scoped_release release;
      guard([&] { c = t().next_packet(deadline_us + start_us_); });
    }
    if (!c) return std::nullopt;
    const std::int64_t time = c->time_us - start_us_;
    if (use_oracle_) {
      // A packet the codec rejects (not TCP, say an ICMP error) is not the oracle's to judge.
      if (auto p = wire::parse_tcp_packet(c->packet)) {
        oracle_.on_segment(oracle::Direction::kFromTarget, *p, time);
      }
    }
    return py::make_tuple(to_py(c->packet), time);
  }

  py::tuple call(const target::SockCall& c) {
    target::SockResult r;
    {
      py::gil_scoped_release release;
      guard([&] { r = t().call(c); });
    }
    // The application's bytes, in causal order: a write before the segments that carry it
    // (they are only fed when captured), a read after those that brought it.
    if (use_oracle_ && r.ret > 0 &&
        (c.op == target::SockCall::Op::kWrite || c.op == target::SockCall::Op::kRead)) {
      std::optional<target::ConnKey> k;
      guard([&] { k = t().connection(c.fd); });
      if (k) {
        if (c.op == target::SockCall::Op::kWrite) {
          const auto n = static_cast<std::size_t>(r.ret);
          oracle_.on_app_write(oracle_key(*k), std::span<const std::uint8_t>(
                                                   c.data.data(), std::min(n, c.data.size())));
        } else {
          oracle_.on_app_read(oracle_key(*k), r.data);
        }
      }
    }
    return py::make_tuple(r.ret, r.err, to_py(r.data), r.value);
  }

  py::tuple socket() {
    target::SockCall c;
    c.op = target::SockCall::Op::kSocket;
    return call(c);
  }
  py::tuple bind(int fd, std::uint16_t port, std::uint32_t addr) {
    target::SockCall c;
    c.op = target::SockCall::Op::kBind;
    c.fd = fd;
    c.port = port;
    c.addr = addr;
    return call(c);
  }
  py::tuple listen(int fd, int backlog) {
    target::SockCall c;
    c.op = target::SockCall::Op::kListen;
    c.fd = fd;
    c.backlog = backlog;
    return call(c);
  }
  py::tuple accept(int fd) {
    target::SockCall c;
    c.op = target::SockCall::Op::kAccept;
    c.fd = fd;
    return call(c);
  }
  py::tuple connect(int fd, std::uint16_t port, std::uint32_t addr) {
    target::SockCall c;
    c.op = target::SockCall::Op::kConnect;
    c.fd = fd;
    c.port = port;
    c.addr = addr;
    return call(c);
  }
  py::tuple read(int fd, std::size_t length) {
    target::SockCall c;
    c.op = target::SockCall::Op::kRead;
    c.fd = fd;
    c.length = length;
    return call(c);
  }
  py::tuple write(int fd, const py::bytes& data) {
    target::SockCall c;
    c.op = target::SockCall::Op::kWrite;
    c.fd = fd;
    c.data = to_bytes(data);
    c.length = c.data.size();
    return call(c);
  }
  py::tuple shutdown(int fd, int how) {
    if (how < 0 || how > 2) throw std::invalid_argument("shutdown: how must be 0, 1 or 2");
    target::SockCall c;
    c.op = target::SockCall::Op::kShutdown;
    c.fd = fd;
    c.how = how;
    return call(c);
  }
  py::tuple close(int fd) {
    target::SockCall c;
    c.op = target::SockCall::Op::kClose;
    c.fd = fd;
    return call(c);
  }
  py::tuple setsockopt(int fd, const std::string& option, int value, bool linger_on) {
    target::SockCall c;
    c.op = target::SockCall::Op::kSetsockopt;
    c.fd = fd;
    c.option = option;
    c.value = value;
    c.linger_on = linger_on;
    return call(c);
  }
  py::tuple getsockopt(int fd, const std::string& option) {
    target::SockCall c;
    c.op = target::SockCall::Op::kGetsockopt;
    c.fd = fd;
    c.option = option;
    return call(c);
  }
  unsigned poll(int fd) {
    unsigned events = 0;
    guard([&] { events = t().poll(fd); });
    return events;
  }

  std::optional<target::TcpInfo> tcp_info(int fd) {
    std::optional<target::TcpInfo> i;
    guard([&] { i = t().tcp_info(fd); });
    return i;
  }
  // inproc only: (state name, RFC 9293 variables); None elsewhere or without a connection.
  std::optional<std::pair<std::string, std::map<std::string, std::int64_t>>> stack_snapshot(
      int fd) {
    auto* inproc = dynamic_cast<target::InprocTarget*>(&t());
    if (!inproc) return std::nullopt;
    auto s = inproc->snapshot(fd);
    if (!s) return std::nullopt;
    return std::make_pair(s->state, s->values);
  }
  // (target address, target port, harness address, harness port) of the connection behind fd.
  std::optional<py::tuple> connection(int fd) {
    std::optional<target::ConnKey> k;
    guard([&] { k = t().connection(fd); });
    if (!k) return std::nullopt;
    return py::make_tuple(k->target_addr, k->target_port, k->harness_addr, k->harness_port);
  }

  std::size_t violation_count() const { return oracle_.violation_count(); }
  // Violations from index `from` on, as (invariant, detail, time_us, text).
  std::vector<py::tuple> violations(std::size_t from) const {
    std::vector<py::tuple> out;
    const auto& v = oracle_.violations();
    for (std::size_t i = from; i < v.size(); ++i) {
      out.push_back(py::make_tuple(v[i].invariant, v[i].detail, v[i].time_us, v[i].to_string()));
    }
    return out;
  }

  // Releases the target: sockets, tap and namespace on linux. Idempotent.
  void shutdown_target() {
    if (!target_) return;
    if (use_oracle_) oracle_.finish(now_us());
    py::gil_scoped_release release;
    target_.reset();
  }
  bool closed() const { return target_ == nullptr; }

 private:
  target::Target& t() const {
    if (!target_) throw std::logic_error("this harness is closed");
    return *target_;
  }
  // An agent that dies or stops answering, as a TargetError.
  template <class F>
  static void guard(F&& f) {
    try {
      f();
    } catch (const agent::AgentError& e) {
      throw TargetError(e.what());
    }
  }

  bool use_oracle_ = true;
  oracle::Oracle oracle_;
  std::unique_ptr<target::Target> target_;
  std::int64_t start_us_ = 0;
};

// One .pkt case as `synack run` runs it: a fresh target, the oracle, the same runner.
py::dict run_script(const std::string& path, const std::string& spec_text,
                    std::optional<std::int64_t> tolerance_us,
                    std::optional<double> tolerance_percent) {
  auto spec = script::parse_target_spec(spec_text);
  if (!spec) throw std::invalid_argument(spec.error());
  if (std::string why = script::target_unavailable(*spec); !why.empty()) throw TargetError(why);
  script::CaseRun run;
  bool parse_error = false;
  {
    py::gil_scoped_release release;
    auto parsed = script::parse_script_file(path);
    if (const auto* err = std::get_if<script::ScriptError>(&parsed)) {
      parse_error = true;
      run.result.verdict = script::CaseResult::Verdict::kError;
      run.result.message = err->to_string();
    } else {
      script::RunOptions ro;
      if (tolerance_us) ro.tolerance_us = *tolerance_us;
      if (tolerance_percent) ro.tolerance_percent = *tolerance_percent;
      run = script::run_case(std::get<script::Script>(parsed), *spec, ro);
    }
  }
  py::dict d;
  d["verdict"] = run.result.verdict == script::CaseResult::Verdict::kPass   ? "pass"
                 : run.result.verdict == script::CaseResult::Verdict::kFail ? "fail"
                                                                            : "error";
  d["message"] = run.result.message;
  d["duration_us"] = run.result.duration_us;
  d["script_error"] = parse_error;
  d["target_error"] = run.target_error;
  py::list link;
  for (const auto& e : run.result.link) {
    link.append(py::make_tuple(e.to_target, e.time_us, to_py(e.packet)));
  }
  d["link"] = link;
  return d;
}

}  // namespace
}  // namespace synack::python

PYBIND11_MODULE(_synack, m) {
  namespace sp = synack::python;
  m.doc() = "synack's C++ core; use the `synack` package, not this module.";
  py::register_exception<sp::TargetError>(m, "TargetError", PyExc_RuntimeError);
  py::class_<sp::Harness>(m, "Harness")
      .def(py::init<const std::string&, const std::map<std::string, std::string>&, std::uint64_t,
                    bool>(),
           py::arg("target"), py::arg("knobs"), py::arg("seed"), py::arg("oracle"))
      .def_property_readonly("name", &sp::Harness::name)
      .def_property_readonly("target_addr", &sp::Harness::target_addr)
      .def_property_readonly("harness_addr", &sp::Harness::harness_addr)
      .def_property_readonly("closed", &sp::Harness::closed)
      .def("now_us", &sp::Harness::now_us)
      .def("inject", &sp::Harness::inject)
      .def("next_packet", &sp::Harness::next_packet)
      .def("observe", &sp::Harness::observe)
      .def("socket", &sp::Harness::socket)
      .def("bind", &sp::Harness::bind)
      .def("listen", &sp::Harness::listen)
      .def("accept", &sp::Harness::accept)
      .def("connect", &sp::Harness::connect)
      .def("read", &sp::Harness::read)
      .def("write", &sp::Harness::write)
      .def("shutdown", &sp::Harness::shutdown)
      .def("close", &sp::Harness::close)
      .def("setsockopt", &sp::Harness::setsockopt)
      .def("getsockopt", &sp::Harness::getsockopt)
      .def("poll", &sp::Harness::poll)
      .def("tcp_info", &sp::Harness::tcp_info)
      .def("stack_snapshot", &sp::Harness::stack_snapshot)
      .def("connection", &sp::Harness::connection)
      .def("violation_count", &sp::Harness::violation_count)
      .def("violations", &sp::Harness::violations)
      .def("shutdown_target", &sp::Harness::shutdown_target);
  m.def("run_script", &sp::run_script, py::arg("path"), py::arg("target"), py::arg("tolerance_us"),
        py::arg("tolerance_percent"));
}
