#include "harness/target/stack_calls.h"

#include <charconv>
#include <map>

namespace synack::target {
namespace {

using stack::SocketOption;

std::optional<SocketOption> socket_option(const std::string& name) {
  static const std::map<std::string, SocketOption> kByName = {
      {"SO_REUSEADDR", SocketOption::kReuseAddr},
      {"SO_KEEPALIVE", SocketOption::kKeepAlive},
      {"SO_RCVBUF", SocketOption::kRcvBuf},
      {"SO_SNDBUF", SocketOption::kSndBuf},
      {"SO_ERROR", SocketOption::kError},
      {"TCP_NODELAY", SocketOption::kNoDelay},
      {"TCP_MAXSEG", SocketOption::kMaxSeg},
      {"TCP_KEEPIDLE", SocketOption::kKeepIdle},
      {"TCP_KEEPINTVL", SocketOption::kKeepInterval},
      {"TCP_KEEPCNT", SocketOption::kKeepCount},
      {"IP_TOS", SocketOption::kTos},
      {"IP_TTL", SocketOption::kTtl},
      {"TCP_USER_TIMEOUT", SocketOption::kUserTimeout},
      {"SO_LINGER", SocketOption::kLinger}};
  auto it = kByName.find(name);
  if (it == kByName.end()) return std::nullopt;
  return it->second;
}

// Linux's numbering of TCP states in TCP_INFO (include/net/tcp_states.h).
int linux_state(stack::State s) {
  using stack::State;
  switch (s) {
    case State::kEstablished:
      return 1;
    case State::kSynSent:
      return 2;
    case State::kSynReceived:
      return 3;
    case State::kFinWait1:
      return 4;
    case State::kFinWait2:
      return 5;
    case State::kTimeWait:
      return 6;
    case State::kClosed:
      return 7;
    case State::kCloseWait:
      return 8;
    case State::kLastAck:
      return 9;
    case State::kListen:
      return 10;
    case State::kClosing:
      return 11;
  }
  return 7;
}

SockResult ok(std::int64_t ret = 0) { return SockResult{ret, 0, {}, 0}; }
SockResult fail(int err) { return SockResult{-1, err, {}, 0}; }

template <class T>
SockResult from(const stack::SysResult<T>& r, std::int64_t ret_on_ok = 0) {
  return r.ok() ? ok(ret_on_ok) : fail(r.error());
}

}  // namespace

SockResult stack_call(stack::Stack& s, const SockCall& c, std::uint32_t default_peer_addr) {
  SockResult r;
  switch (c.op) {
    case SockCall::Op::kSocket: {
      auto fd = s.socket();
      r = fd.ok() ? ok(fd.value()) : fail(fd.error());
      break;
    }
    case SockCall::Op::kBind:
      r = from(s.bind(c.fd, stack::Endpoint{c.addr, c.port}));
      break;
    case SockCall::Op::kListen:
      r = from(s.listen(c.fd, c.backlog));
      break;
    case SockCall::Op::kAccept: {
      stack::Endpoint peer;
      auto fd = s.accept(c.fd, &peer);
      r = fd.ok() ? ok(fd.value()) : fail(fd.error());
      r.value = peer.port;
      break;
    }
    case SockCall::Op::kConnect:
      r = from(s.connect(c.fd, stack::Endpoint{c.addr != 0 ? c.addr : default_peer_addr, c.port}));
      break;
    case SockCall::Op::kRead: {
      auto data = s.read(c.fd, c.length);
      if (data.ok()) {
        r = ok(static_cast<std::int64_t>(data.value().size()));
        r.data = data.value();
      } else {
        r = fail(data.error());
      }
      break;
    }
    case SockCall::Op::kWrite: {
      auto n = s.write(c.fd, c.data);
      r = n.ok() ? ok(static_cast<std::int64_t>(n.value())) : fail(n.error());
      break;
    }
    case SockCall::Op::kShutdown:
      r = from(s.shutdown(c.fd, c.how == 0   ? stack::Shutdown::kRead
                                : c.how == 1 ? stack::Shutdown::kWrite
                                             : stack::Shutdown::kBoth));
      break;
    case SockCall::Op::kClose:
      r = from(s.close(c.fd));
      break;
    case SockCall::Op::kSetsockopt: {
      const auto opt = socket_option(c.option);
      if (!opt) {
        r = fail(ENOPROTOOPT);
      } else if (*opt == SocketOption::kLinger) {
        r = from(s.setsockopt_linger(c.fd, c.linger_on, c.value));
      } else {
        r = from(s.setsockopt(c.fd, *opt, c.value));
      }
      break;
    }
    case SockCall::Op::kGetsockopt: {
      const auto opt = socket_option(c.option);
      if (!opt) {
        r = fail(ENOPROTOOPT);
        break;
      }
      auto v = s.getsockopt(c.fd, *opt);
      r = v.ok() ? ok(0) : fail(v.error());
      if (v.ok()) r.value = v.value();
      break;
    }
    case SockCall::Op::kSetNonblocking:
    case SockCall::Op::kGetNonblocking:
      // Every stack call is non-blocking; the runner keeps O_NONBLOCK and blocks for the script.
      r = (s.events(c.fd) & 0x020U) != 0 ? fail(EBADF) : ok(0);
      break;
    case SockCall::Op::kPoll: {
      const unsigned ev = s.events(c.fd);
      r = ok((ev & (c.poll_events | 0x038U)) != 0 ? 1 : 0);  // ERR, HUP, NVAL always reported
      r.value = static_cast<int>(ev & (c.poll_events | 0x038U));
      break;
    }
    case SockCall::Op::kIoctlInq:
    case SockCall::Op::kIoctlOutq: {
      auto n = c.op == SockCall::Op::kIoctlInq ? s.unread_bytes(c.fd) : s.unsent_bytes(c.fd);
      r = n.ok() ? ok(0) : fail(n.error());
      if (n.ok()) r.value = static_cast<int>(n.value());
      break;
    }
  }
  return r;
}

std::optional<TcpInfo> stack_tcp_info(const stack::Stack& s, int fd) {
  if (s.listen_queues(fd)) return TcpInfo{{"state", 10}};
  const auto snap = s.snapshot(fd);
  if (!snap) {
    if ((s.events(fd) & 0x020U) != 0) return std::nullopt;  // no such fd
    return TcpInfo{{"state", 7}};                           // a socket without a connection
  }
  TcpInfo i;
  i["state"] = linux_state(snap->state);
  i["retransmits"] = snap->retransmits;
  i["probes"] = snap->keepalive_probes_sent;
  i["backoff"] = snap->retransmits;
  i["options"] = (snap->timestamps ? 1 : 0) | (snap->sack_permitted ? 2 : 0) |
                 (snap->snd_wscale != 0 || snap->rcv_wscale != 0 ? 4 : 0);
  i["snd_wscale"] = snap->snd_wscale;
  i["rcv_wscale"] = snap->rcv_wscale;
  i["rto"] = snap->rto.count();
  i["snd_mss"] = snap->snd_mss;
  // Linux reports the congestion window and ssthresh in segments, an unset ssthresh as
  // TCP_INFINITE_SSTHRESH, and RTT figures in microseconds.
  if (snap->snd_mss != 0 && snap->cwnd != 0) {
    i["snd_cwnd"] = snap->cwnd / snap->snd_mss;
    constexpr std::int64_t kInfiniteSsthresh = 0x7fffffff;
    i["snd_ssthresh"] =
        snap->ssthresh >= 0x3fffffffU ? kInfiniteSsthresh : snap->ssthresh / snap->snd_mss;
    i["ca_state"] = snap->in_recovery ? 3 : 0;  // TCP_CA_Recovery : TCP_CA_Open
  }
  if (snap->srtt) {
    i["rtt"] = snap->srtt->count();
    i["rttvar"] = snap->rttvar.count();
  }
  i["unacked"] = static_cast<std::int64_t>(stack::distance(snap->snd_una, snap->snd_max));
  i["total_retrans"] = static_cast<std::int64_t>(snap->retransmitted_segs);
  i["snd_wnd"] = snap->snd_wnd;
  i["rcv_wnd"] = snap->rcv_wnd;
  i["segs_in"] = static_cast<std::int64_t>(snap->segs_in);
  i["segs_out"] = static_cast<std::int64_t>(snap->segs_out);
  return i;
}

std::optional<ConnKey> stack_connection(const stack::Stack& s, int fd) {
  const auto snap = s.snapshot(fd);
  if (!snap) return std::nullopt;
  return ConnKey{snap->local_addr, snap->local_port, snap->remote_addr, snap->remote_port};
}

OptionStatus apply_stack_option(stack::StackConfig& config, const std::string& name,
                                const std::string& value) {
  long long v = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || end != value.data() + value.size()) return OptionStatus::kBadValue;
  auto seconds = [](long long s) { return stack::Duration(std::chrono::seconds(s)); };
  auto in = [&](long long lo, long long hi) { return v >= lo && v <= hi; };
  stack::StackConfig& c = config;
  if (name == "tcp_syncookies" && in(0, 2)) {
    c.syncookies = v != 0;
  } else if (name == "tcp_syn_retries" && in(1, 127)) {
    c.syn_retries = static_cast<int>(v);
  } else if (name == "tcp_synack_retries" && in(0, 255)) {
    c.synack_retries = static_cast<int>(v);
  } else if (name == "tcp_retries2" && in(0, 255)) {
    c.retries2 = static_cast<int>(v);
  } else if (name == "tcp_orphan_retries" && in(0, 255)) {
    c.orphan_retries = v == 0 ? 8 : static_cast<int>(v);  // Linux: 0 means 8
  } else if (name == "tcp_fin_timeout" && in(1, 86400)) {
    c.fin_timeout = seconds(v);
  } else if (name == "tcp_keepalive_time" && in(1, 32767)) {
    c.keepalive_idle = seconds(v);
  } else if (name == "tcp_keepalive_intvl" && in(1, 32767)) {
    c.keepalive_interval = seconds(v);
  } else if (name == "tcp_keepalive_probes" && in(1, 127)) {
    c.keepalive_probes = static_cast<int>(v);
  } else if (name == "tcp_timestamps" && in(0, 1)) {
    c.timestamps = v != 0;
  } else if (name == "tcp_sack" && in(0, 1)) {
    c.sack = v != 0;
  } else if (name == "tcp_abort_on_overflow" && in(0, 1)) {
    c.accept_overflow = v != 0 ? stack::AcceptOverflow::kReset : stack::AcceptOverflow::kDrop;
  } else if (name == "tcp_challenge_ack_limit" && in(0, 1 << 30)) {
    c.challenge_ack_limit = static_cast<int>(v);
  } else if (name == "tcp_slow_start_after_idle" && in(0, 1)) {
    c.slow_start_after_idle = v != 0;
  } else if (name == "tcp_rto_max_ms" && in(1000, 120000)) {  // RFC 6298 2.5: at least 60 s
    c.max_rto = std::chrono::milliseconds(v);                 // by default; Linux allows 1 s
  } else if (name == "somaxconn" && in(1, 65535)) {
    c.max_backlog = static_cast<int>(v);
  } else if (name == "mss" && in(88, 65535)) {  // the MSS option our SYNs carry
    c.mss = static_cast<std::uint16_t>(v);
  } else if (name == "tcp_msl" && in(1, 3600)) {  // synack only: Linux's TIME-WAIT is fixed
    c.msl = seconds(v);
  } else if (name == "tcp_delack_ms" && in(0, 500)) {  // synack only (MUST-40: < 500 ms)
    c.delayed_ack = std::chrono::milliseconds(v);
  } else {
    const bool known = name.starts_with("tcp_") || name == "somaxconn" || name == "mss";
    return known && name != "tcp_window_scaling" ? OptionStatus::kBadValue
                                                 : OptionStatus::kUnsupported;
  }
  return OptionStatus::kApplied;
}

}  // namespace synack::target
