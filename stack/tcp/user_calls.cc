// The user interface (RFC 9293 3.9.1, 3.10.1-3.10.6) as BSD-style socket calls that never block.
//
// Data on a SYN: RFC 9293 3.10.7.2 says text arriving with a SYN "should be queued for
// processing later". This stack does not take it: it acknowledges only the SYN, so the peer
// sends the data again once the connection is established. That is what a Linux host without
// TCP Fast Open does; it also keeps a SYN flood from pinning receive buffers per half-open
// connection. (README, "Deviations".)
#include <algorithm>

#include "stack/tcp/engine.h"

namespace synack::stack {
namespace {

constexpr std::uint32_t kMinRcvBuf = 2304;   // Linux SOCK_MIN_RCVBUF
constexpr std::uint32_t kMinSndBuf = 4608;   // Linux SOCK_MIN_SNDBUF
constexpr int kMaxKeepaliveSeconds = 32767;  // Linux MAX_TCP_KEEPIDLE / KEEPINTVL
constexpr int kMaxKeepaliveProbes = 127;     // Linux MAX_TCP_KEEPCNT
constexpr int kMaxTtl = 255;

Errno err(int code) { return Errno{code}; }

}  // namespace

std::uint16_t Engine::pick_ephemeral(const std::function<bool(std::uint16_t)>& usable) {
  // RFC 6056's simple sequential search from a random start: the first usable port.
  const std::uint32_t span = config_.ephemeral_high - config_.ephemeral_low + 1U;
  for (std::uint32_t i = 0; i < span; ++i) {
    const std::uint16_t p = next_ephemeral_;
    next_ephemeral_ = next_ephemeral_ >= config_.ephemeral_high
                          ? config_.ephemeral_low
                          : static_cast<std::uint16_t>(next_ephemeral_ + 1);
    if (usable(p)) return p;
  }
  return 0;
}

SysResult<SocketId> Engine::socket() {
  const SocketId id = next_socket_++;
  Socket& s = sockets_[id];
  s.id = id;
  return id;
}

SysStatus Engine::bind(SocketId id, Endpoint local) {
  const std::uint16_t port = local.port;
  Socket* s = sock(id);
  if (s == nullptr) return err(EBADF);
  if (s->port != 0 || s->conn != nullptr || s->was_connected) return err(EINVAL);
  // MUST-43: the local address is the application's to choose, among the host's own (Linux
  // refuses any other with EADDRNOTAVAIL unless ip_nonlocal_bind is set).
  if (local.addr != 0 && !is_local(local.addr)) return err(EADDRNOTAVAIL);
  for (const auto& [other_id, other] : sockets_) {
    if (other_id == id || other.port != port || port == 0) continue;
    // SO_REUSEADDR lets a socket share a port with others that also set it, but never with a
    // listener (Linux's rule).
    if (!(s->options.reuse_addr && other.options.reuse_addr && !other.listener)) {
      return err(EADDRINUSE);
    }
  }
  if (!s->options.reuse_addr && port != 0) {
    // A connection still finishing on the port (TIME-WAIT, an orphan) holds it too.
    for (const auto& [tuple, t] : conns_) {
      if (tuple.local_port == port && t.owner < 0 && t.listener == nullptr) {
        return err(EADDRINUSE);
      }
    }
  }
  s->port = port;
  s->addr = local.addr;
  return Ok{};
}

SysStatus Engine::listen(SocketId id, int backlog) {
  Socket* s = sock(id);
  if (s == nullptr) return err(EBADF);
  if (s->conn != nullptr || s->was_connected) return err(EINVAL);
  if (s->port == 0) {  // Linux binds an ephemeral port
    s->port = pick_ephemeral([&](std::uint16_t p) { return !port_in_use(p); });
    if (s->port == 0) return err(EADDRINUSE);
  }
  if (auto it = listeners_.find(s->port); it != listeners_.end() && it->second != id) {
    return err(EADDRINUSE);
  }
  if (!s->listener) {
    s->listener = std::make_unique<Listener>();
    s->listener->port = s->port;
    listeners_[s->port] = id;
  }
  s->listener->backlog = std::min(backlog, config_.max_backlog);
  return Ok{};
}

void Engine::init_connection(Tcb& t, const SocketOptions& o) const {
  t.options = o;
  t.snd_buf_cap = o.snd_buf != 0 ? o.snd_buf : config_.snd_buf;
  t.rcv_buf_cap = o.rcv_buf != 0 ? o.rcv_buf : config_.rcv_buf;
  t.rcv_wscale = config_.wscale;
}

SysStatus Engine::connect(SocketId id, Endpoint remote) {
  Socket* s = sock(id);
  if (s == nullptr) return err(EBADF);
  if (s->listener) return err(EISCONN);  // Linux: connect() on a listener
  if (s->conn != nullptr) {
    return err(in_state(s->conn->state, State::kSynSent | State::kSynReceived) ? EALREADY
                                                                               : EISCONN);
  }
  if (s->was_connected) {
    if (s->error != 0) return err(std::exchange(s->error, 0));
    return err(EISCONN);
  }
  // MUST-46: an OPEN to a broadcast or multicast address is an error; Linux's route lookup
  // refuses it with ENETUNREACH.
  if (is_broadcast_or_multicast(remote.addr)) return err(ENETUNREACH);
  if (remote.port == 0 || remote.addr == 0) return err(ECONNREFUSED);
  // MUST-43: a bound local address is the connection's source; else the primary address.
  FourTuple tuple{s->addr != 0 ? s->addr : config_.local_addr, s->port, remote.addr, remote.port};
  if (s->port == 0) {
    // An ephemeral port no connection to this peer uses.
    tuple.local_port = pick_ephemeral([&](std::uint16_t p) {
      FourTuple candidate = tuple;
      candidate.local_port = p;
      return find(candidate) == nullptr && listeners_.count(p) == 0;
    });
    if (tuple.local_port == 0) return err(EADDRNOTAVAIL);
  } else if (find(tuple) != nullptr) {
    return err(EADDRNOTAVAIL);
  }
  s->port = tuple.local_port;
  Tcb& t = create_tcb(tuple);
  init_connection(t, s->options);
  t.owner = id;
  s->conn = &t;
  // RFC 9293 3.10.1 OPEN, active: select an ISS (RFC 6528), send a SYN, enter SYN-SENT.
  t.iss = SeqNum(initial_sequence_number(isn_key_, tuple, now_.count()));
  t.snd_una = t.iss;
  t.snd_nxt = t.iss + 1;
  t.snd_max = t.snd_nxt;
  t.send_buf_seq = t.iss + 1;
  transition(t, State::kSynSent);
  ++counters_.active_opens;
  send_syn(t);
  t.rtt_seq = t.iss + 1;  // the handshake gives the first RTT sample (RFC 6298 2.2)
  t.rtt_start = now_;
  arm_rtx(t);
  settle(t);
  return err(EINPROGRESS);
}

SysResult<SocketId> Engine::accept(SocketId id, Endpoint* peer) {
  Socket* s = sock(id);
  if (s == nullptr) return err(EBADF);
  if (!s->listener) return err(EINVAL);
  if (s->listener->accept_queue.empty()) return err(EAGAIN);
  Tcb& t = *s->listener->accept_queue.front();
  s->listener->accept_queue.pop_front();
  t.listener = nullptr;
  const SocketId child = next_socket_++;
  Socket& c = sockets_[child];  // may rehash nothing: std::map keeps s valid
  c.id = child;
  c.port = t.tuple.local_port;
  c.options = t.options;
  c.conn = &t;
  t.owner = child;
  if (peer != nullptr) *peer = Endpoint{t.tuple.remote_addr, t.tuple.remote_port};
  return child;
}

SysResult<std::vector<std::uint8_t>> Engine::read(SocketId id, std::size_t max) {
  Socket* s = sock(id);
  if (s == nullptr) return err(EBADF);
  if (s->listener) return err(ENOTCONN);
  Tcb* t = s->conn;
  if (t == nullptr && !s->unread.empty()) {
    const std::size_t n = std::min(max, s->unread.size());
    const auto front = s->unread.view(0, n);
    std::vector<std::uint8_t> out(front.begin(), front.end());
    s->unread.consume(n);
    return out;
  }
  if (t == nullptr) {
    if (!s->was_connected) return err(ENOTCONN);
    if (s->error != 0) return err(std::exchange(s->error, 0));  // once, then end of stream
    return std::vector<std::uint8_t>{};
  }
  if (t->read_shutdown) return std::vector<std::uint8_t>{};
  if (t->recv_buf.empty()) {
    if (t->fin_received) return std::vector<std::uint8_t>{};  // "connection closing": EOF
    return err(EAGAIN);
  }
  const std::size_t n = std::min(max, t->recv_buf.size());
  const auto front = t->recv_buf.view(0, n);
  std::vector<std::uint8_t> out(front.begin(), front.end());
  const std::uint32_t before = t->rcv_wnd();
  t->recv_buf.consume(n);
  // Receiver SWS avoidance (RFC 9293 3.8.6.2.2): announce the opened window only once it has
  // grown by a full segment or half the buffer.
  const std::uint32_t free_space =
      t->rcv_buf_cap -
      std::min<std::uint32_t>(t->rcv_buf_cap, static_cast<std::uint32_t>(t->recv_buf.size()));
  // What the 16-bit window field can say at our scale.
  const std::uint32_t could_offer = std::min(free_space, std::uint32_t{65535} << t->rcv_wscale);
  const std::uint32_t step = std::min<std::uint32_t>(t->rcv_buf_cap / 2, t->snd_mss);
  if (in_state(t->state, State::kEstablished | State::kFinWait1 | State::kFinWait2) &&
      could_offer >= before + step) {
    send_ack(*t);
  }
  settle(*t);
  return out;
}

SysResult<std::size_t> Engine::write(SocketId id, std::span<const std::uint8_t> data) {
  Socket* s = sock(id);
  if (s == nullptr) return err(EBADF);
  if (s->listener) return err(ENOTCONN);
  Tcb* t = s->conn;
  if (t == nullptr) {
    if (!s->was_connected) return err(ENOTCONN);
    if (s->error != 0) return err(std::exchange(s->error, 0));
    return err(EPIPE);  // (Linux also raises SIGPIPE; there are no signals here)
  }
  if (t->fin_queued) return err(EPIPE);
  if (in_state(t->state, State::kSynSent | State::kSynReceived)) return err(EAGAIN);
  const std::size_t room =
      t->snd_buf_cap > t->send_buf.size() ? t->snd_buf_cap - t->send_buf.size() : 0;
  if (room == 0) return err(EAGAIN);
  const std::size_t n = std::min(room, data.size());
  t->send_buf.append(data.first(n));
  output(*t);
  settle(*t);
  return n;
}

SysStatus Engine::shutdown(SocketId id, Shutdown how) {
  Socket* s = sock(id);
  if (s == nullptr) return err(EBADF);
  Tcb* t = s->conn;
  if (t == nullptr || in_state(t->state, State::kSynSent)) return err(ENOTCONN);
  if (how != Shutdown::kWrite) t->read_shutdown = true;
  if (how != Shutdown::kRead && !t->fin_queued) {
    // RFC 9293 3.10.4 CLOSE of the sending side: the FIN follows the queued data.
    t->fin_queued = true;
    if (t->state == State::kEstablished) {
      transition(*t, State::kFinWait1);
    } else if (t->state == State::kSynReceived) {
      fin_in_syn_received(*t);
    } else if (t->state == State::kCloseWait) {
      transition(*t, State::kLastAck);
    }
    restart_keepalive(*t);
    output(*t);
  }
  settle(*t);
  return Ok{};
}

void Engine::fin_in_syn_received(Tcb& t) {
  // RFC 9293 3.10.4, CLOSE in SYN-RECEIVED: "If no SENDs have been issued and there is no
  // pending data to send, then form a FIN segment and send it, and enter FIN-WAIT-1 state."
  // Nothing can be pending: write() waits for ESTABLISHED. The FIN takes ISS+1 while the
  // SYN,ACK is still unacknowledged; a timeout resends the SYN,ACK (retransmit_head), and the
  // ACK of the SYN synchronizes the connection in FIN-WAIT-1 (process_ack).
  transition(t, State::kFinWait1);
  emit(t, tcp_flag::kFin | tcp_flag::kAck, t.snd_nxt, {}, false);
  t.snd_nxt += 1;
  if (t.snd_nxt.after(t.snd_max)) t.snd_max = t.snd_nxt;
  t.rtx_since = now_;
  if (!t.rtx_deadline) arm_rtx(t);
}

void Engine::close_connection(Tcb& t, Socket* s, bool abort) {
  if (s != nullptr) s->conn = nullptr;
  t.owner = -1;
  if (t.state == State::kSynSent) {
    delete_tcb(t, 0);
    return;
  }
  // RFC 9293 3.10.5 ABORT, and CLOSE with SO_LINGER {on, 0}: a RST from SYN-RECEIVED,
  // ESTABLISHED, FIN-WAIT-1/2 and CLOSE-WAIT; none from SYN-SENT (nothing to reset, above) nor
  // from CLOSING, LAST-ACK and TIME-WAIT, where both FINs are out and the TCB is simply deleted.
  // Closing with unread data aborts too, as the data would otherwise be lost without the peer
  // knowing (RFC 9293 3.10.4 SHLD-3, RFC 2525 2.17); once both FINs are out it no longer matters
  // to the peer.
  const bool abortive = abort || (t.options.linger_on && t.options.linger_seconds == 0);
  if (in_state(t.state, State::kClosing | State::kLastAck | State::kTimeWait)) {
    if (abortive) {
      delete_tcb(t, 0);
      return;
    }
  } else if (abortive || !t.recv_buf.empty()) {
    send_rst(t);
    delete_tcb(t, 0);
    return;
  }
  if (!t.fin_queued) {
    t.fin_queued = true;
    if (t.state == State::kEstablished) transition(t, State::kFinWait1);
    if (t.state == State::kSynReceived) fin_in_syn_received(t);
    if (t.state == State::kCloseWait) transition(t, State::kLastAck);
  }
  t.read_shutdown = true;
  restart_keepalive(t);
  output(t);
  if (t.state == State::kFinWait2 && !t.fin_wait2_deadline) {
    t.fin_wait2_deadline = now_ + config_.fin_timeout;
  }
  settle(t);
}

SysStatus Engine::release(SocketId id, bool abort) {
  Socket* s = sock(id);
  if (s == nullptr) return err(EBADF);
  if (s->listener) close_listener(*s);
  if (s->conn != nullptr) close_connection(*s->conn, s, abort);
  sockets_.erase(id);
  return Ok{};
}

SysStatus Engine::close(SocketId id) { return release(id, false); }

SysStatus Engine::abort(SocketId id) { return release(id, true); }

SysStatus Engine::setsockopt(SocketId id, SocketOption opt, int value) {
  Socket* s = sock(id);
  if (s == nullptr) return err(EBADF);
  SocketOptions& o = s->options;
  const auto secs = [](int v) { return Duration(std::chrono::seconds(v)); };
  switch (opt) {
    case SocketOption::kReuseAddr:
      o.reuse_addr = value != 0;
      break;
    case SocketOption::kKeepAlive:
      o.keepalive = value != 0;
      break;
    case SocketOption::kNoDelay:
      o.nodelay = value != 0;
      break;
    case SocketOption::kRcvBuf:
      // Linux doubles the value to leave room for bookkeeping, and so does getsockopt.
      o.rcv_buf = std::max(kMinRcvBuf, 2 * static_cast<std::uint32_t>(std::max(0, value)));
      break;
    case SocketOption::kSndBuf:
      o.snd_buf = std::max(kMinSndBuf, 2 * static_cast<std::uint32_t>(std::max(0, value)));
      break;
    case SocketOption::kMaxSeg:
      if (value < 88 || value > 65535) return err(EINVAL);  // Linux TCP_MIN_MSS .. 65535
      o.max_seg = static_cast<std::uint16_t>(value);
      break;
    case SocketOption::kKeepIdle:
      if (value < 1 || value > kMaxKeepaliveSeconds) return err(EINVAL);
      o.keepalive_idle = secs(value);
      break;
    case SocketOption::kKeepInterval:
      if (value < 1 || value > kMaxKeepaliveSeconds) return err(EINVAL);
      o.keepalive_interval = secs(value);
      break;
    case SocketOption::kKeepCount:
      if (value < 1 || value > kMaxKeepaliveProbes) return err(EINVAL);
      o.keepalive_probes = value;
      break;
    case SocketOption::kTos:
      // MUST-48: the application sets the DS field (RFC 2474); SHLD-21: also while connected.
      // As Linux for a stream socket: the value is taken as one octet and its ECN bits (RFC 3168)
      // stay TCP's own, here always zero (no ECN).
      o.tos = static_cast<std::uint8_t>(static_cast<unsigned>(value) & 0xffU & ~unsigned{kEcnMask});
      break;
    case SocketOption::kTtl:
      // MUST-49: a configurable TTL; Linux takes 1..255, and -1 for the system default.
      if (value != -1 && (value < 1 || value > kMaxTtl)) return err(EINVAL);
      o.ttl = value;
      break;
    case SocketOption::kUserTimeout:
      if (value < 0) return err(EINVAL);  // Linux: a negative timeout is invalid
      o.user_timeout = std::chrono::milliseconds(value);
      break;
    case SocketOption::kLinger:
      return err(EINVAL);  // use setsockopt_linger
    case SocketOption::kError:
      return err(ENOPROTOOPT);  // read-only
  }
  if (Tcb* t = s->conn) {
    t->options = o;
    if (o.rcv_buf != 0) {
      // Never below what is held plus what has been promised: the window never shrinks.
      const auto held = static_cast<std::uint32_t>(t->recv_buf.size() + t->ooo.bytes());
      t->rcv_buf_cap = std::max(o.rcv_buf, held + t->rcv_wnd());
    }
    if (o.snd_buf != 0) t->snd_buf_cap = o.snd_buf;
    if (opt == SocketOption::kKeepAlive || opt == SocketOption::kKeepIdle) restart_keepalive(*t);
    settle(*t);
  }
  return Ok{};
}

SysStatus Engine::setsockopt_linger(SocketId id, bool on, int seconds) {
  Socket* s = sock(id);
  if (s == nullptr) return err(EBADF);
  if (seconds < 0) return err(EINVAL);
  s->options.linger_on = on;
  s->options.linger_seconds = seconds;
  if (s->conn != nullptr) s->conn->options = s->options;
  return Ok{};
}

SysResult<int> Engine::getsockopt(SocketId id, SocketOption opt) {
  Socket* s = sock(id);
  if (s == nullptr) return err(EBADF);
  const SocketOptions& o = s->options;
  Tcb* t = s->conn;
  const auto secs = [](Duration d) { return static_cast<int>(d.count() / 1'000'000); };
  switch (opt) {
    case SocketOption::kReuseAddr:
      return o.reuse_addr ? 1 : 0;
    case SocketOption::kKeepAlive:
      return o.keepalive ? 1 : 0;
    case SocketOption::kNoDelay:
      return o.nodelay ? 1 : 0;
    case SocketOption::kLinger:
      return o.linger_on ? o.linger_seconds : -1;
    case SocketOption::kRcvBuf:
      return static_cast<int>(t != nullptr ? t->rcv_buf_cap
                                           : (o.rcv_buf != 0 ? o.rcv_buf : config_.rcv_buf));
    case SocketOption::kSndBuf:
      return static_cast<int>(t != nullptr ? t->snd_buf_cap
                                           : (o.snd_buf != 0 ? o.snd_buf : config_.snd_buf));
    case SocketOption::kError:
      // A pending error first; else an ICMP soft error, which reading clears too (RFC 9293
      // 3.9.2.2, SHLD-25; Linux's SO_ERROR returns sk_err_soft the same way).
      if (s->error != 0) return std::exchange(s->error, 0);
      return t != nullptr ? std::exchange(t->soft_error, 0) : 0;
    case SocketOption::kTos:
      return o.tos;
    case SocketOption::kTtl:
      return ttl_of(o);
    case SocketOption::kMaxSeg:
      if (t != nullptr && t->state != State::kSynSent) return t->snd_mss;
      return o.max_seg != 0 ? o.max_seg : config_.mss;
    case SocketOption::kKeepIdle:
      return secs(o.keepalive_idle.count() != 0 ? o.keepalive_idle : config_.keepalive_idle);
    case SocketOption::kKeepInterval:
      return secs(o.keepalive_interval.count() != 0 ? o.keepalive_interval
                                                    : config_.keepalive_interval);
    case SocketOption::kKeepCount:
      return o.keepalive_probes != 0 ? o.keepalive_probes : config_.keepalive_probes;
    case SocketOption::kUserTimeout:
      return static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(o.user_timeout).count());
  }
  return err(ENOPROTOOPT);
}

unsigned Engine::events(SocketId id) const {
  constexpr unsigned kNval = 0x020;
  const Socket* s = sock(id);
  if (s == nullptr) return kNval;
  unsigned ev = s->error != 0 ? event::kErr : 0;
  if (s->listener) return ev | (s->listener->accept_queue.empty() ? 0 : event::kIn);
  const Tcb* t = s->conn;
  if (t == nullptr) {
    // Never connected: Linux reports POLLOUT | POLLHUP; a finished connection reads as EOF.
    return ev | event::kHup | (s->was_connected ? event::kIn | event::kRdHup : event::kOut);
  }
  if (!t->recv_buf.empty() || t->fin_received || t->read_shutdown) ev |= event::kIn;
  if (t->rcv_up && t->rcv_up->after(t->read_seq())) ev |= event::kPri;
  if (t->fin_received) ev |= event::kRdHup;
  if (t->fin_received && t->fin_queued) ev |= event::kHup;
  if (in_state(t->state, State::kEstablished | State::kCloseWait) && !t->fin_queued &&
      t->send_buf.size() < t->snd_buf_cap) {
    ev |= event::kOut;
  }
  return ev;
}

SysResult<std::size_t> Engine::unread_bytes(SocketId id) const {
  const Socket* s = sock(id);
  if (s == nullptr) return err(EBADF);
  if (s->listener) return err(EINVAL);
  return s->conn != nullptr ? s->conn->recv_buf.size() : s->unread.size();
}

SysResult<std::size_t> Engine::unsent_bytes(SocketId id) const {
  const Socket* s = sock(id);
  if (s == nullptr) return err(EBADF);
  if (s->listener) return err(EINVAL);
  return s->conn != nullptr ? s->conn->send_buf.size() : 0;
}

SysResult<std::size_t> Engine::urgent_bytes(SocketId id) const {
  const Socket* s = sock(id);
  if (s == nullptr) return err(EBADF);
  if (s->listener) return err(EINVAL);
  const Tcb* t = s->conn;
  if (t == nullptr || !t->rcv_up || !t->rcv_up->after(t->read_seq())) return 0;
  return distance(t->read_seq(), *t->rcv_up);
}

SysResult<Endpoint> Engine::local_endpoint(SocketId id) const {
  const Socket* s = sock(id);
  if (s == nullptr) return err(EBADF);
  if (s->conn != nullptr) return Endpoint{s->conn->tuple.local_addr, s->conn->tuple.local_port};
  return Endpoint{s->addr, s->port};
}

SysResult<Endpoint> Engine::remote_endpoint(SocketId id) const {
  const Socket* s = sock(id);
  if (s == nullptr) return err(EBADF);
  if (s->conn == nullptr) return err(ENOTCONN);
  return Endpoint{s->conn->tuple.remote_addr, s->conn->tuple.remote_port};
}

std::optional<Snapshot> Engine::snapshot(SocketId id) const {
  const Socket* s = sock(id);
  if (s == nullptr || s->conn == nullptr) return std::nullopt;
  return snapshot_of(*s->conn);
}

std::optional<Stack::ListenQueues> Engine::listen_queues(SocketId id) const {
  const Socket* s = sock(id);
  if (s == nullptr || !s->listener) return std::nullopt;
  return Stack::ListenQueues{s->listener->syn_queue.size(), s->listener->accept_queue.size(),
                             static_cast<std::size_t>(std::max(1, s->listener->backlog))};
}

}  // namespace synack::stack
