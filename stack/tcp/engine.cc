#include "stack/tcp/engine.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace synack::stack {

Engine::Engine(StackConfig config, std::uint64_t seed)
    : config_(std::move(config)), rng_state_(seed) {
  for (auto* key : {&isn_key_, &cookie_key_}) {
    for (std::size_t i = 0; i < key->size(); i += 8) {
      const std::uint64_t r = random();
      for (std::size_t b = 0; b < 8; ++b) (*key)[i + b] = static_cast<std::uint8_t>(r >> (8 * b));
    }
  }
  const std::uint32_t span = config_.ephemeral_high - config_.ephemeral_low + 1U;
  next_ephemeral_ = static_cast<std::uint16_t>(config_.ephemeral_low + random() % span);
  config_.wscale = std::min<std::uint8_t>(config_.wscale, 14);  // RFC 7323 2.3
}

std::uint64_t Engine::random() {
  // splitmix64: small, fast, and good enough to derive keys and ports from a seed.
  std::uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Tcb* Engine::find(const FourTuple& t) {
  auto it = conns_.find(t);
  return it == conns_.end() ? nullptr : &it->second;
}

Socket* Engine::sock(SocketId s) {
  auto it = sockets_.find(s);
  return it == sockets_.end() ? nullptr : &it->second;
}
const Socket* Engine::sock(SocketId s) const {
  auto it = sockets_.find(s);
  return it == sockets_.end() ? nullptr : &it->second;
}

bool Engine::port_in_use(std::uint16_t port) const {
  return std::any_of(sockets_.begin(), sockets_.end(),
                     [&](const auto& kv) { return kv.second.port == port; });
}

bool Engine::is_local(std::uint32_t addr) const {
  return addr == config_.local_addr ||
         std::find(config_.alias_addrs.begin(), config_.alias_addrs.end(), addr) !=
             config_.alias_addrs.end();
}

Tcb& Engine::create_tcb(const FourTuple& tuple) {
  auto [it, inserted] = conns_.try_emplace(tuple);
  Tcb& t = it->second;
  t.tuple = tuple;
  t.rto = config_.initial_rto;
  t.ts_offset = static_cast<std::uint32_t>(random());
  return t;
}

void Engine::transition(Tcb& t, State to) {
  if (!is_legal_transition(t.state, to)) {
    violation(t, std::string("state change ") + state_name(t.state) + " -> " + state_name(to) +
                     " is not an edge of the RFC 9293 state diagram");
  }
  t.state = to;
  // RFC 9293 3.8.4: keep-alives are for an idle open connection (ESTABLISHED, CLOSE-WAIT, and a
  // held FIN-WAIT-1/2, see restart_keepalive); past those states the closing handshake's own
  // timers speak for the connection, so the keep-alive timer stops (a simultaneous close takes
  // FIN-WAIT-1 to CLOSING).
  if (!in_state(to,
                State::kEstablished | State::kCloseWait | State::kFinWait1 | State::kFinWait2)) {
    t.keepalive_deadline.reset();
  }
}

void Engine::delete_tcb(Tcb& t, int error_for_user) {
  if (t.state != State::kClosed) transition(t, State::kClosed);
  detach_from_listener(t);
  if (Socket* s = sock(t.owner); s != nullptr && s->conn == &t) {
    s->conn = nullptr;
    s->was_connected = true;
    // RFC 9293 3.10.7.4 / MUST-12: the application learns why the connection ended.
    if (error_for_user != 0) {
      s->error = error_for_user;
    } else {
      s->eof = true;
      if (!t.read_shutdown && !t.recv_buf.empty()) {
        s->unread.append(t.recv_buf.view(0, t.recv_buf.size()));
      }
    }
  }
  conns_.erase(t.tuple);  // destroys t; its timer entry goes stale
}

void Engine::reschedule(Tcb& t) {
  std::optional<Instant> next;
  for (const auto& d : {t.rtx_deadline, t.time_wait_deadline, t.fin_wait2_deadline,
                        t.keepalive_deadline, t.delack_deadline, t.persist_deadline}) {
    if (d && (!next || *d < *next)) next = d;
  }
  if (next == t.indexed_deadline) return;
  t.indexed_deadline = next;
  if (!next) return;
  timers_.push_back({*next, t.tuple});
  std::push_heap(timers_.begin(), timers_.end(), Later{});
  if (timers_.size() > 2 * conns_.size() + 64) {
    // Mostly stale: rebuild from the live deadlines.
    timers_.clear();
    for (const auto& [tuple, c] : conns_) {
      if (c.indexed_deadline) timers_.push_back({*c.indexed_deadline, tuple});
    }
    std::make_heap(timers_.begin(), timers_.end(), Later{});
  }
}

void Engine::drop_stale_timers() const {
  while (!timers_.empty()) {
    const TimerEntry& top = timers_.front();
    auto it = conns_.find(top.tuple);
    if (it != conns_.end() && it->second.indexed_deadline == top.when) return;
    std::pop_heap(timers_.begin(), timers_.end(), Later{});
    timers_.pop_back();
  }
}

void Engine::settle(Tcb& t) {
  reschedule(t);
  check_invariants(t);
}

std::optional<Instant> Engine::next_deadline() const {
  drop_stale_timers();
  if (timers_.empty()) return std::nullopt;
  return timers_.front().when;
}

void Engine::advance(Instant now) {
  // Each timer fires at its own deadline, so what it re-arms is timed from then, not from `now`
  // (one big jump must behave like many small ones).
  for (;;) {
    drop_stale_timers();
    if (timers_.empty() || timers_.front().when > now) break;
    now_ = std::max(now_, timers_.front().when);
    Tcb& t = conns_.at(timers_.front().tuple);
    std::pop_heap(timers_.begin(), timers_.end(), Later{});
    timers_.pop_back();
    t.indexed_deadline.reset();  // its entry is gone; on_timers reschedules
    on_timers(t);                // fires every due timer of t, then reschedules or deletes it
  }
  now_ = std::max(now_, now);
}

void Engine::input(std::span<const std::uint8_t> ip_packet, Instant now) {
  advance(now);  // timers due before the segment arrived fire first
  ++counters_.packets_in;
  Ipv4Packet ip;
  if (parse_ipv4(ip_packet, ip) != Ipv4Status::kOk) {
    ++counters_.malformed;
    return;
  }
  // RFC 791 3.1: "If the header checksum fails, the internet datagram is discarded at once".
  // Nothing in such a header, addresses included, can be trusted.
  if (!ip.checksum_ok) {
    ++counters_.bad_checksum;
    return;
  }
  // RFC 9293 3.9.2.3 (RFC 1122 3.2.1.3, 4.2.3.10), for every segment and not just SYNs: nothing
  // addressed to a broadcast or multicast address is taken (MUST-57), and nothing from a source
  // that cannot be a host's own address: broadcast, multicast, or "this network" 0.0.0.0/8
  // (MUST-63). Either would make the stack answer a group, or no one. Silently: no RST.
  if (is_broadcast_or_multicast(ip.dst_addr) || is_broadcast_or_multicast(ip.src_addr) ||
      is_this_network(ip.src_addr)) {
    ++counters_.invalid_address;
    return;
  }
  // Our addresses only, no forwarding: anything else is not ours.
  if (!is_local(ip.dst_addr)) {
    ++counters_.not_for_us;
    return;
  }
  // Source routes are not honoured (MUST-51..53 are not implemented): like a Linux host with
  // accept_source_route=0 (RFC 7126 4.3, 4.4: drop by default), the packet is dropped rather
  // than answered along a route other than the one it names. Other options are skipped (MUST-50).
  if (ip.source_route) {
    ++counters_.source_routed;
    return;
  }
  if (ip.protocol == ip_proto::kIcmp) {
    icmp_input(ip);
    return;
  }
  Segment& seg = rx_segment_;  // (input is never re-entered: what the stack sends is queued)
  switch (parse_segment(ip, seg)) {
    case ParseStatus::kOk:
      break;
    case ParseStatus::kMalformed:
      ++counters_.malformed;
      return;
    case ParseStatus::kNotTcp:
      ++counters_.not_for_us;
      return;
    case ParseStatus::kBadChecksum:
      // RFC 9293 3.1 (MUST-3): a segment whose checksum fails is discarded.
      ++counters_.bad_checksum;
      return;
  }
  on_segment(seg);
}

void Engine::on_segment(const Segment& seg) {
  const FourTuple tuple{seg.dst_addr, seg.dst_port, seg.src_addr, seg.src_port};
  if (Tcb* t = find(tuple)) {
    ++t->segs_in;
    segment_arrives(*t, seg);  // may delete t
    if (Tcb* still = find(tuple)) settle(*still);
    return;
  }
  if (auto it = listeners_.find(seg.dst_port); it != listeners_.end()) {
    // A listener bound to one address awaits connections to that address only (RFC 9293
    // 3.9.1.1); to another of our addresses the port is closed.
    Socket* l = sock(it->second);
    if (l != nullptr && (l->addr == 0 || l->addr == seg.dst_addr)) {
      listen_segment_arrives(*l, seg);
      return;
    }
  }
  closed_arrives(seg);
}

Snapshot Engine::snapshot_of(const Tcb& t) const {
  Snapshot s;
  s.state = t.state;
  s.local_addr = t.tuple.local_addr;
  s.local_port = t.tuple.local_port;
  s.remote_addr = t.tuple.remote_addr;
  s.remote_port = t.tuple.remote_port;
  s.passive_open = t.passive_open;
  s.orphan = t.owner < 0 && t.listener == nullptr;
  s.iss = t.iss;
  s.irs = t.irs;
  s.snd_una = t.snd_una;
  s.snd_nxt = t.snd_nxt;
  s.snd_max = t.snd_max;
  s.snd_wnd = t.snd_wnd;
  s.max_snd_wnd = t.max_snd_wnd;
  s.snd_wl1 = t.snd_wl1;
  s.snd_wl2 = t.snd_wl2;
  s.rcv_nxt = t.rcv_nxt;
  s.rcv_wnd = t.rcv_wnd();
  s.rcv_adv = t.rcv_adv;
  s.snd_mss = t.snd_mss;
  s.snd_wscale = t.snd_wscale;
  s.rcv_wscale = t.rcv_wscale;
  s.timestamps = t.timestamps;
  s.sack_permitted = t.sack_permitted;
  s.send_queue = static_cast<std::uint32_t>(t.send_buf.size());
  s.recv_queue = static_cast<std::uint32_t>(t.recv_buf.size());
  s.snd_buf = t.snd_buf_cap;
  s.rcv_buf = t.rcv_buf_cap;
  s.fin_queued = t.fin_queued;
  s.fin_received = t.fin_received;
  s.rtx_deadline = t.rtx_deadline;
  s.time_wait_deadline = t.time_wait_deadline;
  s.fin_wait2_deadline = t.fin_wait2_deadline;
  s.keepalive_deadline = t.keepalive_deadline;
  s.delack_deadline = t.delack_deadline;
  s.persist_deadline = t.persist_deadline;
  s.rto = t.rto;
  s.srtt = t.srtt;
  s.rttvar = t.rttvar;
  s.retransmits = t.retransmits;
  s.persist_backoff = t.persist_backoff;
  s.cwnd = t.cong.cwnd;
  s.ssthresh = t.cong.ssthresh;
  s.in_recovery = t.in_recovery;
  s.dupacks = t.dupacks;
  s.rcv_up = t.rcv_up;
  s.ooo_bytes = static_cast<std::uint32_t>(t.ooo.bytes());
  s.sacked_bytes = t.scoreboard.sacked_bytes();
  s.keepalive_probes_sent = t.keepalive_probes_sent;
  s.soft_error = t.soft_error;
  s.tos = t.options.tos;
  s.ttl = ttl_of(t.options);
  s.segs_in = t.segs_in;
  s.segs_out = t.segs_out;
  s.retransmitted_segs = t.retransmitted_segs;
  return s;
}

namespace {

// Stack::connections()'s order. The local address comes last: connections on the primary
// address and an alias can share everything else.
bool snapshot_order(const Snapshot& a, const Snapshot& b) {
  return std::tie(a.local_port, a.remote_addr, a.remote_port, a.local_addr) <
         std::tie(b.local_port, b.remote_addr, b.remote_port, b.local_addr);
}

}  // namespace

std::vector<Snapshot> Engine::connections() const {
  std::vector<Snapshot> v;
  v.reserve(conns_.size());
  for (const auto& [tuple, t] : conns_) v.push_back(snapshot_of(t));
  std::sort(v.begin(), v.end(), snapshot_order);
  return v;
}

std::optional<Snapshot> Engine::connection(Endpoint remote) const {
  // Stack::connection's choice without building the list: the lowest in snapshot_order among
  // those not in TIME-WAIT, else the highest.
  const Tcb* live = nullptr;
  const Tcb* time_wait = nullptr;
  auto before = [](const Tcb& a, const Tcb& b) {
    return std::tie(a.tuple.local_port, a.tuple.local_addr) <
           std::tie(b.tuple.local_port, b.tuple.local_addr);
  };
  for (const auto& [tuple, t] : conns_) {
    if (tuple.remote_addr != remote.addr || tuple.remote_port != remote.port) continue;
    if (t.state != State::kTimeWait) {
      if (live == nullptr || before(t, *live)) live = &t;
    } else if (time_wait == nullptr || before(*time_wait, t)) {
      time_wait = &t;
    }
  }
  if (live != nullptr) return snapshot_of(*live);
  if (time_wait != nullptr) return snapshot_of(*time_wait);
  return std::nullopt;
}

}  // namespace synack::stack
