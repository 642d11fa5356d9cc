// The stack's internals: TCBs, listeners, sockets, and the Engine that drives them. Stack (the
// public API) is a thin shell over Engine. Engine's member functions are split by concern:
//   engine.cc          construction, demultiplexing, the timer index, deletion, snapshots
//   listen.cc          LISTEN: SYN queue, accept queue, SYN cookies (RFC 9293 3.10.7.2, RFC 4987)
//   segment_arrives.cc SYN-SENT and the synchronized states (RFC 9293 3.10.7.3, 3.10.7.4)
//   output.cc          segment formation: SYN, ACK, data, FIN, RST; windows and options
//   timers.cc          retransmission, TIME-WAIT, FIN-WAIT-2, keepalive (RFC 9293 3.10.8)
//   user_calls.cc      OPEN, SEND, RECEIVE, CLOSE, ABORT, options (RFC 9293 3.10.1-3.10.6)
//   icmp.cc            ICMP error messages for a connection (RFC 9293 3.9.2.2, RFC 5927)
//   invariants.cc      the white-box invariants checked after every segment
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "stack/stack.h"
#include "stack/tcp/byte_queue.h"
#include "stack/tcp/congestion.h"
#include "stack/tcp/isn.h"
#include "stack/tcp/reassembly.h"
#include "stack/tcp/sack_scoreboard.h"
#include "stack/tcp/snapshot.h"
#include "stack/tcp/state.h"
#include "stack/wire/icmp.h"
#include "stack/wire/segment.h"

namespace synack::stack {

struct FourTupleHash {
  std::size_t operator()(const FourTuple& t) const {
    return (std::size_t{t.remote_addr} * 0x9e3779b97f4a7c15ULL) ^
           (std::size_t{t.remote_port} << 16 | t.local_port) ^ t.local_addr;
  }
};

// Per-socket options, copied into a connection when it is created (and from a listener to the
// connections it accepts, as Linux does).
struct SocketOptions {
  bool reuse_addr = false;
  bool keepalive = false;
  bool linger_on = false;
  int linger_seconds = 0;
  bool nodelay = false;
  std::uint32_t rcv_buf = 0;  // 0: the stack's default
  std::uint32_t snd_buf = 0;
  std::uint16_t max_seg = 0;  // TCP_MAXSEG; 0: the stack's MSS
  Duration keepalive_idle{0};
  Duration keepalive_interval{0};
  int keepalive_probes = 0;
  std::uint8_t tos = 0;      // IP_TOS, ECN bits clear (MUST-48)
  int ttl = -1;              // IP_TTL; -1: the stack's default_ttl (MUST-49)
  Duration user_timeout{0};  // TCP_USER_TIMEOUT; 0: R2 is tcp_retries2 (MUST-21)
};

struct Listener;

// Transmission Control Block (RFC 9293 3.3.1), with the RFC's names.
struct Tcb {
  State state = State::kClosed;
  FourTuple tuple;
  Listener* listener = nullptr;  // while in a listener's SYN or accept queue
  SocketId owner = -1;           // the application's socket; -1 when orphaned or not accepted
  bool passive_open = false;
  SocketOptions options;

  // Send sequence variables.
  SeqNum iss;
  SeqNum snd_una;
  SeqNum snd_nxt;
  SeqNum snd_max;  // highest SND.NXT reached (retransmission rewinds SND.NXT, never this)
  std::uint32_t snd_wnd = 0;      // already scaled by snd_wscale
  std::uint32_t max_snd_wnd = 0;  // RFC 5961 5.2
  SeqNum snd_wl1;
  SeqNum snd_wl2;
  // Receive sequence variables.
  SeqNum irs;
  SeqNum rcv_nxt;
  // RCV.NXT + RCV.WND: the furthest right edge advertised, which never moves left. A later
  // segment may announce up to a scale unit less (advertised_window, RFC 7323 2.4); data up to
  // this edge is still accepted.
  SeqNum rcv_adv;

  // Options negotiated on the SYNs.
  std::uint16_t snd_mss = 536;  // RFC 9293 3.7.1: 536 when the peer sent no MSS option
  std::uint16_t peer_mss = 536;
  std::uint8_t snd_wscale = 0;
  std::uint8_t rcv_wscale = 0;
  bool wscale_ok = false;
  bool timestamps = false;
  bool sack_permitted = false;
  std::uint32_t ts_recent = 0;  // RFC 7323 4.3 TS.Recent
  std::uint32_t ts_offset = 0;  // random per-connection offset of our TSval (RFC 7323 5.4)
  Instant ts_recent_at{0};      // when TS.Recent was last set (RFC 7323 5.5: 24 days valid)
  SeqNum last_ack_sent;

  // Buffers. send_buf holds every byte written and not yet acknowledged, starting at
  // send_buf_seq; recv_buf every byte received in order and not yet read.
  ByteQueue send_buf;
  SeqNum send_buf_seq;
  ByteQueue recv_buf;
  ReassemblyQueue ooo;        // received beyond RCV.NXT, waiting for the gap to fill
  SackScoreboard scoreboard;  // what the peer has SACKed of ours (RFC 6675)
  std::uint32_t snd_buf_cap = 0;
  std::uint32_t rcv_buf_cap = 0;
  bool fin_queued = false;    // the application shut down sending: a FIN follows the data
  bool fin_received = false;  // the peer's FIN has been processed (reads return 0 after data)
  bool read_shutdown = false;

  // Timers (deadlines of those running).
  std::optional<Instant> rtx_deadline;
  // When the data in flight last made progress: sent with nothing outstanding before, or an
  // ACK advanced SND.UNA. A user timeout (TCP_USER_TIMEOUT) runs from here.
  Instant rtx_since{0};
  std::optional<Instant> last_data_sent;  // for restarting an idle connection (RFC 5681 4.1)
  std::optional<Instant> time_wait_deadline;
  std::optional<Instant> fin_wait2_deadline;
  std::optional<Instant> keepalive_deadline;
  std::optional<Instant> delack_deadline;   // delayed ACK (RFC 9293 3.8.6.3, MUST-40)
  std::optional<Instant> persist_deadline;  // zero-window probes and the SWS override (3.8.6.1)
  std::optional<Instant> indexed_deadline;  // this TCB's live entry in Engine::timers_
  Duration rto{0};                          // the current RTO, backed off after timeouts
  int retransmits = 0;
  std::uint32_t unacked_full_segments = 0;  // received since our last ACK (SHLD-19)
  // RFC 6298 round-trip estimation: SRTT and RTTVAR once a sample exists. Without timestamps
  // one segment at a time is timed (ending at rtt_seq), and never a retransmitted one (Karn's
  // algorithm, MUST-18); with timestamps every ACK of new data echoes its own send time.
  std::optional<Duration> srtt;
  Duration rttvar{0};
  std::optional<SeqNum> rtt_seq;
  std::optional<SeqNum> rtx_mark;  // the end of the highest data retransmitted, until acked
  Instant rtt_start{0};

  // Congestion control (RFC 5681) and loss recovery (RFC 6582 NewReno, RFC 6675 with SACK).
  const CongestionControl* cc = nullptr;
  CongestionState cong;
  int dupacks = 0;
  bool in_recovery = false;
  bool syn_retransmitted = false;  // RFC 6298 5.7: no RTT sample, so a 3 s RTO
  SeqNum recover;                  // RFC 6582 "recover": SND.MAX when recovery began
  SeqNum high_rxt;  // RFC 6675 HighRxt: the highest sequence number retransmitted in recovery
  SeqNum snd_sml;   // end of the last segment shorter than SND.MSS (Nagle, Minshall's variant)

  // Zero-window probing (RFC 9293 3.8.6.1, MUST-36/37).
  int persist_backoff = 0;
  int persist_unanswered = 0;

  // Urgent data (RFC 9293 3.8.5, RFC 6093): RCV.UP, the sequence number after the last urgent
  // byte, once an URG segment has arrived.
  std::optional<SeqNum> rcv_up;
  std::optional<Instant> last_oow_ack;  // the last ACK for an unacceptable pure ACK
  int keepalive_probes_sent = 0;
  // The last ICMP soft error (RFC 9293 3.9.2.2: MUST-56 keeps the connection, SHLD-25 tells the
  // application): the errno a timeout reports instead of ETIMEDOUT, as Linux's sk_err_soft.
  int soft_error = 0;

  std::uint64_t segs_in = 0;
  std::uint64_t segs_out = 0;
  std::uint64_t retransmitted_segs = 0;

  // The advertised right edge at the last invariant check: it must never move left.
  std::optional<SeqNum> checked_rcv_adv;

  // The sequence number our FIN takes (valid once fin_queued and all data has been sent).
  SeqNum fin_seq() const { return send_buf_seq + static_cast<std::uint32_t>(send_buf.size()); }
  bool fin_sent() const { return fin_queued && snd_max.after(fin_seq()); }
  bool fin_acked() const { return fin_queued && snd_una.after(fin_seq()); }
  bool syn_acked() const { return snd_una.after(iss); }
  // The sequence number of the next byte the application will read.
  SeqNum read_seq() const {
    return rcv_nxt - static_cast<std::uint32_t>(recv_buf.size()) - (fin_received ? 1U : 0U);
  }
  // RCV.WND as the peer sees it: up to the edge we last advertised.
  std::uint32_t rcv_wnd() const { return rcv_adv.after(rcv_nxt) ? distance(rcv_nxt, rcv_adv) : 0; }
};

struct Listener {
  std::uint16_t port = 0;
  int backlog = 0;
  std::vector<Tcb*> syn_queue;    // half-open children (SYN-RECEIVED)
  std::deque<Tcb*> accept_queue;  // ESTABLISHED children not yet accepted
  // When this listener last answered a SYN with a cookie: it checks the cookie of an ACK only
  // within kCookieCheckWindow of that (listen.cc).
  std::optional<Instant> last_cookie_sent;
};

struct Socket {
  SocketId id = -1;
  std::uint16_t port = 0;  // bound local port, 0 before bind/connect
  std::uint32_t addr = 0;  // bound local address, 0 (INADDR_ANY) unless bind() named one
  SocketOptions options;
  std::unique_ptr<Listener> listener;
  Tcb* conn = nullptr;
  bool was_connected = false;  // a connection existed and is gone: reads/writes report why
  int error = 0;               // SO_ERROR: pending asynchronous error
  bool eof = false;            // the connection ended cleanly: read() returns 0
  // What the connection had received and the application not yet read when it ended cleanly:
  // acknowledged to the peer, so still the application's to read (as on Linux).
  ByteQueue unread;
};

// The part of a segment the later steps work on: trimming an old SYN or old bytes changes the
// sequence number, flags and payload without copying the segment.
struct Incoming {
  SeqNum seq;
  std::uint8_t flags;
  std::span<const std::uint8_t> payload;
  bool has(std::uint8_t f) const { return (flags & f) != 0; }
};

class Engine {
 public:
  Engine(StackConfig config, std::uint64_t seed);

  // engine.cc
  void input(std::span<const std::uint8_t> ip_packet, Instant now);
  void advance(Instant now);
  std::optional<Instant> next_deadline() const;
  std::vector<Packet> take_output() { return std::exchange(output_, {}); }
  void take_output(std::vector<Packet>& out) {
    for (Packet& p : out) recycle(std::move(p));
    out.clear();
    out.swap(output_);
  }
  void recycle(Packet&& p) {
    // A buffer moved from has no capacity left to offer.
    if (spare_packets_.size() < kMaxSparePackets && p.capacity() != 0) {
      spare_packets_.push_back(std::move(p));
    }
  }
  std::size_t pending_output() const { return output_.size(); }
  Snapshot snapshot_of(const Tcb& t) const;
  std::vector<Snapshot> connections() const;
  std::optional<Snapshot> connection(Endpoint remote) const;

  // user_calls.cc
  SysResult<SocketId> socket();
  SysStatus bind(SocketId id, Endpoint local);
  SysStatus listen(SocketId id, int backlog);
  SysStatus connect(SocketId id, Endpoint remote);
  SysResult<SocketId> accept(SocketId id, Endpoint* peer);
  SysResult<std::vector<std::uint8_t>> read(SocketId id, std::size_t max);
  SysResult<std::size_t> write(SocketId id, std::span<const std::uint8_t> data);
  SysStatus shutdown(SocketId id, Shutdown how);
  SysStatus close(SocketId id);
  SysStatus abort(SocketId id);
  SysStatus setsockopt(SocketId id, SocketOption opt, int value);
  SysResult<int> getsockopt(SocketId id, SocketOption opt);
  SysStatus setsockopt_linger(SocketId id, bool on, int seconds);
  unsigned events(SocketId id) const;
  SysResult<std::size_t> unread_bytes(SocketId id) const;
  SysResult<std::size_t> unsent_bytes(SocketId id) const;
  SysResult<std::size_t> urgent_bytes(SocketId id) const;
  SysResult<Endpoint> local_endpoint(SocketId id) const;
  SysResult<Endpoint> remote_endpoint(SocketId id) const;
  std::optional<Snapshot> snapshot(SocketId id) const;
  std::optional<Stack::ListenQueues> listen_queues(SocketId id) const;

  const StackConfig& config() const { return config_; }
  const StackCounters& counters() const { return counters_; }
  void set_invariant_handler(InvariantHandler h) { invariant_handler_ = std::move(h); }

 private:
  // engine.cc
  Tcb* find(const FourTuple& t);
  Tcb& create_tcb(const FourTuple& tuple);
  void delete_tcb(Tcb& t, int error_for_user);
  void transition(Tcb& t, State to);
  void reschedule(Tcb& t);
  void settle(Tcb& t);  // reschedule + invariants, after anything that changed t
  void on_segment(const Segment& seg);
  std::uint8_t ttl_of(const SocketOptions& o) const {
    return o.ttl > 0 ? static_cast<std::uint8_t>(o.ttl) : config_.default_ttl;
  }
  // The error a connection that gives up reports: its soft error if an ICMP message left one.
  static int timeout_error(const Tcb& t) { return t.soft_error != 0 ? t.soft_error : ETIMEDOUT; }
  Socket* sock(SocketId s);
  const Socket* sock(SocketId s) const;
  bool port_in_use(std::uint16_t port) const;
  // CLOSE of the sending side in SYN-RECEIVED: the FIN goes at once (user_calls.cc).
  void fin_in_syn_received(Tcb& t);
  // RFC 5681 4.1: cwnd back to the restart window after an idle period (output.cc).
  void restart_after_idle(Tcb& t);
  // Whether `addr` is one of the stack's own addresses (the primary or an alias).
  bool is_local(std::uint32_t addr) const;

  // listen.cc
  void listen_segment_arrives(Socket& s, const Segment& seg);
  void spawn_from_syn(Socket& s, const Segment& seg);
  void complete_from_cookie(Socket& s, const Segment& seg);
  bool enter_accept_queue(Tcb& t);  // false when the accept queue is full
  void detach_from_listener(Tcb& t);
  void close_listener(Socket& s);

  // segment_arrives.cc
  void segment_arrives(Tcb& t, const Segment& seg);
  void syn_sent_arrives(Tcb& t, const Segment& seg);
  void closed_arrives(const Segment& seg);
  bool acceptable(const Tcb& t, const Segment& seg) const;
  // done: stop processing; text_len: the segment's payload (a duplicate ACK carries none)
  // `window_shift`: what SEG.WND is scaled by (none for a SYN segment, RFC 7323 2.2).
  void process_ack(Tcb& t, const Segment& seg, std::uint32_t text_len, std::uint8_t window_shift,
                   bool& done);
  // An RTT sample from an ACK, if it gives one (none when it covers retransmitted data).
  void ack_rtt(Tcb& t, const Segment& seg, bool covers_retransmission);
  void established(Tcb& t);  // entering ESTABLISHED: congestion window, RTO (RFC 6298 5.7)
  void process_text_and_fin(Tcb& t, const Incoming& seg);
  void negotiate_options(Tcb& t, const Segment& syn);
  void update_ts_recent(Tcb& t, const Segment& seg);
  void challenge_ack(Tcb& t);
  void send_oow_ack(Tcb& t, const Segment& seg);  // the ACK for an unacceptable segment
  bool paws_rejects(Tcb& t, const Segment& seg);  // RFC 7323 5.3
  void on_new_ack(Tcb& t, const Segment& seg, std::uint32_t acked);
  void on_duplicate_ack(Tcb& t);
  void enter_recovery(Tcb& t);
  void sack_retransmit(Tcb& t);        // RFC 6675 5 (C): lost holes first, as the pipe allows
  void sack_retransmit_holes(Tcb& t);  // then NextSeg rule (3), after output()'s new data
  // The loop both share: holes from NextSeg rule (1), or rule (3), while cwnd - pipe >= SMSS.
  void sack_resend_while_pipe_allows(Tcb& t, bool lost_only);
  std::uint32_t flight_size(const Tcb& t) const;

  // output.cc
  void send_syn(Tcb& t);                         // SYN or SYN,ACK with our options
  void send_ack(Tcb& t);                         // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
  void schedule_ack(Tcb& t, bool full_segment);  // delayed ACK, or now on every 2nd segment
  void send_rst_for(const Segment& seg);         // RFC 9293 3.10.7.1 reply to a segment
  void send_rst(Tcb& t);                         // <SEQ=SND.NXT><CTL=RST> on abort
  void output(Tcb& t);                           // send whatever data and FIN the windows allow
  void output(Tcb& t, bool force);  // force: the first segment ignores SWS avoidance and Nagle
  void retransmit_head(Tcb& t);
  // Sends up to `max_len` bytes from `seq` (below SND.MAX) again, with the FIN if it was sent.
  std::uint32_t resend(Tcb& t, SeqNum seq, std::uint32_t max_len);
  void arm_persist(Tcb& t);
  bool may_send_now(const Tcb& t, std::uint32_t len, std::uint32_t unsent, bool fin) const;
  void emit(Tcb& t, std::uint8_t flags, SeqNum seq, std::span<const std::uint8_t> payload,
            bool syn_options);
  std::uint16_t advertised_window(Tcb& t);
  std::uint32_t ts_now(const Tcb& t) const;

  // timers.cc
  void on_timers(Tcb& t);
  void on_retransmission_timeout(Tcb& t);
  void on_keepalive_timeout(Tcb& t);
  void on_persist_timeout(Tcb& t);
  void rtt_sample(Tcb& t, Duration r);  // RFC 6298 2.2-2.3
  Duration base_rto(const Tcb& t) const;
  void arm_rtx(Tcb& t);
  void restart_keepalive(Tcb& t);
  void enter_time_wait(Tcb& t);

  // user_calls.cc
  std::uint16_t pick_ephemeral(const std::function<bool(std::uint16_t)>& usable);  // 0: none
  void init_connection(Tcb& t, const SocketOptions& o) const;
  // CLOSE (abort: ABORT) of the connection of socket s (nullptr: an orphan's), and of a socket.
  void close_connection(Tcb& t, Socket* s, bool abort);
  SysStatus release(SocketId id, bool abort);

  // icmp.cc
  void icmp_input(const Ipv4Packet& ip);  // an IPv4 packet with protocol 1, for us
  void icmp_arrives(const IcmpMessage& m);

  // invariants.cc
  void check_invariants(Tcb& t);
  void violation(const Tcb& t, const std::string& what);

  StackConfig config_;
  SecretKey isn_key_{};
  SecretKey cookie_key_{};
  std::uint64_t rng_state_ = 0;
  std::uint64_t random();  // splitmix64 over rng_state_
  Instant now_{0};

  // TCBs live in the map's nodes: references stay valid as it grows (one allocation each).
  std::unordered_map<FourTuple, Tcb, FourTupleHash> conns_;
  std::map<SocketId, Socket> sockets_;
  std::unordered_map<std::uint16_t, SocketId> listeners_;  // port -> listening socket
  SocketId next_socket_ = 3;                               // as a process's first free fd
  std::uint16_t next_ephemeral_ = 0;
  // Timers: a min-heap of (deadline, connection) with lazy deletion. A TCB's live entry is the
  // one matching its indexed_deadline; entries for moved or deleted timers are dropped when they
  // reach the top, and the heap is rebuilt if stale entries pile up. No allocation per change.
  struct TimerEntry {
    Instant when;
    FourTuple tuple;
  };
  // Earliest first; timers due at the same instant fire in 4-tuple order, so the order never
  // depends on the heap's history (a harness replaying a session calls next_deadline() and
  // advance() at other points than the session did, and must see the same segments).
  struct Later {
    bool operator()(const TimerEntry& a, const TimerEntry& b) const {
      if (a.when != b.when) return a.when > b.when;
      return std::tie(a.tuple.local_addr, a.tuple.local_port, a.tuple.remote_addr,
                      a.tuple.remote_port) > std::tie(b.tuple.local_addr, b.tuple.local_port,
                                                      b.tuple.remote_addr, b.tuple.remote_port);
    }
  };
  mutable std::vector<TimerEntry> timers_;
  void drop_stale_timers() const;

  // RFC 5961 section 7: challenge ACKs sent in the current one-second period.
  Instant challenge_period_start_{-1};
  int challenge_acks_in_period_ = 0;

  std::vector<Packet> output_;
  // The segment input() parses into, kept so that its payload buffer is reused.
  Segment rx_segment_;
  // Packets handed back through take_output(out) or recycle(), whose buffers the next packets
  // sent reuse (emit_packet): a caller that hands every packet back makes the stack allocate
  // nothing per packet once warm. Enough for a 64 KiB window in flight in full-sized segments
  // (a link that queues them hands them back together).
  static constexpr std::size_t kMaxSparePackets = 64;
  std::vector<Packet> spare_packets_;
  // Appends `s` (with `payload`) to output_ as an IPv4 packet, in a spare buffer if there is one.
  void emit_packet(const Segment& s, std::span<const std::uint8_t> payload);
  StackCounters counters_;
  InvariantHandler invariant_handler_;
};

}  // namespace synack::stack
