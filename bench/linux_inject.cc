// synack's side of bench/linux_inject.sh: segments/s injected into the Linux kernel's TCP through
// the linux target (a tap in a namespace synack makes) and answered. After a handshake, a stream
// of in-window data segments goes in back to back; the kernel's ACKs are read off the tap as they
// come, the application side reads so the window stays open, and the clock stops at the ACK that
// covers the last byte. Prints one line: `synack: N segments in S s = R segments/s`.
//
// Usage: linux_inject [--count N] [--size BYTES]   (root and /dev/net/tun needed)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "harness/target/linux.h"
#include "harness/wire/tcp.h"

namespace {

using synack::target::LinuxTarget;
using synack::target::SockCall;
using synack::target::SockResult;
namespace wire = synack::wire;
namespace flags = wire::tcp_flags;

constexpr std::uint16_t kHarnessPort = 40000;
constexpr std::uint16_t kTargetPort = 8080;
constexpr std::uint32_t kHarnessIsn = 1000;

// A reason to stop, reported by main as one line with exit status 2.
struct Fatal {
  std::string what;
};
[[noreturn]] void die(const std::string& what) { throw Fatal{what}; }

wire::Bytes segment(std::uint8_t f, std::uint32_t seq, std::uint32_t ack, std::size_t len) {
  wire::TcpPacket p;
  p.ip.src = wire::Ipv4Addr{LinuxTarget::kHarnessAddr};
  p.ip.dst = wire::Ipv4Addr{LinuxTarget::kTargetAddr};
  p.ip.ttl = 64;
  p.tcp.src_port = kHarnessPort;
  p.tcp.dst_port = kTargetPort;
  p.tcp.seq = wire::Seq{seq};
  p.tcp.ack = wire::Seq{ack};
  p.tcp.flags = f;
  p.tcp.window = 65535;
  if ((f & flags::kSyn) != 0) p.tcp.options.emplace_back(wire::OptMss{1460});
  p.payload.assign(len, 'x');
  return wire::emit(p);
}

class Bench {
 public:
  explicit Bench(LinuxTarget& t) : t_(t) {}

  SockResult call(const SockCall& c) { return t_.call(c); }

  // Reads every packet the kernel has sent up to `deadline_us`; returns the SYN,ACK's ISN if
  // one came, and keeps the highest ACK on our port.
  std::optional<std::uint32_t> drain(std::int64_t deadline_us) {
    std::optional<std::uint32_t> synack;
    while (auto c = t_.next_packet(deadline_us)) {
      auto p = wire::parse_tcp_packet(c->packet);
      if (!p.ok() || p.value().tcp.dst_port != kHarnessPort) continue;
      const wire::TcpHeader& h = p.value().tcp;
      if (h.has(flags::kSyn | flags::kAck)) synack = h.seq.raw();
      if (h.has(flags::kAck) && (!acked_ || h.ack.gt(wire::Seq{*acked_}))) {
        acked_ = h.ack.raw();
      }
      if (deadline_us > t_.now_us()) deadline_us = t_.now_us();  // got one: just empty the rest
    }
    return synack;
  }
  std::optional<std::uint32_t> acked() const { return acked_; }

 private:
  LinuxTarget& t_;
  std::optional<std::uint32_t> acked_;
};

}  // namespace

static int run(int argc, char** argv) {
  long count = 20000;
  long size = 100;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--count" || a == "--size") && i + 1 < argc) {
      char* end = nullptr;
      const long v = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || v < 1 || v > 10'000'000) die(a + " needs a number from 1 to 10000000");
      (a == "--count" ? count : size) = v;
    } else if (a == "--help" || a == "-h") {
      std::printf("usage: linux_inject [--count N (20000)] [--size BYTES (100)]\n");
      return 0;
    } else {
      die("unknown argument '" + a + "' (see --help)");
    }
  }
  if (size > 1400) die("--size must be at most 1400 (one segment)");
  auto created = LinuxTarget::create();
  if (!created.ok()) die(created.error());
  LinuxTarget& t = *created.value();
  Bench b(t);

  SockCall c;
  c.op = SockCall::Op::kSocket;
  const int listener = static_cast<int>(b.call(c).ret);
  c.op = SockCall::Op::kBind;
  c.fd = listener;
  c.port = kTargetPort;
  if (b.call(c).ret != 0) die("bind failed");
  c.op = SockCall::Op::kListen;
  c.backlog = 1;
  if (b.call(c).ret != 0) die("listen failed");

  t.inject(segment(flags::kSyn, kHarnessIsn, 0, 0));
  const auto target_isn = b.drain(t.now_us() + 3'000'000);
  if (!target_isn) die("no SYN,ACK from the kernel within 3 s");
  const std::uint32_t ack = *target_isn + 1;
  const std::uint32_t first = kHarnessIsn + 1;
  t.inject(segment(flags::kAck, first, ack, 0));
  c = SockCall{};
  c.op = SockCall::Op::kAccept;
  c.fd = listener;
  SockResult accepted;
  for (int tries = 0; tries < 100; ++tries) {
    accepted = b.call(c);
    if (accepted.ret >= 0) break;
    b.drain(t.now_us() + 10'000);
  }
  if (accepted.ret < 0) die("accept() never completed");
  SockCall read;
  read.op = SockCall::Op::kRead;
  read.fd = static_cast<int>(accepted.ret);
  read.length = 1 << 20;

  const auto n = static_cast<std::uint32_t>(count);
  const auto len = static_cast<std::uint32_t>(size);
  const std::uint32_t last = first + n * len;
  const std::int64_t start = t.now_us();
  for (std::uint32_t i = 0; i < n; ++i) {
    t.inject(segment(flags::kPsh | flags::kAck, first + i * len, ack, len));
    b.drain(t.now_us());
    if (i % 16 == 15) b.call(read);  // the application reads: the window stays open
  }
  while (b.acked() != last && t.now_us() - start < 60'000'000) {
    b.call(read);
    b.drain(t.now_us() + 10'000);
  }
  const double seconds = static_cast<double>(t.now_us() - start) / 1e6;
  if (b.acked() != last) {
    die("the kernel acknowledged " + std::to_string(b.acked().value_or(first) - first) + " of " +
        std::to_string(last - first) + " bytes");
  }
  std::printf("synack: %ld segments in %.3f s = %.0f segments/s\n", count, seconds,
              static_cast<double>(count) / seconds);
  return 0;
}

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const Fatal& f) {
    std::fprintf(stderr, "linux_inject: %s\n", f.what.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "linux_inject: %s\n", e.what());
  }
  return 2;
}
