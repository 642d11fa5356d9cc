#include "harness/serve/serve.h"

#include <cerrno>
#include <chrono>
#include <system_error>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "harness/agent/stack_server.h"
#include "harness/link/tap.h"
#include "harness/target/tap.h"
#include "stack/stack.h"

namespace synack::serve {

namespace asio = boost::asio;

namespace {

std::string errno_text(const std::string& what, int err) {
  std::string s = what + ": " + std::generic_category().message(err);
  if (err == EPERM || err == EACCES) s += " (needs root or CAP_NET_ADMIN)";
  return s;
}

stack::StackConfig stack_config() {
  stack::StackConfig c;
  c.local_addr = TapServer::kStackAddr;
  c.alias_addrs = {TapServer::kStackAliasAddr};
  return c;
}

}  // namespace

struct TapServer::Impl {
  Impl(asio::io_context& context, const ServeConfig& c, int fd)
      : io(context), config(c), stack(stack_config(), c.seed), tap(context, fd), timer(context) {}

  asio::io_context& io;
  ServeConfig config;
  stack::Stack stack;  // StackAgent's reset replaces it in place: its address never changes
  asio::posix::stream_descriptor tap;  // owns the fd
  asio::steady_timer timer;
  std::unique_ptr<agent::StackServer> server;  // after the stack, timer and tap: destroyed first
  std::optional<wire::MacAddr> peer;
  ServeCounters counters;
  std::string failure;  // why the loop was stopped from inside, "" if it was not
  wire::Bytes buffer = wire::Bytes(link::kMaxTapFrame);

  bool ours(wire::Ipv4Addr a) const { return a.value == kStackAddr || a.value == kStackAliasAddr; }

  void write_frame(const wire::Bytes& frame) {
    for (;;) {
      const ssize_t n = ::write(tap.native_handle(), frame.data(), frame.size());
      if (n < 0 && errno == EINTR) continue;
      // A full tap queue (nobody attached at the other end) drops the frame, as a wire would.
      if (n != static_cast<ssize_t>(frame.size())) ++counters.write_errors;
      return;
    }
  }

  // Everything the stack sent, to the peer (broadcast until its MAC is known); then the timer
  // for the stack's next deadline.
  void flush() {
    for (const auto& p : stack.take_output()) {
      const wire::EthernetHeader h{peer.value_or(wire::MacAddr::broadcast()), config.mac,
                                   wire::ethertype::kIpv4};
      write_frame(wire::emit_ethernet(h, p));
      ++counters.packets_out;
    }
    arm_timer();
  }

  void arm_timer() {
    const auto due = stack.next_deadline();
    if (!due) {
      timer.cancel();
      return;
    }
    // steady_clock is CLOCK_MONOTONIC, the stack's clock: its time_since_epoch is the Instant.
    timer.expires_at(asio::steady_timer::time_point(
        std::chrono::duration_cast<asio::steady_timer::duration>(*due)));
    timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;  // re-armed or cancelled (possibly after `this` is gone): touch nothing
      ++counters.timer_fires;
      stack.advance(stack::Instant(link::TapLink::now_us()));
      flush();
    });
  }

  void handle_frame(wire::ByteSpan frame) {
    ++counters.frames_in;
    auto eth = wire::parse_ethernet(frame);
    if (!eth) {
      ++counters.malformed;
      return;
    }
    const wire::EthernetHeader& h = eth->header;
    if (h.src == config.mac) {
      ++counters.ignored;  // our own frame, flooded back by a hub-like link
      return;
    }
    if (h.ethertype == wire::ethertype::kArp) {
      auto arp = wire::parse_arp(eth->payload);
      if (!arp) {
        ++counters.malformed;
        return;
      }
      peer = arp->sender_mac;
      // RFC 826: a request for one of our protocol addresses gets a reply from that address,
      // with our hardware address, sent to the requester.
      if (arp->op != wire::arp_op::kRequest || !ours(arp->target_ip)) {
        ++counters.ignored;
        return;
      }
      wire::ArpPacket reply;
      reply.op = wire::arp_op::kReply;
      reply.sender_mac = config.mac;
      reply.sender_ip = arp->target_ip;
      reply.target_mac = arp->sender_mac;
      reply.target_ip = arp->sender_ip;
      write_frame(wire::emit_ethernet(
          wire::EthernetHeader{arp->sender_mac, config.mac, wire::ethertype::kArp},
          wire::emit_arp(reply)));
      ++counters.arp_replies;
      return;
    }
    if (h.ethertype != wire::ethertype::kIpv4 ||
        (h.dst != config.mac && h.dst != wire::MacAddr::broadcast())) {
      ++counters.ignored;
      return;
    }
    peer = h.src;
    ++counters.packets_in;
    const std::int64_t now = link::TapLink::now_us();
    // Timers due by now fire first, as they would have on a stack that never sleeps late.
    stack.advance(stack::Instant(now));
    stack.input(eth->payload, stack::Instant(now));
  }

  void read_frames() {
    tap.async_wait(asio::posix::descriptor_base::wait_read,
                   [this](const boost::system::error_code& ec) {
                     if (ec) return;  // closed: the server is going away
                     for (;;) {
                       const ssize_t n = ::read(tap.native_handle(), buffer.data(), buffer.size());
                       if (n < 0 && errno == EINTR) continue;
                       if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
                       if (n <= 0) {
                         // The device is gone (deleted, its namespace removed): the fd stays
                         // readable forever, so waiting again would spin. Stop serving.
                         failure = n < 0 ? errno_text("read from tap " + config.ifname, errno)
                                         : "tap " + config.ifname + " closed";
                         io.stop();
                         return;
                       }
                       handle_frame(wire::ByteSpan(buffer.data(), static_cast<std::size_t>(n)));
                       flush();
                     }
                     read_frames();
                   });
  }
};

wire::Result<std::unique_ptr<TapServer>, std::string> TapServer::create(asio::io_context& io,
                                                                        const ServeConfig& config) {
  auto fd = link::open_tap_fd(config.ifname);
  if (!fd) return fd.error();
  // Attaching gives the tap its carrier; the kernel acts on it (IFF_RUNNING, a bridge port
  // forwarding) in its link watch, up to a second later, and drops frames until then. A tap
  // that is administratively down stays down: it is served anyway, for whoever brings it up.
  target::wait_until_running(config.ifname, std::chrono::seconds(3));
  auto impl = std::make_unique<Impl>(io, config, *fd);
  Impl* p = impl.get();
  agent::StackAgent::Options options;
  options.stack_name = "synack-serve";
  options.seed = config.seed;
  options.before_request = [p] { p->stack.advance(stack::Instant(link::TapLink::now_us())); };
  options.after_request = [p] { p->flush(); };
  try {
    impl->server = std::make_unique<agent::StackServer>(io, p->stack, config.agent, options);
  } catch (const agent::AgentError& e) {
    return std::string(e.what());
  }
  impl->read_frames();
  impl->arm_timer();
  return std::unique_ptr<TapServer>(new TapServer(std::move(impl)));
}

TapServer::TapServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

// Impl's members go in reverse order: the agent server first (it removes the unix socket file
// and uses the stack), then the timer and the tap (closing the fd), then the stack.
TapServer::~TapServer() = default;

std::string TapServer::agent_address() const { return impl_->server->address(); }
const ServeCounters& TapServer::counters() const { return impl_->counters; }
const std::string& TapServer::failure() const { return impl_->failure; }
std::optional<wire::MacAddr> TapServer::peer_mac() const { return impl_->peer; }

}  // namespace synack::serve
