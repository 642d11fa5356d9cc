#include "harness/target/linux.h"

#include <arpa/inet.h>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace synack::target {
namespace {

// Per-namespace settings made before every case, so that Linux runs the cases as written (RFC
// behaviour, not Linux's extensions beyond the RFCs the suite checks) and no state leaks in:
struct Sysctl {
  const char* key;
  const char* value;
};
constexpr std::array kDefaultSysctls = {
    // NewReno (RFC 5681/6582), what the congestion cases check; a new namespace inherits the
    // host's choice (often cubic or bbr).
    Sysctl{"net/ipv4/tcp_congestion_control", "reno"},
    // No ECN negotiation (RFC 3168): the cases' SYNs and SYN,ACKs carry no ECE/CWR.
    Sysctl{"net/ipv4/tcp_ecn", "0"},
    // No RTT/cwnd/ssthresh cached from an earlier connection to the same peer.
    Sysctl{"net/ipv4/tcp_no_metrics_save", "1"},
    // No tail loss probe (RFC 8985 7): the retransmission cases check the RFC 6298 RTO.
    Sysctl{"net/ipv4/tcp_early_retrans", "0"},
    // Loss detection by duplicate ACKs (RFC 5681/6675), not RACK time-based (RFC 8985).
    Sysctl{"net/ipv4/tcp_recovery", "0"},
    // No F-RTO (RFC 5682, experimental): after an RTO, go-back-N as RFC 6298/5681 say.
    Sysctl{"net/ipv4/tcp_frto", "0"},
    // The kernel's default buffer sizes (Documentation/networking/ip-sysctl.rst), not the host's
    // tuning: the window scale and windows Linux offers follow tcp_rmem[2].
    Sysctl{"net/ipv4/tcp_rmem", "4096 131072 6291456"},
    Sysctl{"net/ipv4/tcp_wmem", "4096 16384 4194304"},
    // Small writes go out when written (no autocorking behind unacknowledged data).
    Sysctl{"net/ipv4/tcp_autocorking", "0"},
};

// The script knobs that are Linux sysctls, with the ranges the in-process target accepts.
struct Knob {
  const char* name;
  const char* key;
  long long lo;
  long long hi;
};
constexpr std::array kKnobs = {
    Knob{"tcp_syncookies", "net/ipv4/tcp_syncookies", 0, 2},
    Knob{"tcp_syn_retries", "net/ipv4/tcp_syn_retries", 1, 127},
    Knob{"tcp_synack_retries", "net/ipv4/tcp_synack_retries", 0, 255},
    Knob{"tcp_retries2", "net/ipv4/tcp_retries2", 0, 255},
    Knob{"tcp_orphan_retries", "net/ipv4/tcp_orphan_retries", 0, 255},
    Knob{"tcp_fin_timeout", "net/ipv4/tcp_fin_timeout", 1, 86400},
    Knob{"tcp_keepalive_time", "net/ipv4/tcp_keepalive_time", 1, 32767},
    Knob{"tcp_keepalive_intvl", "net/ipv4/tcp_keepalive_intvl", 1, 32767},
    Knob{"tcp_keepalive_probes", "net/ipv4/tcp_keepalive_probes", 1, 127},
    Knob{"tcp_timestamps", "net/ipv4/tcp_timestamps", 0, 1},
    Knob{"tcp_sack", "net/ipv4/tcp_sack", 0, 1},
    Knob{"tcp_abort_on_overflow", "net/ipv4/tcp_abort_on_overflow", 0, 1},
    // Per namespace since Linux 4.x's netns conversion; on a kernel where it is global the file
    // is absent inside the namespace and the knob reports unsupported (never the host's value).
    Knob{"tcp_challenge_ack_limit", "net/ipv4/tcp_challenge_ack_limit", 0, 1 << 30},
    Knob{"tcp_slow_start_after_idle", "net/ipv4/tcp_slow_start_after_idle", 0, 1},
    // Linux 6.15 and later; on an older kernel the file is absent and the knob is unsupported.
    Knob{"tcp_rto_max_ms", "net/ipv4/tcp_rto_max_ms", 1000, 120000},
    Knob{"somaxconn", "net/core/somaxconn", 1, 65535},
};

SockResult ok(std::int64_t ret = 0) { return SockResult{ret, 0, {}, 0}; }
SockResult fail(int err) { return SockResult{-1, err, {}, 0}; }
SockResult from_syscall(long long r) { return r < 0 ? fail(errno) : ok(r); }

sockaddr_in inet(std::uint32_t addr, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(addr);
  return a;
}

// SOL_SOCKET / IPPROTO_TCP / IPPROTO_IP and the option number for a script's option name.
std::optional<std::pair<int, int>> sockopt(const std::string& name) {
  static const std::map<std::string, std::pair<int, int>> kByName = {
      {"SO_REUSEADDR", {SOL_SOCKET, SO_REUSEADDR}},
      {"SO_KEEPALIVE", {SOL_SOCKET, SO_KEEPALIVE}},
      {"SO_RCVBUF", {SOL_SOCKET, SO_RCVBUF}},
      {"SO_SNDBUF", {SOL_SOCKET, SO_SNDBUF}},
      {"SO_ERROR", {SOL_SOCKET, SO_ERROR}},
      {"SO_LINGER", {SOL_SOCKET, SO_LINGER}},
      {"TCP_NODELAY", {IPPROTO_TCP, TCP_NODELAY}},
      {"TCP_MAXSEG", {IPPROTO_TCP, TCP_MAXSEG}},
      {"TCP_KEEPIDLE", {IPPROTO_TCP, TCP_KEEPIDLE}},
      {"TCP_KEEPINTVL", {IPPROTO_TCP, TCP_KEEPINTVL}},
      {"TCP_KEEPCNT", {IPPROTO_TCP, TCP_KEEPCNT}},
      {"TCP_USER_TIMEOUT", {IPPROTO_TCP, TCP_USER_TIMEOUT}},
      {"IP_TOS", {IPPROTO_IP, IP_TOS}},
      {"IP_TTL", {IPPROTO_IP, IP_TTL}}};
  auto it = kByName.find(name);
  if (it == kByName.end()) return std::nullopt;
  return it->second;
}

// The state the kernel's socket table holds for a connection, by its 4-tuple (sock_diag, an exact
// lookup that also finds TIME-WAIT mini-sockets), or nullopt. `netlink` is a NETLINK_SOCK_DIAG
// socket in the target's namespace.
std::optional<int> diag_state(int netlink, const ConnKey& k) {
  struct {
    nlmsghdr nlh;
    inet_diag_req_v2 req;
  } msg{};
  msg.nlh.nlmsg_len = sizeof msg;
  msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  msg.nlh.nlmsg_flags = NLM_F_REQUEST;
  msg.req.sdiag_family = AF_INET;
  msg.req.sdiag_protocol = IPPROTO_TCP;
  msg.req.idiag_states = ~0U;
  msg.req.id.idiag_sport = htons(k.target_port);
  msg.req.id.idiag_dport = htons(k.harness_port);
  msg.req.id.idiag_src[0] = htonl(k.target_addr);
  msg.req.id.idiag_dst[0] = htonl(k.harness_addr);
  msg.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  msg.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  if (::send(netlink, &msg, sizeof msg, 0) != static_cast<ssize_t>(sizeof msg)) return std::nullopt;
  std::array<std::uint8_t, 8192> buf{};
  const ssize_t n = ::recv(netlink, buf.data(), buf.size(), 0);
  if (n < static_cast<ssize_t>(NLMSG_LENGTH(sizeof(inet_diag_msg)))) return std::nullopt;
  nlmsghdr h{};
  std::memcpy(&h, buf.data(), sizeof h);
  if (h.nlmsg_type != SOCK_DIAG_BY_FAMILY) return std::nullopt;  // NLMSG_ERROR: no such socket
  inet_diag_msg d{};
  std::memcpy(&d, buf.data() + NLMSG_LENGTH(0), sizeof d);
  return d.idiag_state;
}

}  // namespace

wire::Result<std::unique_ptr<LinuxTarget>, std::string> LinuxTarget::create() {
  std::unique_ptr<LinuxTarget> t(new LinuxTarget());
  auto ns = NetNs::create();
  if (!ns) return ns.error();
  t->ns_ = std::move(*ns);
  const NetNs& n = *t->ns_;
  // IPv6 off before the tap exists, so it never sends a router solicitation or MLD report.
  for (const char* key : {"net/ipv6/conf/all/disable_ipv6", "net/ipv6/conf/default/disable_ipv6"}) {
    if (std::string e = n.write_sysctl(key, "1"); !e.empty() && e != "absent") {
      return n.name() + ": " + e;
    }
  }
  for (const Sysctl& s : kDefaultSysctls) {
    if (std::string e = n.write_sysctl(s.key, s.value); !e.empty()) {
      return n.name() + ": setting " + s.key + "=" + s.value + ": " + e;
    }
  }
  {
    const NetNs::Enter in(n);
    if (!in.error().empty()) return in.error();
    t->diag_ = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (t->diag_ < 0) return n.name() + ": sock_diag netlink socket: " + std::to_string(errno);
    const timeval limit{1, 0};  // an answer is immediate; never hang on a lost one
    ::setsockopt(t->diag_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    link::TapConfig cfg;
    cfg.ifname = kTapName;
    cfg.own_mac = *wire::MacAddr::parse(kHarnessMac);
    cfg.own_ip = wire::Ipv4Addr{kHarnessAddr};
    cfg.peer_mac = *wire::MacAddr::parse(kTargetMac);
    auto l = link::TapLink::open(cfg);
    if (!l) return n.name() + ": " + l.error();
    t->link_ = std::move(*l);
  }
  const std::string tap = kTapName;
  const std::string harness = wire::Ipv4Addr{kHarnessAddr}.to_string();
  if (std::string e = n.ip_batch({
          "link set lo up",
          "link set " + tap + " address " + kTargetMac,
          "addr add " + wire::Ipv4Addr{kTargetAddr}.to_string() + "/24 dev " + tap,
          "addr add " + wire::Ipv4Addr{kTargetAliasAddr}.to_string() + "/24 dev " + tap,
          "link set " + tap + " up",
          "neigh replace " + harness + " lladdr " + kHarnessMac + " dev " + tap + " nud permanent",
          "route add default via " + harness + " dev " + tap,
      });
      !e.empty()) {
    return e;
  }
  return t;
}

LinuxTarget::~LinuxTarget() {
  for (int fd : fds_) ::close(fd);
  if (diag_ >= 0) ::close(diag_);
  link_.reset();
  ns_.reset();
}

OptionStatus LinuxTarget::set_option(const std::string& name, const std::string& value) {
  long long v = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  const bool number = ec == std::errc() && end == value.data() + value.size();
  for (const Knob& k : kKnobs) {
    if (name != k.name) continue;
    if (!number || v < k.lo || v > k.hi) return OptionStatus::kBadValue;
    const std::string e = ns_->write_sysctl(k.key, std::to_string(v));
    if (e == "absent") return OptionStatus::kUnsupported;  // global on this kernel
    return e.empty() ? OptionStatus::kApplied : OptionStatus::kBadValue;
  }
  // synack-only knobs (tcp_msl, tcp_delack_ms, mss) and anything else: Linux has no such
  // per-namespace setting (its TIME-WAIT and delayed-ACK timers are compiled in).
  return OptionStatus::kUnsupported;
}

void LinuxTarget::inject(std::span<const std::uint8_t> packet) {
  if (std::string e = link_->send(packet); !e.empty() && link_error_.empty()) link_error_ = e;
  link_->drain();
}

std::optional<Captured> LinuxTarget::next_packet(std::int64_t deadline_us) {
  auto r = link_->receive(deadline_us);
  if (!r) return std::nullopt;
  return Captured{std::move(r->packet), r->time_us};
}

SockResult LinuxTarget::call(const SockCall& c) {
  SockResult r = do_call(c);
  // Remember each fd's connection while getpeername() still works (see tcp_info()).
  if (c.op == SockCall::Op::kAccept && r.ret >= 0) connection(static_cast<int>(r.ret));
  if (c.op != SockCall::Op::kClose && owns(c.fd)) connection(c.fd);
  link_->drain();  // stamp what the call made the kernel send, now
  return r;
}

SockResult LinuxTarget::do_call(const SockCall& c) {
  using Op = SockCall::Op;
  if (c.op == Op::kSocket) {
    const NetNs::Enter in(*ns_);
    if (!in.error().empty()) return fail(EPERM);
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0) return fail(errno);
    adopt(fd);
    return ok(fd);
  }
  // Only sockets this target made: any other number is EBADF, never one of the process's own
  // fds (the tap, another job's sockets, stdout).
  if (!owns(c.fd)) return fail(EBADF);
  switch (c.op) {
    case Op::kSocket:
      break;
    case Op::kBind: {
      const sockaddr_in a = inet(c.addr, c.port);
      return from_syscall(::bind(c.fd, reinterpret_cast<const sockaddr*>(&a), sizeof a));  // NOLINT
    }
    case Op::kListen:
      return from_syscall(::listen(c.fd, c.backlog));
    case Op::kAccept: {
      sockaddr_in peer{};
      socklen_t len = sizeof peer;
      const int fd = ::accept4(c.fd, reinterpret_cast<sockaddr*>(&peer), &len,  // NOLINT
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return fail(errno);
      adopt(fd);
      SockResult r = ok(fd);
      r.value = ntohs(peer.sin_port);
      return r;
    }
    case Op::kConnect: {
      const std::uint32_t to = c.addr != 0 ? c.addr : kHarnessAddr;
      const sockaddr_in a = inet(to, c.port);
      SockResult r =
          from_syscall(::connect(c.fd, reinterpret_cast<const sockaddr*>(&a), sizeof a));  // NOLINT
      if (r.ret == -1 && r.err == EINPROGRESS && script_nonblocking_.count(c.fd) == 0) {
        connecting_[c.fd] = {to, c.port};
      }
      return r;
    }
    case Op::kRead: {
      SockResult r;
      r.data.resize(c.length);
      const ssize_t n = ::recv(c.fd, r.data.data(), c.length, MSG_DONTWAIT);
      if (n < 0) return fail(errno);
      r.ret = n;
      r.data.resize(static_cast<std::size_t>(n));
      return r;
    }
    case Op::kWrite:
      return from_syscall(::send(c.fd, c.data.data(), c.data.size(), MSG_DONTWAIT | MSG_NOSIGNAL));
    case Op::kShutdown:
      return from_syscall(::shutdown(c.fd, c.how == 0   ? SHUT_RD
                                           : c.how == 1 ? SHUT_WR
                                                        : SHUT_RDWR));
    case Op::kClose: {
      // Linux's close() with SO_LINGER {on, N > 0} sleeps until the FIN is acknowledged even on
      // a non-blocking socket; the runner already waited as the script says, so linger goes off
      // here and close() returns at once (the kernel finishes the orderly close).
      if (linger_.count(c.fd) != 0) {
        const linger off{0, 0};
        ::setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &off, sizeof off);
      }
      fds_.erase(c.fd);
      keys_.erase(c.fd);
      connecting_.erase(c.fd);
      connect_error_.erase(c.fd);
      script_nonblocking_.erase(c.fd);
      linger_.erase(c.fd);
      return from_syscall(::close(c.fd));
    }
    case Op::kSetsockopt: {
      const auto opt = sockopt(c.option);
      if (!opt) return fail(ENOPROTOOPT);
      if (c.option == "SO_LINGER") {
        const linger l{c.linger_on ? 1 : 0, c.value};
        const int rc = ::setsockopt(c.fd, opt->first, opt->second, &l, sizeof l);
        if (rc == 0 && c.linger_on && c.value > 0) {
          linger_[c.fd] = c.value;
        } else if (rc == 0) {
          linger_.erase(c.fd);
        }
        return from_syscall(rc);
      }
      const int v = c.value;
      return from_syscall(::setsockopt(c.fd, opt->first, opt->second, &v, sizeof v));
    }
    case Op::kGetsockopt: {
      const auto opt = sockopt(c.option);
      if (!opt) return fail(ENOPROTOOPT);
      if (c.option == "SO_LINGER") {
        linger l{};
        socklen_t len = sizeof l;
        if (::getsockopt(c.fd, opt->first, opt->second, &l, &len) != 0) return fail(errno);
        SockResult r = ok(0);
        r.value = l.l_onoff != 0 ? l.l_linger : 0;
        return r;
      }
      if (c.option == "SO_ERROR" && connect_error_.count(c.fd) != 0) {
        SockResult r = ok(0);  // the error the finished connect() took from the socket
        r.value = connect_error_.at(c.fd);
        connect_error_.erase(c.fd);
        return r;
      }
      int v = 0;
      socklen_t len = sizeof v;
      if (::getsockopt(c.fd, opt->first, opt->second, &v, &len) != 0) return fail(errno);
      SockResult r = ok(0);
      r.value = v;
      return r;
    }
    case Op::kSetNonblocking:
      // The real fd stays non-blocking; the script's flag is kept for F_GETFL and the runner.
      if (c.nonblocking) {
        script_nonblocking_.insert(c.fd);
      } else {
        script_nonblocking_.erase(c.fd);
      }
      return ok(0);
    case Op::kGetNonblocking: {
      // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): fcntl is the kernel's interface
      const int flags = ::fcntl(c.fd, F_GETFL);
      if (flags < 0) return fail(errno);
      const bool nb = script_nonblocking_.count(c.fd) != 0;
      return ok((flags & ~O_NONBLOCK) | (nb ? O_NONBLOCK : 0));
    }
    case Op::kPoll: {
      pollfd p{c.fd, static_cast<short>(c.poll_events), 0};
      const int n = ::poll(&p, 1, 0);
      if (n < 0) return fail(errno);
      SockResult r = ok(n);
      r.value = static_cast<unsigned short>(p.revents);
      return r;
    }
    case Op::kIoctlInq:
    case Op::kIoctlOutq: {
      int v = 0;
      // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
      if (::ioctl(c.fd, c.op == Op::kIoctlInq ? SIOCINQ : SIOCOUTQ, &v) != 0) return fail(errno);
      SockResult r = ok(0);
      r.value = v;
      return r;
    }
  }
  return fail(EINVAL);
}

unsigned LinuxTarget::poll(int fd) {
  link_->drain();
  if (!owns(fd)) return POLLNVAL;
  pollfd p{fd, POLLIN | POLLOUT | POLLPRI | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) < 0) return 0;
  unsigned ev = static_cast<unsigned short>(p.revents);
  const auto c = connecting_.find(fd);
  if (c == connecting_.end() || (ev & (POLLOUT | POLLERR | POLLHUP)) == 0) return ev;
  // The handshake ended. A blocking connect() would return now, and the socket would be
  // connected as far as the socket layer goes (a second connect() gives EISCONN, not 0): call
  // connect() again, as a non-blocking caller must, and report its outcome. A refused or reset
  // connect also sets POLLOUT on Linux; the runner must see only the error.
  const sockaddr_in a = inet(c->second.first, c->second.second);
  connecting_.erase(c);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0 ||  // NOLINT
      errno == EISCONN) {
    return ev;
  }
  connect_error_[fd] = errno;
  return (ev & ~static_cast<unsigned>(POLLOUT)) | POLLERR;
}

std::optional<TcpInfo> LinuxTarget::tcp_info(int fd) {
  if (!owns(fd)) return std::nullopt;
  // Room for fields newer than this system's header (tcpi_rcv_wnd, Linux 6.2+).
  std::array<std::uint8_t, 512> buf{};
  socklen_t len = buf.size();
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, buf.data(), &len) != 0) return std::nullopt;
  struct tcp_info t {};
  std::memcpy(&t, buf.data(), std::min<std::size_t>(len, sizeof t));
  TcpInfo i;
  i["state"] = t.tcpi_state;  // Linux's own numbering, which the scripts use
  // A connection that reached TIME-WAIT lives on in a timewait mini-socket and the fd's own
  // TCP_INFO reads TCP_CLOSE: the state of the connection is the kernel table's.
  constexpr int kTcpClose = 7;
  const auto key = keys_.find(fd);
  if (t.tcpi_state == kTcpClose && key != keys_.end() && diag_ >= 0) {
    // The exact lookup falls back to a listener on the port: that is not this connection.
    constexpr int kTcpListen = 10;
    if (auto s = diag_state(diag_, key->second); s && *s != kTcpListen) i["state"] = *s;
  }
  i["ca_state"] = t.tcpi_ca_state;
  i["retransmits"] = t.tcpi_retransmits;
  i["probes"] = t.tcpi_probes;
  i["backoff"] = t.tcpi_backoff;
  i["options"] = t.tcpi_options;
  i["snd_wscale"] = t.tcpi_snd_wscale;
  i["rcv_wscale"] = t.tcpi_rcv_wscale;
  i["rto"] = t.tcpi_rto;
  i["snd_mss"] = t.tcpi_snd_mss;
  i["unacked"] = t.tcpi_unacked;  // segments on Linux (bytes on inproc)
  i["total_retrans"] = t.tcpi_total_retrans;
  i["snd_cwnd"] = t.tcpi_snd_cwnd;
  i["snd_ssthresh"] = t.tcpi_snd_ssthresh;
  i["rtt"] = t.tcpi_rtt;
  i["rttvar"] = t.tcpi_rttvar;
  i["segs_in"] = t.tcpi_segs_in;
  i["segs_out"] = t.tcpi_segs_out;
  constexpr std::size_t kSndWnd = offsetof(struct tcp_info, tcpi_snd_wnd);
  if (len >= kSndWnd + 4) i["snd_wnd"] = t.tcpi_snd_wnd;
  if (len >= kSndWnd + 8) {  // tcpi_rcv_wnd follows tcpi_snd_wnd
    std::uint32_t rcv_wnd = 0;
    std::memcpy(&rcv_wnd, buf.data() + kSndWnd + 4, sizeof rcv_wnd);
    i["rcv_wnd"] = rcv_wnd;
  }
  return i;
}

std::optional<ConnKey> LinuxTarget::connection(int fd) {
  if (!owns(fd)) return std::nullopt;
  // After a RST getpeername() fails; the connection the fd had is still the one meant.
  const auto known = keys_.find(fd);
  sockaddr_in local{};
  sockaddr_in peer{};
  socklen_t ll = sizeof local;
  socklen_t pl = sizeof peer;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &ll) != 0 ||  // NOLINT
      ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &pl) != 0) {   // NOLINT
    if (known != keys_.end()) return known->second;
    return std::nullopt;
  }
  const ConnKey k{ntohl(local.sin_addr.s_addr), ntohs(local.sin_port), ntohl(peer.sin_addr.s_addr),
                  ntohs(peer.sin_port)};
  keys_[fd] = k;
  return k;
}

}  // namespace synack::target
