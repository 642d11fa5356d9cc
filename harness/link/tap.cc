#include "harness/link/tap.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

// gcc 12 at -O2 reports a "potential null pointer dereference" inside Asio's scheduler once it
// is inlined here (a false positive in Boost 1.74's code, not ours).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#pragma GCC diagnostic pop
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <system_error>

namespace synack::link {

namespace asio = boost::asio;

struct TapLink::Io {
  explicit Io(int fd) : descriptor(context, fd), timer(context) {}
  asio::io_context context;
  asio::posix::stream_descriptor descriptor;  // owns the tap fd
  asio::steady_timer timer;
};

namespace {

std::string errno_message(int err) { return std::generic_category().message(err); }

std::string errno_text(const std::string& what, int err) {
  std::string s = what + ": " + errno_message(err);
  if (err == EPERM || err == EACCES) s += " (needs root or CAP_NET_ADMIN)";
  return s;
}

}  // namespace

std::int64_t TapLink::now_us() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

wire::Result<int, std::string> open_tap_fd(const std::string& ifname) {
  if (ifname.empty() || ifname.size() >= IFNAMSIZ) {
    return std::string("tap device name '" + ifname + "' must be 1 to " +
                       std::to_string(IFNAMSIZ - 1) + " characters");
  }
  const int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return errno_text("open /dev/net/tun", errno);
  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::memcpy(ifr.ifr_name, ifname.data(), ifname.size());
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): ioctl is the kernel's interface
  if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
    const int err = errno;
    ::close(fd);
    return errno_text("TUNSETIFF " + ifname, err);
  }
  // No offloads: the kernel must hand us whole segments with computed checksums (no TSO/GSO
  // super-segments, no CHECKSUM_PARTIAL), or what we see is not what a wire would carry.
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  if (::ioctl(fd, TUNSETOFFLOAD, 0UL) < 0) {
    const int err = errno;
    ::close(fd);
    return errno_text("TUNSETOFFLOAD 0 on " + ifname, err);
  }
  return fd;
}

wire::Result<std::unique_ptr<TapLink>, std::string> TapLink::open(const TapConfig& config) {
  auto fd = open_tap_fd(config.ifname);
  if (!fd) return fd.error();
  return std::unique_ptr<TapLink>(new TapLink(config, *fd));
}

TapLink::TapLink(TapConfig config, int fd)
    : config_(std::move(config)), io_(std::make_unique<Io>(fd)), read_buffer_(kMaxTapFrame) {}

TapLink::~TapLink() = default;  // the stream_descriptor closes the fd

int TapLink::fd() const { return io_->descriptor.native_handle(); }

std::string TapLink::write_frame(const wire::Bytes& frame) {
  for (;;) {
    const ssize_t n = ::write(fd(), frame.data(), frame.size());
    if (n == static_cast<ssize_t>(frame.size())) {
      ++counters_.frames_out;
      return {};
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_text("write to tap " + config_.ifname, errno);
    return "short write to tap " + config_.ifname;
  }
}

std::string TapLink::send(wire::ByteSpan ipv4_packet) {
  const wire::EthernetHeader h{config_.peer_mac.value_or(wire::MacAddr::broadcast()),
                               config_.own_mac, wire::ethertype::kIpv4};
  return write_frame(wire::emit_ethernet(h, ipv4_packet));
}

void TapLink::handle_frame(wire::ByteSpan frame, std::int64_t time_us) {
  ++counters_.frames_in;
  auto eth = wire::parse_ethernet(frame);
  if (!eth) {
    ++counters_.malformed;
    return;
  }
  const wire::EthernetHeader& h = eth->header;
  if (h.ethertype == wire::ethertype::kArp) {
    auto arp = wire::parse_arp(eth->payload);
    if (!arp) {
      ++counters_.malformed;
      return;
    }
    if (!config_.peer_mac) config_.peer_mac = arp->sender_mac;
    // RFC 826 (packet reception): a request for our protocol address gets a reply with the
    // sender and target fields swapped, our hardware address filled in, op set to reply, sent
    // to the requester's hardware address.
    if (arp->op != wire::arp_op::kRequest || arp->target_ip != config_.own_ip) {
      ++counters_.ignored;
      return;
    }
    wire::ArpPacket reply;
    reply.op = wire::arp_op::kReply;
    reply.sender_mac = config_.own_mac;
    reply.sender_ip = config_.own_ip;
    reply.target_mac = arp->sender_mac;
    reply.target_ip = arp->sender_ip;
    const wire::EthernetHeader rh{arp->sender_mac, config_.own_mac, wire::ethertype::kArp};
    if (write_frame(wire::emit_ethernet(rh, wire::emit_arp(reply))).empty()) {
      ++counters_.arp_replies;
    }
    return;
  }
  if (h.ethertype != wire::ethertype::kIpv4 ||
      (h.dst != config_.own_mac && h.dst != wire::MacAddr::broadcast())) {
    ++counters_.ignored;  // IPv6 (router solicitations, MLD), LLDP, frames for someone else
    return;
  }
  auto ip = wire::parse_ipv4(eth->payload);
  if (!ip) {
    ++counters_.malformed;
    return;
  }
  if (!config_.peer_mac) config_.peer_mac = h.src;
  // The packet without the Ethernet padding after its total length.
  const auto length = ip->header_length + ip->payload.size();
  queue_.push_back(Received{
      wire::Bytes(eth->payload.begin(), eth->payload.begin() + static_cast<std::ptrdiff_t>(length)),
      time_us});
}

void TapLink::drain() {
  for (;;) {
    const ssize_t n = ::read(fd(), read_buffer_.data(), read_buffer_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // EAGAIN: nothing more waiting (errors surface as silence)
    handle_frame(wire::ByteSpan(read_buffer_.data(), static_cast<std::size_t>(n)), now_us());
  }
}

std::optional<Received> TapLink::receive(std::int64_t deadline_us) {
  for (;;) {
    drain();
    if (!queue_.empty()) {
      Received r = std::move(queue_.front());
      queue_.pop_front();
      return r;
    }
    const std::int64_t now = now_us();
    if (now >= deadline_us) return std::nullopt;
    // Wait for the fd to become readable or the deadline, whichever comes first. steady_clock
    // is CLOCK_MONOTONIC (libstdc++), the clock of deadline_us.
    bool readable = false;
    io_->descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                               [&](const boost::system::error_code& ec) {
                                 if (!ec) readable = true;
                                 io_->timer.cancel();
                               });
    io_->timer.expires_after(std::chrono::microseconds(deadline_us - now));
    io_->timer.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) io_->descriptor.cancel();
    });
    io_->context.restart();
    io_->context.run();  // returns when both handlers have run
    if (!readable && now_us() >= deadline_us) {
      drain();
      if (queue_.empty()) return std::nullopt;
    }
  }
}

}  // namespace synack::link
