#include "harness/target/tap.h"

#include <cerrno>
#include <cstring>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <system_error>
#include <thread>
#include <unistd.h>

namespace synack::target {

std::optional<unsigned> interface_flags(const std::string& ifname) {
  if (ifname.empty() || ifname.size() >= IFNAMSIZ) return std::nullopt;
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, ifname.data(), ifname.size());
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): ioctl is the kernel's interface
  const int rc = ::ioctl(fd, SIOCGIFFLAGS, &ifr);
  ::close(fd);
  if (rc != 0) return std::nullopt;
  return static_cast<unsigned short>(ifr.ifr_flags);
}

bool wait_until_running(const std::string& ifname, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto flags = interface_flags(ifname);
    if (flags && (*flags & IFF_RUNNING) != 0) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string tap_unavailable() {
  if (::geteuid() != 0) {
    return "needs root (or CAP_NET_ADMIN) to attach to a tap device; run it with sudo";
  }
  if (::access("/dev/net/tun", R_OK | W_OK) != 0) {
    return "no usable /dev/net/tun (" + std::generic_category().message(errno) +
           "); load the tun module, or give the container the device";
  }
  return {};
}

wire::Result<TapSpec, std::string> parse_tap_spec(std::string_view text) {
  const std::string whole(text);
  if (!text.starts_with("tap:")) return "target '" + whole + "' does not start with 'tap:'";
  std::string_view rest = text.substr(4);
  TapSpec spec;
  bool first = true;
  while (true) {
    const auto comma = rest.find(',');
    const std::string_view part = rest.substr(0, comma);
    if (first) {
      if (part.empty() || part.size() > 15) {
        return "target '" + whole + "': the tap device name must be 1 to 15 characters";
      }
      spec.ifname = part;
      first = false;
    } else if (part.starts_with("agent=")) {
      spec.agent = part.substr(6);
      if (auto a = agent::parse_agent_address(spec.agent); !a) {
        return "target '" + whole + "': " + a.error().message;
      }
    } else if (part.starts_with("mac=")) {
      spec.mac = wire::MacAddr::parse(part.substr(4));
      if (!spec.mac) {
        return "target '" + whole + "': mac= needs aa:bb:cc:dd:ee:ff, not '" +
               std::string(part.substr(4)) + "'";
      }
    } else {
      return "target '" + whole + "': unknown part '" + std::string(part) +
             "' (expected agent=unix:PATH|HOST:PORT or mac=MAC)";
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return spec;
}

wire::Result<std::unique_ptr<link::TapLink>, std::string> TapTarget::open_link(
    const TapSpec& spec) {
  if (spec.ifname.size() >= IFNAMSIZ || !interface_flags(spec.ifname)) {
    return "tap device " + spec.ifname +
           " does not exist in this network namespace (create it first, e.g. ip tuntap add dev " +
           spec.ifname + " mode tap, with the stack under test on the other side)";
  }
  link::TapConfig cfg;
  cfg.ifname = spec.ifname;
  cfg.own_mac = *wire::MacAddr::parse(kHarnessMac);
  cfg.own_ip = wire::Ipv4Addr{kHarnessAddr};
  cfg.peer_mac = spec.mac;
  auto l = link::TapLink::open(cfg);
  if (!l) return l.error();
  // Attaching gives the tap its carrier, but the kernel acts on that (IFF_RUNNING, a bridge
  // port forwarding) in its link watch, up to a second later; frames before then are lost.
  if (!wait_until_running(spec.ifname, std::chrono::seconds(3))) {
    return "tap device " + spec.ifname +
           " is not running 3 s after attaching to it: is it up? (ip link set " + spec.ifname +
           " up)";
  }
  return std::move(*l);
}

wire::Result<std::unique_ptr<TapTarget>, std::string> TapTarget::create(
    const TapSpec& spec, std::chrono::milliseconds agent_timeout) {
  auto l = open_link(spec);
  if (!l) return l.error();
  auto t = create(spec, **l, agent_timeout);
  if (t) (*t)->owned_link_ = std::move(*l);
  return t;
}

wire::Result<std::unique_ptr<TapTarget>, std::string> TapTarget::create(
    const TapSpec& spec, link::TapLink& link, std::chrono::milliseconds agent_timeout) {
  std::unique_ptr<TapTarget> t(new TapTarget());
  t->link_ = &link;
  if (!spec.agent.empty()) {
    try {
      agent::AgentClient::Options o;
      o.timeout = agent_timeout;
      o.harness_addr = kHarnessAddr;
      t->agent_ = std::make_unique<agent::AgentClient>(spec.agent, o);
      t->agent_->reset();
    } catch (const agent::AgentError& e) {
      return std::string(e.what());
    }
  }
  // What the stack sent before the reset (a previous case's retransmissions) is not this case's.
  t->link_->drain();
  while (t->link_->receive(0)) {
  }
  return t;
}

TapTarget::~TapTarget() = default;

agent::AgentClient& TapTarget::agent(const char* what) {
  if (!agent_) {
    throw agent::AgentError(std::string("tap target on ") + link_->ifname() + " has no agent for " +
                            what + " (add ,agent=unix:PATH or ,agent=HOST:PORT)");
  }
  return *agent_;
}

OptionStatus TapTarget::set_option(const std::string& name, const std::string& value) {
  if (!agent_) return OptionStatus::kUnsupported;
  return agent_->set_option(name, value);
}

void TapTarget::inject(std::span<const std::uint8_t> packet) {
  if (std::string e = link_->send(packet); !e.empty() && link_error_.empty()) link_error_ = e;
  link_->drain();
}

std::optional<Captured> TapTarget::next_packet(std::int64_t deadline_us) {
  auto r = link_->receive(deadline_us);
  if (!r) return std::nullopt;
  return Captured{std::move(r->packet), r->time_us};
}

SockResult TapTarget::call(const SockCall& c) {
  SockResult r = agent("socket calls").call(c);
  link_->drain();  // stamp what the call made the stack send, now
  return r;
}

unsigned TapTarget::poll(int fd) {
  link_->drain();
  return agent("poll").poll(fd);
}

std::optional<TcpInfo> TapTarget::tcp_info(int fd) {
  if (!agent_) return std::nullopt;
  return agent_->tcp_info(fd);
}

std::optional<ConnKey> TapTarget::connection(int fd) {
  if (!agent_) return std::nullopt;
  return agent_->connection(fd);
}

}  // namespace synack::target
