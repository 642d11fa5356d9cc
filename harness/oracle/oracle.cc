#include "harness/oracle/oracle.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <optional>
#include <tuple>
#include <utility>

#include "harness/oracle/byte_record.h"
#include "harness/wire/format.h"

// How the oracle follows connections from the stream alone.
//
// Each 4-tuple holds at most one current incarnation (Conn). A SYN without ACK from either side
// starts a new one when there is none, when the previous one was reset or closed (both FINs
// acknowledged), or when it cannot belong to the current one (the target has not answered yet
// and the peer's ISN changed; the target's ISN changed). A SYN-ACK from the target with a new ISN
// that answers the peer's latest SYN also starts one. Segments on a tuple with no incarnation the
// oracle can follow are judged only by the checks that need no connection (checksum, option form,
// and the form of a RST that answers them).
//
// Each side's sequence space is unwrapped into 64-bit positions from its ISN (position 0) around
// the highest position seen, so byte records and holes stay exact across the 2^32 wrap; window
// and ACK comparisons use the wrap-safe wire::Seq predicates.
//
// What the stream cannot tell, and what the oracle does about it (a check is made only against
// every value the target could legitimately hold, or skipped):
// - Whether the target took a peer segment at all. Its ACK is "certainly taken" only from an
//   in-order segment at the target's known RCV.NXT (or the SYN-ACK answering its SYN in SYN-SENT);
//   any other segment may have been dropped as unacceptable. So SND.UNA is known as a range: at
//   least the highest certainly taken ACK, at most the highest acceptable ACK seen. The handshake
//   counts as complete only once the peer's ACK of the target's SYN was certainly taken.
// - The target's RCV.NXT is only known from its ACKs. While the peer has sent data the target has
//   not acknowledged yet, RCV.NXT lies anywhere from the latest ACK to the end of what the peer
//   sent without a hole. A peer RST inside that range may or may not have been accepted, so the
//   connection becomes "maybe reset" until the target shows it still has it (meanwhile a RST or
//   SYN from it, or its silence, is not judged); challenge-ack is required only for RSTs beyond
//   every value RCV.NXT could hold and inside the window the target last advertised, and a
//   challenge ACK's ack may be any value in that range.
// - Which window the target holds. A window is certainly taken only with a certainly taken ACK
//   that also passes the SND.WL1/WL2 test of RFC 9293 3.10.7.4 against every segment before it
//   (out-of-order segments beyond a hole count: their ACK is processed too); a window perhaps
//   taken can only widen what the oracle allows. As in RFC 9293 (and Linux) the window is SND.WND
//   and runs from SND.UNA: an ACK whose window fails the SND.WL1/WL2 test still moves the right
//   edge, so the edge may lie beyond SEG.ACK + SEG.WND of any one segment.
// - SND.NXT may be rewound after a timeout, so a challenge ACK's seq may be anything from the
//   least SND.UNA can be to the highest sequence number sent.
// - A timer may end a connection without a segment (a retransmission timeout while something is
//   unacknowledged, a FIN-WAIT-2 timeout after the target's FIN). A SYN on such a connection may
//   then legitimately get a SYN-ACK or a closed-port RST, so challenge-ack judges those replies
//   only when neither timeout is possible. (Keepalive failure is assumed to send a RST, as Linux
//   does; a target that drops silently after keepalive probes could be misjudged here.)
// - When the peer sends different bytes at the same sequence number, a target may keep either copy
//   unless it had already acknowledged the first (Linux replaces out-of-order data that a later
//   segment covers). Such bytes are then accepted either way when the application reads them.
// - Retransmission intervals are compared only while the peer is silent: any segment from the
//   peer, not just a new ACK, restarts the comparison, since a duplicate ACK may trigger a fast
//   retransmit and a window update may end persist probing.
// - A RST from the target on a synchronized connection is a teardown (an application abort looks
//   the same), so its form is not judged; only RSTs the target sends with no connection (and
//   answers to unacceptable ACKs in SYN-SENT / SYN-RECEIVED, which keep the connection) are.

namespace synack::oracle {

using wire::Seq;
using wire::TcpPacket;
namespace f = wire::tcp_flags;
namespace kind = wire::tcp_option_kind;

namespace {

constexpr std::array<std::string_view, 12> kInvariantNames = {
    invariant::kChecksum,        invariant::kOptionsWellFormed, invariant::kAckMonotonic,
    invariant::kAckCoversUnsent, invariant::kSendWithinWindow,  invariant::kRetransmissionSameBytes,
    invariant::kNothingAfterFin, invariant::kNothingAfterRst,   invariant::kRstReplyForm,
    invariant::kChallengeAck,    invariant::kRtoNeverShrinks,   invariant::kStreamIntegrity,
};

// RFC 7323 2.3: a shift above 14 is used as 14.
constexpr std::uint8_t kMaxWindowShift = 14;
// Segments sent to the target that a RST may still answer (a target may answer a burst late).
constexpr std::size_t kMaxUnanswered = 8;
// A connection dies silently only when a timer runs out (retransmissions, FIN-WAIT-2), never
// sooner than the least RTO (RFC 6298 2.4 rounds up to 1 s; Linux and the built-in stack use
// 200 ms) after the target last sent new data or its FIN.
constexpr std::int64_t kMinSilentDeathUs = 200'000;
// Handshakes remembered per 4-tuple: the SYN cookies whose ACK may still open a connection.
constexpr std::size_t kMaxHandshakes = 8;
// The ISNs of handshakes pushed out of those, kept per 4-tuple: their cookies may still open a
// connection the oracle cannot follow. Beyond this many, any ACK may be one.
constexpr std::size_t kMaxForgottenHandshakes = 64;
// Tracked retransmission candidates per connection between two peer segments.
constexpr std::size_t kMaxRtxEntries = 4096;

std::string num(Seq s) { return std::to_string(s.raw()); }

// The latest `Max` packets, oldest first, in slots that are reused: a packet is copied into a
// slot whose buffers (payload, options) already have room, so that once warm, following a
// session allocates nothing here (the oracle keeps every segment to the target until the
// target speaks; copies into fresh packets were a sixth of session_fuzzer's allocations, each
// of them costly under ASan).
template <std::size_t Max>
class RecentPackets {
 public:
  using const_iterator = std::vector<TcpPacket>::const_iterator;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;

  void push_back(const TcpPacket& p) {
    if (size_ == Max) {  // the oldest slot becomes the newest
      std::rotate(slots_.begin(), slots_.begin() + 1, slots_.end());
      --size_;
    }
    if (size_ < slots_.size()) {
      slots_[size_] = p;
    } else {
      slots_.push_back(p);
    }
    ++size_;
  }
  // Drops the packets before `end` (oldest first), keeping their slots.
  void erase_before(const_iterator end) {
    const auto dropped = end - begin();
    std::rotate(slots_.begin(), slots_.begin() + dropped, slots_.begin() + end_offset());
    size_ -= static_cast<std::size_t>(dropped);
  }
  void clear() { size_ = 0; }
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  const TcpPacket& back() const { return slots_[size_ - 1]; }
  const_iterator begin() const { return slots_.begin(); }
  const_iterator end() const { return slots_.begin() + end_offset(); }
  const_reverse_iterator rbegin() const { return const_reverse_iterator(end()); }
  const_reverse_iterator rend() const { return const_reverse_iterator(begin()); }

 private:
  std::ptrdiff_t end_offset() const { return static_cast<std::ptrdiff_t>(size_); }
  std::vector<TcpPacket> slots_;  // [0, size_) in use; the rest keep their buffers
  std::size_t size_ = 0;
};

std::string hex_byte(std::uint8_t b) {
  std::array<char, 8> buf{};
  std::snprintf(buf.data(), buf.size(), "0x%02x", b);
  return buf.data();
}

std::uint32_t size32(std::size_t n) { return static_cast<std::uint32_t>(n); }

bool has_kind(const wire::TcpHeader& h, std::uint8_t k) {
  return std::any_of(h.options.begin(), h.options.end(),
                     [k](const wire::TcpOption& o) { return wire::option_kind(o) == k; });
}

// What a SYN says about its sender's options.
struct SynInfo {
  bool seen = false;
  Seq iss;
  bool ws = false;
  std::uint8_t shift = 0;
  bool ts = false;
  bool sack_ok = false;

  // Another SYN with the same ISN: an option either carried is allowed, and of two window
  // shifts the larger (the target may scale the peer's windows by either, and the larger
  // allows more).
  void merge_options(const SynInfo& again) {
    ts = ts || again.ts;
    sack_ok = sack_ok || again.sack_ok;
    if (again.ws) {
      shift = ws ? std::max(shift, again.shift) : again.shift;
      ws = true;
    }
  }

  static SynInfo of(const TcpPacket& p) {
    SynInfo s;
    s.seen = true;
    s.iss = p.tcp.seq;
    if (const auto* ws = p.tcp.find<wire::OptWindowScale>()) {
      s.ws = true;
      s.shift = std::min(ws->shift, kMaxWindowShift);
    }
    s.ts = p.tcp.find<wire::OptTimestamps>() != nullptr;
    s.sack_ok = p.tcp.find<wire::OptSackPermitted>() != nullptr;
    return s;
  }
};

// Sequence numbers as 64-bit positions from an ISN (position 0), unwrapped around the highest
// position seen so far.
class SeqLine {
 public:
  SeqLine() = default;
  explicit SeqLine(Seq isn) : isn_(isn) {}
  std::int64_t pos(Seq s) const { return ref_ + (s - seq(ref_)); }
  Seq seq(std::int64_t pos) const {
    return isn_ + static_cast<std::uint32_t>(static_cast<std::uint64_t>(pos));
  }
  void advance(std::int64_t pos) { ref_ = std::max(ref_, pos); }

 private:
  Seq isn_;
  std::int64_t ref_ = 0;
};

}  // namespace

namespace detail {

enum class End {
  kLive,
  kResetByTarget,
  kGone,              // the target certainly has no connection: it accepted a RST from the
                      // peer, or answered the peer like a closed port
  kMaybeGone,         // it may have (a peer RST it may have accepted, or a listener that
                      // may be stateless or may still be in SYN-RECEIVED): until the target
                      // shows it still has the connection (any segment but a RST or SYN), its
                      // RSTs and SYNs are not judged
  kResetMaybeCookie,  // a listener that never spoke past its SYN-ACK reset the connection as
                      // the peer's ACK arrived (a full accept queue with abort_on_overflow);
                      // if that SYN-ACK was a SYN cookie, a later ACK may open it after all
};

// A peer segment that requires a challenge ACK (RFC 5961 3.2, 4.2).
struct Challenge {
  TcpPacket cause;
  // False for a SYN when the target may have dropped the connection silently since the oracle
  // last saw it alive (a retransmission or FIN-WAIT-2 timeout): a SYN-ACK or a closed-port RST
  // in reply is then no proof of a violation.
  bool strict = true;
};

struct Rtx {
  std::int64_t last_us = 0;
  std::optional<std::int64_t> interval_us;
};

// The target's transmissions since the peer last spoke, by (seq, flags without PSH): a sorted
// vector, since new segments mostly come in rising sequence order (an insertion is then an
// append) and clear(), which every peer segment does, keeps the storage.
class RtxTable {
 public:
  using Key = std::pair<std::uint32_t, std::uint8_t>;
  // The entry for `key`, and whether it was just made (from `init`: there was none).
  std::pair<Rtx*, bool> find_or_add(Key key, const Rtx& init) {
    auto it = std::lower_bound(entries_.begin(), entries_.end(), key,
                               [](const auto& e, const Key& k) { return e.first < k; });
    if (it != entries_.end() && it->first == key) return {&it->second, false};
    it = entries_.insert(it, {key, init});
    return {&it->second, true};
  }
  std::size_t size() const { return entries_.size(); }
  void clear() { entries_.clear(); }

 private:
  std::vector<std::pair<Key, Rtx>> entries_;
};

struct Conn {
  End end = End::kLive;
  bool target_passive = false;  // the peer's SYN came first
  // The target has sent what only a synchronized connection sends (data, a FIN, an ACK of the
  // peer's data): it holds the connection (a listener answering with SYN cookies holds none
  // until the cookie returns; one whose accept queue was full may still be in SYN-RECEIVED).
  bool target_past_syn = false;
  // Of those, what SYN-RECEIVED can never send (a FIN it can: CLOSE there sends one, RFC 9293
  // 3.10.4): data, or an ACK of the peer's data. The target has left SYN-RECEIVED.
  bool target_past_syn_received = false;
  // The peer has sent an ACK a SYN cookie would check out (SEG.SEQ = its ISN + 1, SEG.ACK = the
  // target's ISN + 1): from then on the target holds the connection, cookie or not.
  bool peer_sent_cookie_ack = false;
  // The oracle follows this connection because the peer's ACK returned a SYN cookie, and the
  // target has not spoken since: it may have opened nothing (the cookie did not check out).
  bool cookie_unconfirmed = false;
  // The oracle lost track of which connection the target holds (Impl::lose).
  bool lost = false;
  // The connection may have died silently and the peer has since returned its SYN cookie: the
  // target may hold a fresh one from the same handshake. Until the target shows which, no ACK
  // is certainly taken by the one followed.
  bool maybe_reopened = false;
  // When the target last sent a segment here, as Oracle::Impl::segment_index.
  std::uint64_t target_spoke_at = 0;
  // When the target last sent new sequence space (data or its FIN): a timer that ends the
  // connection silently runs from there.
  std::int64_t target_advanced_us = 0;

  // --- What the target sends.
  SynInfo target_syn;
  SeqLine target_line;
  Seq snd_max;       // highest sequence number the target sent, plus one (SYN and FIN count)
  Seq snd_una;       // highest acceptable ACK from the peer: the most SND.UNA can be
  Seq snd_una_sure;  // highest ACK the target certainly took: the least SND.UNA can be
  bool target_sent_ack = false;  // has left SYN-SENT
  std::optional<Seq> target_fin;
  std::optional<Seq> last_ack;            // highest ACK from the target: its known RCV.NXT
  std::optional<Seq> target_window_edge;  // right edge of the target's latest advertised window
  ByteRecord sent;                        // by stream offset (position - 1)
  ByteFifo written;                       // what the application wrote, from written_base
  std::int64_t written_base = 0;
  RtxTable rtx;

  // --- What the peer sends.
  SynInfo peer_syn;
  SeqLine peer_line;
  ContiguousSpace peer_space;  // sequence space sent, by position
  ByteRecord peer_bytes;       // by position
  IntervalSet ambiguous;       // positions with differing copies the target may have kept
  std::optional<Seq> peer_fin;
  std::int64_t read_total = 0;
  // The most the target's SND.WND may be: RFC 9293 3.10.7.4 sets it from SEG.WND (scaled) of a
  // segment that passes the SND.WL1/WL2 test, and the target may send up to SND.UNA + SND.WND.
  std::optional<std::uint32_t> snd_wnd_max;
  std::optional<Seq> wl1;  // the highest SEG.SEQ the target may have taken a window from
  std::optional<Seq> wl2;  // the highest SEG.ACK at wl1
  std::optional<std::uint32_t> peer_tsval_max;  // the newest TSval the peer sent

  // A peer RST or SYN that requires a challenge ACK.
  std::optional<Challenge> challenge;

  void start_target(const TcpPacket& p) {
    target_syn = SynInfo::of(p);
    target_line = SeqLine(p.tcp.seq);
    snd_max = p.tcp.seq;
    snd_una = p.tcp.seq;
    snd_una_sure = p.tcp.seq;
    target_fin.reset();
    sent = ByteRecord();
    sent.forget_below(0);
    snd_wnd_max.reset();
    wl1.reset();
    wl2.reset();
    rtx.clear();
  }
  void start_peer(const TcpPacket& p) {
    peer_syn = SynInfo::of(p);
    if (const auto* ts = p.tcp.find<wire::OptTimestamps>()) note_peer_tsval(ts->val);
    peer_line = SeqLine(p.tcp.seq);
    peer_space = ContiguousSpace(0);
    peer_bytes = ByteRecord();
    peer_bytes.forget_below(1);
    ambiguous = IntervalSet();
    peer_fin.reset();
    read_total = 0;
    last_ack.reset();
    target_window_edge.reset();
    wl1.reset();
    wl2.reset();
  }

  // The end of what the peer sent without a hole: the most RCV.NXT can be.
  Seq rcv_hi() const { return peer_line.seq(peer_space.end()); }
  // The peer certainly acknowledged the target's SYN.
  bool synchronized() const { return target_syn.seen && snd_una_sure.gt(target_syn.iss); }
  // Both FINs acknowledged.
  bool closed() const {
    return target_fin && snd_una_sure.gt(*target_fin) && peer_fin && last_ack &&
           last_ack->gt(*peer_fin);
  }
  bool established() const {
    return end == End::kLive && synchronized() && peer_syn.seen && last_ack &&
           last_ack->gt(peer_syn.iss) && !closed();
  }
  bool both_ws() const { return target_syn.ws && peer_syn.ws; }
  bool both_ts() const { return target_syn.ts && peer_syn.ts; }
  // With timestamps on, the target may drop a segment by PAWS (RFC 7323 5.3 R1: a TSval older
  // than TS.Recent, which is at most the newest TSval the peer sent) or for carrying none
  // (RFC 7323 3.2: SHOULD drop; Linux does).
  bool maybe_paws_dropped(const wire::TcpHeader& h) const {
    if (!both_ts()) return false;
    const auto* ts = h.find<wire::OptTimestamps>();
    return ts == nullptr || (peer_tsval_max && Seq(ts->val).lt(Seq(*peer_tsval_max)));
  }
  // A TSval the peer sent (on a SYN too: the SYN sets TS.Recent, RFC 7323 4.3).
  void note_peer_tsval(std::uint32_t val) {
    if (!peer_tsval_max || Seq(val).gt(Seq(*peer_tsval_max))) peer_tsval_max = val;
  }
  bool live_or_maybe() const { return end == End::kLive || end == End::kMaybeGone; }
  // A timer may have ended the connection without a word: a retransmission timeout (something is
  // perhaps unacknowledged) or a FIN-WAIT-2 timeout (the target sent a FIN).
  // Data the application wrote and the peer has not acknowledged counts too: sent or not (a
  // zero window holds it back), the persist timer's probes give up like retransmissions.
  bool may_have_died() const {
    return snd_una_sure.lt(snd_max) || target_fin.has_value() || !written.empty();
  }
};

struct TupleState {
  std::unique_ptr<Conn> conn;
  // The incarnation before `conn`: the application may still be reading what it received.
  std::unique_ptr<Conn> previous;
  // An older incarnation whose received bytes the application had not all read when `previous`
  // took its place: handshakes reset before any data leave the first socket's data readable.
  std::unique_ptr<Conn> unread;
  // The latest handshakes the target answered here: a peer SYN and the SYN-ACK that answered
  // it, oldest first. A listener using SYN cookies (RFC 4987 3.6) keeps none of them, answers
  // each SYN afresh, and the ACK of any of them may open a connection later.
  struct Handshake {
    TcpPacket syn;
    TcpPacket synack;
    // When the peer last returned its cookie (a bare ACK with SEG.SEQ = its ISN + 1 and
    // SEG.ACK = the SYN-ACK's ISN + 1), as Oracle::Impl::segment_index; 0 if never.
    mutable std::uint64_t returned_at = 0;
    // The widest SEG.WND (unscaled) of the peer's ACKs of that SYN-ACK since then: the ACK that
    // opened a connection from the cookie set its SND.WND (RFC 9293 3.10.7.4), and a later one
    // (beyond a hole, say, which passes the SND.WL1/WL2 test) may have widened it.
    mutable std::optional<std::uint16_t> returned_window = std::nullopt;
    // The highest SEG.SEQ of those ACKs: the most SND.WL1 can be on that connection.
    mutable std::optional<Seq> returned_wl1 = std::nullopt;
  };
  std::vector<Handshake> handshakes;  // at most kMaxHandshakes: erasing the front is cheap
  // A SYN-ACK answering `syn`. One with the ISNs of a handshake remembered (a retransmission
  // from SYN-RECEIVED, or the answer to that SYN sent again) takes that one's place, which
  // handshake_for would not find any more: retransmissions do not push the others out. What
  // the peer's returns of that cookie showed stays.
  void remember_handshake(const TcpPacket& syn, const TcpPacket& synack) {
    const auto same = std::find_if(handshakes.begin(), handshakes.end(), [&](const Handshake& o) {
      return o.synack.tcp.seq == synack.tcp.seq && o.syn.tcp.seq == syn.tcp.seq;
    });
    if (same != handshakes.end()) {
      same->syn = syn;  // (in place: the packets' buffers are reused)
      same->synack = synack;
      std::rotate(same, same + 1, handshakes.end());  // now the newest
      return;
    }
    handshakes.push_back(Handshake{syn, synack});
    if (handshakes.size() > kMaxHandshakes) {
      if (forgotten.size() < kMaxForgottenHandshakes) {
        forgotten.emplace_back(handshakes.front().syn.tcp.seq, handshakes.front().synack.tcp.seq);
      } else {
        forgot_more = true;
      }
      handshakes.erase(handshakes.begin());
    }
  }
  // The ISNs (peer's, target's) of handshakes no longer in `handshakes`, oldest first; and
  // whether more were pushed out than those kept.
  std::vector<std::pair<Seq, Seq>> forgotten;
  bool forgot_more = false;
  // Whether an ACK (SEG.SEQ - 1, SEG.ACK - 1) may return the cookie of a handshake pushed out of
  // `handshakes` (found by session_fuzzer: ack-monotonic, a listener answering 21 SYNs with
  // cookies and the first one's cookie returning).
  bool may_return_forgotten_cookie(Seq peer_isn, Seq target_isn) const {
    return forgot_more || std::find(forgotten.begin(), forgotten.end(),
                                    std::pair{peer_isn, target_isn}) != forgotten.end();
  }
  // The newest handshake whose SYN-ACK had ISN `target_isn` (and whose SYN had `peer_isn`).
  const Handshake* handshake_for(Seq target_isn, std::optional<Seq> peer_isn = {}) const {
    for (std::size_t i = handshakes.size(); i-- > 0;) {  // newest first
      const Handshake& hs = handshakes[i];
      if (hs.synack.tcp.seq == target_isn && (!peer_isn || hs.syn.tcp.seq == *peer_isn)) {
        return &hs;
      }
    }
    return nullptr;
  }
  // The target has sent segments here while the oracle followed no connection.
  bool target_holds_unfollowed = false;
  // Where the target's latest ACK-bearing segment (not a SYN or RST) on this tuple stood: its
  // sequence number, one past its end plus one (a keep-alive probe sits one below SND.NXT), and
  // its ACK.
  struct Word {
    Seq seq_lo;
    Seq seq_hi;
    Seq ack;
  };
  std::optional<Word> last_target_word;
  // Segments sent to the target since its last segment on this tuple, oldest first: what a RST
  // from it may be answering.
  RecentPackets<kMaxUnanswered> unanswered;
  bool seen_to_target = false;
  std::optional<TcpPacket> last_peer_syn;  // the latest SYN without ACK sent to the target
  ByteFifo pending_written;                // written before any incarnation existed

  Conn& start_conn() {
    target_holds_unfollowed = false;
    // A SYN the target never answered with its own started nothing the application could read:
    // the incarnation before it stays the previous one.
    if (!(conn && !conn->target_syn.seen && previous)) {
      if (previous && previous->peer_bytes.at(previous->read_total + 1)) {
        unread = std::move(previous);
      }
      previous = std::move(conn);
    }
    conn = std::make_unique<Conn>();
    conn->written = std::move(pending_written);
    pending_written.clear();
    return *conn;
  }
};

}  // namespace detail

using detail::Conn;
using detail::End;
using detail::TupleState;

// ---------------------------------------------------------------------------------------------

std::span<const std::string_view> invariant_names() { return kInvariantNames; }

ConnKey ConnKey::of(Direction d, const TcpPacket& p) {
  if (d == Direction::kFromTarget) {
    return ConnKey{p.ip.src, p.tcp.src_port, p.ip.dst, p.tcp.dst_port};
  }
  return ConnKey{p.ip.dst, p.tcp.dst_port, p.ip.src, p.tcp.src_port};
}

std::string ConnKey::to_string() const {
  return "target " + target_addr.to_string() + ":" + std::to_string(target_port) + " <> peer " +
         peer_addr.to_string() + ":" + std::to_string(peer_port);
}

bool operator<(const ConnKey& a, const ConnKey& b) {
  return std::tie(a.target_addr.value, a.target_port, a.peer_addr.value, a.peer_port) <
         std::tie(b.target_addr.value, b.target_port, b.peer_addr.value, b.peer_port);
}

std::string Violation::to_string() const {
  std::array<char, 48> when{};
  const std::int64_t abs_us = time_us < 0 ? -time_us : time_us;
  std::snprintf(when.data(), when.size(), "[%s%lld.%06lld s] ", time_us < 0 ? "-" : "",
                static_cast<long long>(abs_us / 1000000), static_cast<long long>(abs_us % 1000000));
  return when.data() + invariant + ": " + detail;
}

// ---------------------------------------------------------------------------------------------

struct Oracle::Impl {
  // A segment being judged.
  struct Seg {
    const TcpPacket& p;
    ConnKey key;
    std::int64_t time_us = 0;
    const wire::TcpHeader& h() const { return p.tcp; }
  };

  OracleOptions options;
  std::map<ConnKey, std::unique_ptr<TupleState>> tuples;
  std::vector<Violation> violations;
  std::size_t violation_count = 0;
  std::int64_t latest_time_us = 0;
  std::uint64_t segment_index = 0;  // segments seen so far
  // Set while a segment judged before is replayed into a new connection's state
  // (follow_cookie_connection): it is not judged again.
  bool replaying = false;
  // What the last ByteRecord::put found; kept so that its lists' storage is reused.
  ByteRecord::PutResult put_result;

  TupleState& tuple(const ConnKey& k) {
    auto& slot = tuples[k];
    if (!slot) slot = std::make_unique<TupleState>();
    return *slot;
  }

  void report(std::string_view name, const ConnKey& k, std::int64_t time_us,
              const std::string& what) {
    if (replaying) return;
    ++violation_count;
    if (violations.size() >= options.max_violations) return;
    violations.push_back(Violation{std::string(name), k.to_string() + ": " + what, time_us});
  }
  void report(std::string_view name, const Seg& s, const std::string& expectation) {
    report(name, s.key, s.time_us, wire::format_tcp(s.p) + ": " + expectation);
  }

  // --- Segments from the target -------------------------------------------------------------

  void from_target(const Seg& s) {
    const wire::TcpHeader& h = s.h();
    if (!s.p.ip_checksum_ok) {
      report(invariant::kChecksum, s, "the IP header checksum must verify");
    }
    if (!s.p.tcp_checksum_ok) report(invariant::kChecksum, s, "the TCP checksum must verify");
    check_option_form(s);

    TupleState& tu = tuple(s.key);
    if (h.has(f::kRst)) {
      target_rst(s, tu);
      return;
    }
    if (!h.has(f::kSyn) && h.has(f::kAck)) {
      tu.last_target_word = TupleState::Word{h.seq, h.seq + s.p.segment_length() + 1, h.ack};
    }
    tu.unanswered.clear();  // the target is talking on this tuple: it has a connection
    if (tu.conn) tu.conn->cookie_unconfirmed = false;

    Conn* c = tu.conn.get();
    const bool syn = h.has(f::kSyn);
    if (syn && !h.has(f::kAck) &&
        (c == nullptr || !c->live_or_maybe() || c->closed() ||
         (c->target_syn.seen && h.seq != c->target_syn.iss))) {
      c = &tu.start_conn();  // an active open
    }
    if (syn && h.has(f::kAck) && c != nullptr && c->live_or_maybe() && c->target_syn.seen) {
      // A SYN-ACK that answers the peer's latest SYN starts a new connection when it has a new
      // ISN (after the handshake, or after the first connection ended unseen: its SYN-ACKs ran
      // out, say), or when that SYN had another ISN than the one the oracle follows (a SYN in
      // the window of a passive SYN-RECEIVED sends it back to LISTEN, RFC 9293 3.10.7.4, and a
      // clock-driven ISN generator may give the new connection the same ISN in the same tick).
      const bool answers_latest_syn = tu.last_peer_syn && h.ack == tu.last_peer_syn->tcp.seq + 1;
      const bool new_isn = h.seq != c->target_syn.iss;
      const bool other_peer_isn =
          answers_latest_syn && c->peer_syn.seen && tu.last_peer_syn->tcp.seq != c->peer_syn.iss;
      // A target whose SYN the peer acknowledged, and that has spoken past it, never sends its
      // SYN-ACK again: one answering the latest SYN starts a connection even with the old ISN
      // (a SYN cookie from the same SYN and clock tick after the first connection died
      // silently). Nor does one that has sent data or acknowledged the peer's, though the
      // oracle cannot tell which ACK of its SYN it took (the peer's SYN carried data: found by
      // session_fuzzer, ack-monotonic). (A FIN alone is no proof: CLOSE in SYN-RECEIVED sends
      // one, RFC 9293 3.10.4, and the SYN-ACK is still retransmitted.)
      // Nor does one carrying an option that only the latest SYN offered (found by
      // session_fuzzer: options-well-formed, a new listener answering a SYN with the ISN of the
      // connection followed, in the same clock tick, with that SYN's timestamps).
      const bool latest_syns_options = answers_latest_syn && c->peer_syn.seen &&
                                       ((has_kind(h, kind::kTimestamps) && !c->peer_syn.ts &&
                                         has_kind(tu.last_peer_syn->tcp, kind::kTimestamps)) ||
                                        (has_kind(h, kind::kWindowScale) && !c->peer_syn.ws &&
                                         has_kind(tu.last_peer_syn->tcp, kind::kWindowScale)));
      if ((new_isn && (c->synchronized() || answers_latest_syn)) || other_peer_isn ||
          latest_syns_options ||
          (answers_latest_syn && c->target_past_syn &&
           (c->synchronized() || c->target_past_syn_received))) {
        c = &answer_as_new_connection(s, tu, *c);
      }
    }
    if (c == nullptr) return;
    if (c->end == End::kResetByTarget || c->end == End::kResetMaybeCookie) {
      report(invariant::kNothingAfterRst, s,
             "the target reset this connection; only a new SYN, or a RST answering a later "
             "segment, may follow on this 4-tuple");
      return;
    }
    if (c->end == End::kMaybeGone && !syn) c->end = End::kLive;  // it survived the RST
    if (syn && h.has(f::kAck) && c->end == End::kMaybeGone && c->target_passive &&
        tu.last_peer_syn && h.ack == tu.last_peer_syn->tcp.seq + 1) {
      // A SYN-ACK answering the peer's latest SYN after a RST the target may have taken: a
      // new connection, or the old one's SYN-ACK again (the same as far as the oracle goes).
      c = &answer_as_new_connection(s, tu, *c);
    }
    if (c->end != End::kLive) {
      // The target talks on a tuple where the oracle follows no connection: it holds one the
      // oracle could not follow (say a SYN cookie's ACK came long after the peer's RST).
      tu.target_holds_unfollowed = true;
      return;
    }
    if (syn && h.has(f::kAck) && c->target_passive && c->peer_syn.seen &&
        h.ack != c->peer_syn.iss + 1 && tu.handshake_for(h.seq, h.ack - 1) != nullptr) {
      // A SYN-ACK that answers an earlier SYN of the peer than the one the oracle follows: the
      // target kept that one (in SYN-RECEIVED) and holds a connection the oracle does not
      // follow.
      lose(tu, *c);
      return;
    }
    if (!syn && h.has(f::kAck) && c->target_passive && c->target_past_syn && c->may_have_died() &&
        (contradicts(s, *c) || (c->maybe_reopened && looks_fresh(s, tu, *c)))) {
      // The connection followed may have died silently, and the target now speaks from an
      // earlier point of the peer's stream: a connection that the ACK of a SYN cookie opened
      // afresh (RFC 4987 3.6). The oracle follows that one when it knows which.
      const TupleState::Handshake* hs = tu.handshake_for(h.seq - 1);
      if (hs == nullptr) hs = tu.handshake_for(h.seq);  // a keep-alive probe, at SND.NXT - 1
      // Only a cookie the peer returned since the target last spoke opens a connection.
      if (hs != nullptr && (hs->returned_at > c->target_spoke_at || c->maybe_reopened)) {
        c = follow_cookie_connection(s, tu, *hs);
        if (c == nullptr) return;
        c->snd_una = c->snd_una_sure = hs->synack.tcp.seq + 1;
      }
    }
    if (syn) {
      if (!c->target_syn.seen || (h.seq != c->target_syn.iss && !c->synchronized())) {
        c->start_target(s.p);  // the target's SYN (passive: its SYN-ACK), or a new ISN
      } else if (!c->synchronized()) {
        c->target_syn = SynInfo::of(s.p);  // a retransmitted SYN: its options are what count
      }
    }
    if (!c->target_syn.seen) {
      // Not a connection the oracle can follow. A segment other than a SYN (or RST) here
      // answers the peer's SYN from a connection the target holds and that SYN did not start
      // (a challenge ACK, RFC 5961 4.2; TIME-WAIT's ACK): what the application writes now goes
      // to that one, not to `c`. The oracle follows neither until the next SYN.
      if (!syn) lose(tu, *c);
      return;
    }
    if (syn && h.has(f::kAck) && tu.last_peer_syn && h.ack == tu.last_peer_syn->tcp.seq + 1) {
      tu.remember_handshake(*tu.last_peer_syn, s.p);
    }
    if (!syn && c->target_passive && !c->target_past_syn && h.seq != c->target_syn.iss + 1) {
      const TupleState::Handshake* hs = tu.handshake_for(h.seq - 1);
      // (Or a keep-alive probe at SND.NXT - 1 = ISS, RFC 9293 3.8.4, from a connection the
      // peer's return of an earlier cookie opened: found by session_fuzzer, options-well-formed,
      // that cookie made for a SYN without timestamps.)
      if (hs == nullptr && probe_shaped(s) && h.seq != c->target_syn.iss) {
        hs = tu.handshake_for(h.seq);
        if (hs != nullptr && hs->returned_at == 0) hs = nullptr;
      }
      if (hs != nullptr) {
        // The target's first word after its SYN-ACK comes from a sequence number that SYN-ACK
        // did not set up: it completed another of the peer's SYNs (SYN cookies answer each SYN
        // statelessly, RFC 4987 3.6, and the ACK of an earlier cookie opens that connection).
        // The oracle follows that one when it knows what the peer sent on it (the same peer
        // ISN as the connection it followed); otherwise it waits for the next SYN.
        c = follow_cookie_connection(s, tu, *hs);
        if (c == nullptr) return;
        c->snd_una = c->snd_una_sure = hs->synack.tcp.seq + 1;  // its ACK was taken
      }
    }
    // Data from where a fresh connection from a remembered handshake starts (SEQ = its ISN + 1)
    // that differs from what the connection followed sent there (or that the oracle cannot
    // compare with it, differs_from_sent), once that one may have died and the peer has
    // returned the cookie since: the cookie's ACK opened a new connection with the same ISN
    // (RFC 4987 3.6), and the oracle cannot tell that one's writes from the old one's, which
    // went to another socket. It follows neither until the next SYN (found by
    // session_fuzzer: retransmission-same-bytes, after a retransmission timeout ended the first
    // connection silently).
    if (!syn && c->maybe_reopened && h.seq == c->target_syn.iss + 1 && !s.p.payload.empty() &&
        tu.handshake_for(h.seq - 1) != nullptr && differs_from_sent(s, *c)) {
      lose(tu, *c);
      return;
    }
    // Beyond where a fresh connection from the handshake could be: the target holds the old one.
    // (Only SEQ tells: the ACK that returned the cookie may have carried data, which the fresh
    // connection acknowledges as the old one would.)
    if (!syn && c->maybe_reopened && h.seq.gt(c->target_syn.iss + 1)) {
      c->maybe_reopened = false;
    }
    // Only what SYN-RECEIVED cannot send proves the target synchronized: data, a FIN, or an ACK
    // of the peer's data (a bare ACK with ACK = IRS + 1 also answers unacceptable segments in
    // SYN-RECEIVED, RFC 9293 3.10.7.4).
    const bool acks_peer_data = h.has(f::kAck) && c->peer_syn.seen && h.ack.gt(c->peer_syn.iss + 1);
    // So does a probe at SND.UNA - 1 = ISS (zero-window or keep-alive, RFC 9293 3.8.6.1,
    // 3.8.4): SYN-RECEIVED's ACKs are at SND.NXT = ISS + 1 (found by session_fuzzer:
    // stream-integrity, a connection that only ever probed a zero window, then died).
    const bool probe_at_iss =
        !syn && h.has(f::kAck) && h.seq == c->target_syn.iss && probe_shaped(s);
    if (!syn && (!s.p.payload.empty() || acks_peer_data || probe_at_iss)) {
      c->target_past_syn_received = true;
    }
    if (!syn && (!s.p.payload.empty() || h.has(f::kFin) || acks_peer_data || probe_at_iss)) {
      c->target_past_syn = true;
    }
    // Data shows more: SEND in SYN-SENT or SYN-RECEIVED queues it until ESTABLISHED (RFC 9293
    // 3.10.2), so the peer's ACK of the target's SYN was certainly taken, even where the oracle
    // could not tell which segment carried it (RCV.NXT uncertain: say the peer's SYN carried
    // data the target did not take).
    if (!syn && !s.p.payload.empty() && !c->snd_una_sure.gt(c->target_syn.iss)) {
      c->snd_una_sure = c->target_syn.iss + 1;
      if (!c->snd_una.gt(c->target_syn.iss)) c->snd_una = c->snd_una_sure;
    }

    judge_target_segment(s, *c);
  }

  void judge_target_segment(const Seg& s, Conn& c) {
    const wire::TcpHeader& h = s.h();
    const bool syn = h.has(f::kSyn);
    const bool fin = h.has(f::kFin);
    const std::uint32_t n = size32(s.p.payload.size());
    const Seq data_start = h.seq + (syn ? 1U : 0U);
    const Seq data_end = data_start + n;
    const Seq seg_end = data_end + (fin ? 1U : 0U);

    if (c.challenge) {
      check_challenge_reply(s, c);
      c.challenge.reset();
    }
    check_negotiated_options(s, c);
    if (h.has(f::kAck)) check_ack(s, c);

    // nothing-after-fin: after a FIN at F, F is the last sequence number the target may use.
    if (c.target_fin) {
      const Seq fin_at = *c.target_fin;
      if (n > 0 && data_end.gt(fin_at)) {
        report(invariant::kNothingAfterFin, s,
               "data up to " + num(data_end) + " after the FIN at " + num(fin_at) +
                   ": no data may follow a FIN");
      }
      if (fin && data_end != fin_at) {
        report(invariant::kNothingAfterFin, s,
               "FIN at " + num(data_end) + ", but the FIN was already sent at " + num(fin_at));
      }
    }

    if (n > 0) {
      check_send_window(s, c, data_start, data_end);
      check_sent_bytes(s, c, data_start);
    }
    if (s.p.segment_length() > 0) check_retransmission_interval(s, c);

    // The target's state after this segment.
    if (seg_end.gt(c.snd_max)) {
      c.target_advanced_us = s.time_us;
      c.snd_max = seg_end;
      c.target_line.advance(c.target_line.pos(c.snd_max));
    }
    if (fin && !c.target_fin) c.target_fin = data_end;
    c.target_spoke_at = segment_index;
    if (h.has(f::kAck)) {
      c.target_sent_ack = true;
      const std::uint8_t shift = !syn && c.both_ws() ? c.target_syn.shift : 0;
      c.target_window_edge = h.ack + (std::uint32_t{h.window} << shift);
    }
  }

  // options-well-formed, the part that needs no connection.
  void check_option_form(const Seg& s) {
    const wire::TcpHeader& h = s.h();
    const bool syn = h.has(f::kSyn);
    std::array<std::uint8_t, 256> count{};
    for (const wire::TcpOption& o : h.options) {
      const std::uint8_t k = wire::option_kind(o);
      if (k == kind::kEol || k == kind::kNop) continue;
      if (++count[k] == 2) {
        report(invariant::kOptionsWellFormed, s,
               "option kind " + std::to_string(k) + " appears more than once");
      }
      if (const auto* raw = std::get_if<wire::OptRaw>(&o)) {
        const char* expected = nullptr;
        switch (raw->kind) {
          case kind::kMss:
            expected = "4";
            break;
          case kind::kWindowScale:
            expected = "3";
            break;
          case kind::kSackPermitted:
            expected = "2";
            break;
          case kind::kSack:
            expected = "2 + 8 per block";
            break;
          case kind::kTimestamps:
            expected = "10";
            break;
          default:
            break;
        }
        if (expected != nullptr) {
          report(invariant::kOptionsWellFormed, s,
                 "option kind " + std::to_string(raw->kind) + " has length " +
                     std::to_string(raw->data.size() + 2) + ", expected " + expected);
        }
      }
      if (const auto* sack = std::get_if<wire::OptSack>(&o); sack && sack->blocks.empty()) {
        report(invariant::kOptionsWellFormed, s, "a SACK option must carry at least one block");
      }
      if (!syn && (k == kind::kMss || k == kind::kWindowScale || k == kind::kSackPermitted)) {
        report(invariant::kOptionsWellFormed, s,
               "option kind " + std::to_string(k) +
                   " (MSS, window scale, SACK-permitted) is only allowed on a SYN");
      }
      if (const auto* ws = std::get_if<wire::OptWindowScale>(&o);
          ws && ws->shift > kMaxWindowShift) {
        report(invariant::kOptionsWellFormed, s,
               "window scale shift " + std::to_string(ws->shift) + " exceeds 14 (RFC 7323 2.3)");
      }
    }
  }

  // options-well-formed, the part that depends on what the SYNs negotiated.
  void check_negotiated_options(const Seg& s, const Conn& c) {
    const wire::TcpHeader& h = s.h();
    const bool has_ts = has_kind(h, kind::kTimestamps);
    if (h.has(f::kSyn)) {
      // RFC 7323 2.2 and 3.2: a SYN-ACK may carry WS / TS only if the SYN it answers did.
      if (h.has(f::kAck) && c.target_passive && c.peer_syn.seen) {
        if (has_ts && !c.peer_syn.ts) {
          report(invariant::kOptionsWellFormed, s,
                 "timestamps on a SYN-ACK, but the peer's SYN carried none (RFC 7323 3.2)");
        }
        if (has_kind(h, kind::kWindowScale) && !c.peer_syn.ws) {
          report(invariant::kOptionsWellFormed, s,
                 "window scale on a SYN-ACK, but the peer's SYN carried none (RFC 7323 2.2)");
        }
      }
      return;
    }
    if (!c.peer_syn.seen) return;
    const bool ts_on = c.target_syn.ts && c.peer_syn.ts;
    if (ts_on && !has_ts) {
      report(invariant::kOptionsWellFormed, s,
             "no timestamps, but both SYNs carried them: RFC 7323 3.2 requires them on every "
             "non-RST segment");
    } else if (!ts_on && has_ts) {
      report(invariant::kOptionsWellFormed, s,
             std::string("timestamps, but they were not negotiated (the ") +
                 (c.target_syn.ts ? "peer's" : "target's") + " SYN carried none)");
    }
    if (has_kind(h, kind::kSack) && !(c.target_syn.sack_ok && c.peer_syn.sack_ok)) {
      report(invariant::kOptionsWellFormed, s,
             "SACK blocks, but SACK-permitted was not on both SYNs (RFC 2018 3)");
    }
  }

  // ack-monotonic and ack-covers-unsent.
  void check_ack(const Seg& s, Conn& c) {
    const Seq ack = s.h().ack;
    if (!c.peer_syn.seen) {
      report(invariant::kAckCoversUnsent, s,
             "ack " + num(ack) + " acknowledges a SYN the peer has not sent");
      return;
    }
    const Seq hi = c.rcv_hi();
    bool believable = true;
    if (ack.gt(hi)) {
      believable = false;
      report(invariant::kAckCoversUnsent, s,
             "ack " + num(ack) + " covers sequence numbers the peer has not sent (it has sent " +
                 "everything below " + num(hi) + " without a hole)");
    }
    if (c.last_ack && ack.lt(*c.last_ack)) {
      report(invariant::kAckMonotonic, s,
             "ack " + num(ack) + " is below the previous ack " + num(*c.last_ack));
    }
    if (believable && (!c.last_ack || ack.gt(*c.last_ack))) c.last_ack = ack;
    // A FIN the target took ends the peer's stream there: RCV.NXT stays at FIN + 1. An ACK
    // beyond shows it took data the peer sent past that FIN instead (before it, beyond a hole).
    if (believable && c.peer_fin && ack.gt(*c.peer_fin + 1)) c.peer_fin.reset();
  }

  // The oracle cannot tell which connection the target holds on this 4-tuple (SYN cookies): it
  // follows none until the next SYN, and judges no reads of the one it had followed.
  static void lose(TupleState& tu, Conn& c) {
    c.end = End::kGone;
    c.lost = true;
    tu.target_holds_unfollowed = true;
  }

  // The shape of a keep-alive probe (RFC 9293 3.8.4), as of a zero-window probe: no FIN, and no
  // data or one garbage octet.
  static bool probe_shaped(const Seg& s) { return s.p.payload.size() <= 1 && !s.h().has(f::kFin); }

  // A segment (not a SYN or RST) the connection followed cannot send: its ACK below one the
  // target sent before, data past its FIN, or its SEQ below what SND.UNA certainly is (but for a
  // keep-alive probe at SND.UNA - 1 with nothing outstanding, probe_shaped; and not where a
  // challenge ACK is owed: that reply is at SND.NXT, RFC 5961 3.2, 4.2).
  static bool contradicts(const Seg& s, const Conn& c) {
    const wire::TcpHeader& h = s.h();
    if (h.has(f::kAck) && c.last_ack && h.ack.lt(*c.last_ack)) return true;
    // (Data past its FIN tells even where SND.UNA is uncertain.)
    if (c.target_fin && !s.p.payload.empty() &&
        (h.seq + size32(s.p.payload.size())).gt(*c.target_fin)) {
      return true;
    }
    // So does a first FIN that would end the stream before data already sent. (Found by
    // session_fuzzer: challenge-ack, the FIN at ISS + 1 of a connection a cookie's return opened
    // after the first one, which had sent data there, died of retransmission timeouts.)
    if (h.has(f::kFin) && !c.target_fin && (h.seq + size32(s.p.payload.size())).lt(c.snd_max)) {
      return true;
    }
    const bool probe_shape = probe_shaped(s) && !c.challenge;
    return h.seq.lt(c.snd_una_sure) &&
           !(probe_shape && h.seq + 1 == c.snd_una_sure && c.snd_una_sure == c.snd_max);
  }

  // Whether a target segment's data (at least one octet) may not be what `c` would send there:
  // it differs from what `c` first sent at the same positions (those not yet acknowledged and
  // forgotten: an ACK the oracle could not rule out may have made it forget the segment's first
  // bytes; found by session_fuzzer: retransmission-same-bytes), or beyond what it sent, from
  // what the application wrote there, which `c` would send (found by session_fuzzer:
  // stream-integrity, a zero window holding back what was written); or the oracle holds none of
  // those bytes to compare (an ACK of the peer's that `c` would have taken, had it lived, made
  // it forget them all; found by session_fuzzer: retransmission-same-bytes, at a later
  // segment).
  static bool differs_from_sent(const Seg& s, const Conn& c) {
    const std::int64_t offset = c.target_line.pos(s.h().seq) - 1;
    bool compared = false;
    for (std::size_t i = 0; i < s.p.payload.size(); ++i) {
      const std::int64_t at = offset + static_cast<std::int64_t>(i);
      std::optional<std::uint8_t> expected = c.sent.at(at);
      if (!expected && at >= c.written_base &&
          at - c.written_base < static_cast<std::int64_t>(c.written.size())) {
        expected = c.written[static_cast<std::size_t>(at - c.written_base)];
      }
      if (expected && *expected != s.p.payload[i]) return true;
      compared = compared || expected.has_value();
    }
    return !compared;
  }

  // Whether the application wrote bytes that `c`, having sent data, has not sent: once a new
  // connection may hold the 4-tuple, they went to its socket or to `c`'s, and the oracle cannot
  // tell which (found by session_fuzzer: stream-integrity, a cookie's ACK opening a connection
  // after a retransmission timeout ended the first one silently).
  // So, too, where `c` sent no data but certainly held the 4-tuple (it acknowledged the peer's
  // data, which SYN-RECEIVED cannot, or the peer's ACK of its SYN-ACK checked out as a cookie):
  // what the application wrote before went to its socket (found by session_fuzzer:
  // stream-integrity, writes held back by a zero window).
  static bool wrote_past_sent_data(const Conn& c) {
    if (!c.target_syn.seen) return false;
    const std::int64_t sent_end =
        c.target_line.pos(c.snd_max) - 1 - (c.target_fin && c.snd_max.gt(*c.target_fin) ? 1 : 0);
    const std::int64_t written_end = c.written_base + static_cast<std::int64_t>(c.written.size());
    return (sent_end > 0 || c.target_past_syn_received || c.peer_sent_cookie_ack) &&
           written_end > sent_end;
  }

  // A segment that is where a fresh connection from a remembered handshake would be (SEQ = its
  // ISN + 1, ACK = the peer's ISN + 1) and not where the connection followed certainly is.
  static bool looks_fresh(const Seg& s, const TupleState& tu, const Conn& c) {
    const wire::TcpHeader& h = s.h();
    const TupleState::Handshake* hs = tu.handshake_for(h.seq - 1, h.ack - 1);
    // (Where the connection followed would send a keep-alive probe, the segment is taken for
    // one, unless it answers a SYN or RST that is owed a challenge ACK.)
    const bool probe_of_followed =
        h.seq + 1 == c.snd_una_sure && c.snd_una_sure == c.snd_max && !c.challenge;
    return hs != nullptr && s.p.payload.empty() && !probe_of_followed &&
           (c.snd_una_sure.gt(h.seq) || (c.last_ack && c.last_ack->gt(h.ack)));
  }

  // The connection the ACK of an earlier handshake's SYN cookie opens (RFC 4987 3.6): the oracle
  // follows it from that SYN and SYN-ACK, carrying over what the peer sent on the connection it
  // followed until now (the oracle records a peer's segments even on a connection that ended).
  // That needs the same peer ISN (the same sequence space) and nothing read yet; otherwise the
  // oracle cannot know what the peer sent on the new connection, and it follows nothing on
  // this 4-tuple until the next SYN (nullptr).
  Conn* follow_cookie_connection(const Seg& s, TupleState& tu, const TupleState::Handshake& hs) {
    Conn* before = tu.conn.get();
    if (before != nullptr && (!before->peer_syn.seen || before->peer_syn.iss != hs.syn.tcp.seq ||
                              before->read_total != 0 || wrote_past_sent_data(*before))) {
      lose(tu, *before);
      return nullptr;
    }
    // start_conn drops an incarnation whose SYN the target never answered with its own; what it
    // recorded is still needed here.
    std::unique_ptr<Conn> unanswered;
    if (before != nullptr && !before->target_syn.seen && tu.previous) {
      unanswered = std::make_unique<Conn>(std::move(*before));
      before = unanswered.get();
    }
    Conn& c = tu.start_conn();
    c.target_passive = true;
    c.start_peer(hs.syn);
    if (before != nullptr) {
      // An earlier SYN with that ISN (the same sequence space) may be the one the target kept
      // and answered by: its options count too (found by session_fuzzer: options-well-formed,
      // SACK negotiated by the first SYN, which a SYN-RECEIVED kept, and not by a later one).
      c.peer_syn.merge_options(before->peer_syn);
      c.peer_line = before->peer_line;
      c.peer_space = before->peer_space;
      c.peer_bytes = before->peer_bytes;
      c.ambiguous = before->ambiguous;
      c.peer_fin = before->peer_fin;
      // The application writes to the socket of the connection the target holds; what it
      // wrote while the oracle followed one whose target side never sent data (a FIN at most:
      // after CLOSE nothing more is sent there, RFC 9293 3.10.4) is this one's.
      const Seq data_end = before->target_fin ? *before->target_fin : before->snd_max;
      if (before->written_base == 0 && before->sent.size() == 0 &&
          !data_end.gt(before->target_syn.iss + 1)) {
        c.written = std::move(before->written);
        before->written.clear();
      }
    } else {
      record_peer_segment(Seg{hs.syn, s.key, s.time_us}, c);
    }
    c.start_target(hs.synack);
    // (That SYN-ACK may have answered an earlier SYN with the same ISN and other options: the
    // oracle judged it when it was sent.)
    replaying = true;
    judge_target_segment(Seg{hs.synack, s.key, s.time_us}, c);
    replaying = false;
    c.peer_sent_cookie_ack = true;
    if (hs.returned_window) {
      // The window the ACK that opened it set (not a later segment's the target may drop).
      const std::uint8_t shift = c.both_ws() ? c.peer_syn.shift : 0;
      c.snd_wnd_max = std::uint32_t{*hs.returned_window} << shift;
    }
    if (hs.returned_wl1) {  // (every one of those ACKs has SEG.ACK = ISS + 1)
      c.wl1 = *hs.returned_wl1;
      c.wl2 = hs.synack.tcp.seq + 1;
    }
    return &c;
  }

  // A listener that never spoke past its SYN-ACK may still keep the earlier SYN with the ISN
  // of `c`'s (the oracle thought it gone: a RST it may have ignored, a closed-port answer to an
  // unacceptable ACK that SYN-RECEIVED sends too) and answer by that SYN's options.
  static void take_kept_syn_options(const TupleState& tu, Conn& c) {
    const Conn* before = tu.previous.get();
    if (before != nullptr && before->target_passive && !before->target_past_syn &&
        before->peer_syn.seen && c.peer_syn.seen && before->peer_syn.iss == c.peer_syn.iss) {
      c.peer_syn.merge_options(before->peer_syn);
      if (before->peer_tsval_max) c.note_peer_tsval(*before->peer_tsval_max);
    }
  }

  // A SYN-ACK with a new ISN on a synchronized connection: the target answers the peer's latest
  // SYN as a new connection, so it has none on this 4-tuple any more. That is a challenge-ack
  // violation when the SYN was on a connection that cannot have died silently; either way the
  // oracle follows the new connection.
  Conn& answer_as_new_connection(const Seg& s, TupleState& tu, const Conn& old) {
    if (old.challenge && old.challenge->cause.tcp.has(f::kSyn) && old.challenge->strict) {
      report(invariant::kChallengeAck, s,
             "a SYN-ACK for a new connection in reply to " +
                 wire::format_tcp(old.challenge->cause) +
                 ": RFC 5961 requires a challenge ACK, and the established connection must stay");
    }
    Conn& c = tu.start_conn();
    c.target_passive = true;
    if (tu.last_peer_syn) {
      c.start_peer(*tu.last_peer_syn);
      record_peer_segment(Seg{*tu.last_peer_syn, s.key, s.time_us}, c);
      take_kept_syn_options(tu, c);
    }
    return c;
  }

  // challenge-ack: the target's first segment after a peer RST or SYN that requires a challenge
  // ACK (a RST in reply is judged in target_rst, a new connection in answer_as_new_connection).
  void check_challenge_reply(const Seg& s, const Conn& c) {
    const wire::TcpHeader& h = s.h();
    // Formatted only for a report.
    auto cause = [&c] { return wire::format_tcp(c.challenge->cause); };
    if (h.has(f::kSyn)) {
      if (!c.challenge->strict) return;  // a SYN-ACK again from SYN-RECEIVED, perhaps
      report(invariant::kChallengeAck, s,
             "a SYN in reply to " + cause() +
                 ": RFC 5961 requires a challenge ACK on the established connection");
      return;
    }
    if (!h.has(f::kAck) || h.has(f::kFin) || !s.p.payload.empty()) return;  // not an ACK reply
    const Seq seq_lo = c.snd_una_sure;
    const Seq seq_hi = c.snd_max;
    if (!h.seq.in_range(seq_lo, seq_hi)) {
      report(
          invariant::kChallengeAck, s,
          "a challenge ACK must have SEQ = SND.NXT (" +
              (seq_lo == seq_hi ? num(seq_lo) : "between " + num(seq_lo) + " and " + num(seq_hi)) +
              "), in reply to " + cause());
    }
    if (c.last_ack) {
      const Seq ack_lo = *c.last_ack;
      const Seq ack_hi = c.rcv_hi();
      if (!h.ack.in_range(ack_lo, ack_hi)) {
        report(invariant::kChallengeAck, s,
               "a challenge ACK must have ACK = RCV.NXT (" +
                   (ack_lo == ack_hi ? num(ack_lo)
                                     : "between " + num(ack_lo) + " and " + num(ack_hi)) +
                   "), in reply to " + cause());
      }
    }
  }

  // send-within-window.
  void check_send_window(const Seg& s, const Conn& c, Seq data_start, Seq data_end) {
    if (!c.snd_wnd_max) return;
    const Seq edge = c.snd_una + *c.snd_wnd_max;
    // RFC 9293 3.8.6.1: after the window shrinks, data sent before may still be retransmitted
    // beyond it; only new data must stay inside.
    const Seq limit = c.snd_max.gt(edge) ? c.snd_max : edge;
    if (!data_end.gt(limit)) return;
    if (s.p.payload.size() == 1 && data_start == limit) return;  // a zero-window probe
    report(invariant::kSendWithinWindow, s,
           "data up to " + num(data_end) + " goes past the right edge " + num(edge) +
               " of the peer's window (SND.UNA " + num(c.snd_una) + " + window " +
               std::to_string(*c.snd_wnd_max) + ") and is not a one-byte zero-window probe");
  }

  // retransmission-same-bytes, and the sending half of stream-integrity.
  void check_sent_bytes(const Seg& s, Conn& c, Seq data_start) {
    const std::int64_t offset = c.target_line.pos(data_start) - 1;
    ByteRecord::PutResult& r = put_result;
    c.sent.put(offset, s.p.payload, r);
    if (r.first_mismatch) {
      std::int64_t differing = 0;
      for (const Stretch& d : r.differing) differing += d.end - d.begin;
      const ByteRecord::Mismatch& m = *r.first_mismatch;
      report(invariant::kRetransmissionSameBytes, s,
             "the byte at seq " + num(c.target_line.seq(m.pos + 1)) + " was " +
                 hex_byte(m.recorded) + " when first sent and is " + hex_byte(m.seen) + " now (" +
                 std::to_string(differing) + " byte(s) differ)");
    }
    if (!options.app_writes_observed) return;
    const std::int64_t written_end = c.written_base + static_cast<std::int64_t>(c.written.size());
    for (const Stretch& fresh : r.fresh) {
      const std::int64_t from = std::max(fresh.begin, c.written_base);
      if (from >= fresh.end) continue;
      const std::int64_t written_part_end = std::min(fresh.end, written_end);
      if (from < written_part_end) {
        const std::uint8_t* sent = s.p.payload.data() + (from - offset);
        const auto n = static_cast<std::size_t>(written_part_end - from);
        const std::uint8_t* wrote = c.written.data() + (from - c.written_base);
        if (!std::equal(sent, sent + n, wrote)) {
          const auto [sent_at, wrote_at] = std::mismatch(sent, sent + n, wrote);
          const std::int64_t at = from + (sent_at - sent);
          report(invariant::kStreamIntegrity, s,
                 "sends " + hex_byte(*sent_at) + " at stream offset " + std::to_string(at) +
                     " (seq " + num(c.target_line.seq(at + 1)) + "), but the application wrote " +
                     hex_byte(*wrote_at) + " there");
          return;
        }
      }
      if (fresh.end > written_end) {
        const std::int64_t at = std::max(from, written_end);
        report(invariant::kStreamIntegrity, s,
               "sends stream offset " + std::to_string(at) + " (seq " +
                   num(c.target_line.seq(at + 1)) +
                   "), which the application has not written (it has written " +
                   std::to_string(written_end) + " bytes)");
        return;
      }
    }
  }

  // rto-never-shrinks.
  void check_retransmission_interval(const Seg& s, Conn& c) {
    const wire::TcpHeader& h = s.h();
    const auto key = std::make_pair(h.seq.raw(), static_cast<std::uint8_t>(h.flags & ~f::kPsh));
    const auto [entry, first] = c.rtx.find_or_add(key, detail::Rtx{s.time_us, std::nullopt});
    if (first) {
      if (c.rtx.size() > kMaxRtxEntries) c.rtx.clear();
      return;
    }
    detail::Rtx& r = *entry;
    const std::int64_t interval = s.time_us - r.last_us;
    const std::int64_t slack =
        r.interval_us ? std::max(options.rto_slack_us,
                                 static_cast<std::int64_t>(static_cast<double>(*r.interval_us) *
                                                           options.rto_slack_percent / 100.0))
                      : 0;
    if (r.interval_us && interval + slack < *r.interval_us) {
      report(invariant::kRtoNeverShrinks, s,
             "sent again " + std::to_string(interval) +
                 " us after the previous transmission of this segment, but the interval before "
                 "that was " +
                 std::to_string(*r.interval_us) +
                 " us: with no segment from the peer in between, retransmission intervals must "
                 "not shrink");
    }
    r.interval_us = interval;
    r.last_us = s.time_us;
  }

  // --- RSTs from the target ------------------------------------------------------------------

  // RFC 9293 3.10.7.1: the RST that answers `seg` when there is no connection.
  static bool answers(const TcpPacket& rst, const TcpPacket& seg) {
    if (seg.tcp.has(f::kRst)) return false;  // a RST is never answered
    if (seg.tcp.has(f::kAck)) return rst.tcp.seq == seg.tcp.ack && !rst.tcp.has(f::kAck);
    return rst.tcp.seq == Seq(0) && rst.tcp.has(f::kAck) &&
           rst.tcp.ack == seg.tcp.seq + seg.segment_length();
  }

  static std::string expected_reply(const TcpPacket& seg) {
    if (seg.tcp.has(f::kAck)) {
      return "expected <SEQ=" + num(seg.tcp.ack) + "><CTL=RST> (RFC 9293 3.10.7.1) answering " +
             wire::format_tcp(seg);
    }
    return "expected <SEQ=0><ACK=" + num(seg.tcp.seq + seg.segment_length()) +
           "><CTL=RST,ACK> (RFC 9293 3.10.7.1) answering " + wire::format_tcp(seg);
  }

  // Consumes the newest unanswered segment that `rst` answers, and everything before it. With
  // `unsynchronized`, only a segment whose ACK that connection in SYN-SENT or SYN-RECEIVED finds
  // unacceptable (outside ISS < SEG.ACK =< SND.NXT) counts.
  static bool consume_answered(TupleState& tu, const TcpPacket& rst,
                               const Conn* unsynchronized = nullptr) {
    for (auto it = tu.unanswered.rbegin(); it != tu.unanswered.rend(); ++it) {
      if (unsynchronized != nullptr &&
          (!it->tcp.has(f::kAck) ||
           it->tcp.ack.in_range(unsynchronized->target_syn.iss + 1, unsynchronized->snd_max))) {
        continue;
      }
      if (answers(rst, *it)) {
        tu.unanswered.erase_before(it.base());
        return true;
      }
    }
    return false;
  }

  // Consumes the newest unanswered segment `rst` answers when that is an ACK whose SEG.SEQ is
  // not the peer's ISN + 1 (and everything before it).
  static bool answers_a_failed_cookie(TupleState& tu, const TcpPacket& rst, const Conn& c) {
    for (auto it = tu.unanswered.rbegin(); it != tu.unanswered.rend(); ++it) {
      if (it->tcp.has(f::kRst)) continue;
      if (!answers(rst, *it)) return false;
      if (!it->tcp.has(f::kAck) || !c.peer_syn.seen || it->tcp.seq == c.peer_syn.iss + 1) {
        return false;
      }
      tu.unanswered.erase_before(it.base());
      return true;
    }
    return false;
  }

  void target_rst(const Seg& s, TupleState& tu) {
    Conn* c = tu.conn.get();
    // An abort carries the connection's RCV.NXT (RST,ACK: close() with unread data, RFC 9293
    // 3.10.4 and RFC 2525 2.17, as Linux sends it; a closed port answers a segment with ACK by a
    // bare RST). Past the peer's FIN + 1, it shows that FIN was dropped as old, as check_ack
    // concludes from an ACK.
    const wire::TcpHeader& h = s.h();
    if (c != nullptr && c->end == End::kLive && h.has(f::kAck) && c->peer_fin &&
        h.ack.gt(*c->peer_fin + 1) && !h.ack.gt(c->rcv_hi())) {
      c->peer_fin.reset();
    }
    if (c != nullptr && c->end == End::kMaybeGone) {
      // The target may or may not have had the connection: a teardown and a closed-port answer
      // are both fine, and either way it has none now.
      c->end = consume_answered(tu, s.p) ? End::kGone : End::kResetByTarget;
      tu.unanswered.clear();
      return;
    }
    if (c != nullptr && c->end == End::kLive && c->cookie_unconfirmed) {
      // The connection a returned SYN cookie may have opened: a RST answering that ACK like a
      // closed port says it did not; an abort of it carries on from its ISN.
      c->cookie_unconfirmed = false;
      if (consume_answered(tu, s.p)) {
        c->end = End::kGone;
        tu.unanswered.clear();
        return;
      }
      if (!s.h().seq.in_range(c->snd_una_sure, c->snd_max)) {
        const auto newest = std::find_if(tu.unanswered.rbegin(), tu.unanswered.rend(),
                                         [](const TcpPacket& p) { return !p.tcp.has(f::kRst); });
        report(invariant::kRstReplyForm, s,
               newest != tu.unanswered.rend()
                   ? expected_reply(*newest)
                   : "a RST whose SEQ is neither SEG.ACK of a segment it answers nor SND.NXT");
        c->end = End::kGone;
        tu.unanswered.clear();
        return;
      }
    }
    if (c != nullptr && c->end == End::kLive && c->target_syn.seen && !c->closed()) {
      if (c->challenge) {
        const detail::Challenge ch = *c->challenge;
        c->challenge.reset();
        if (ch.strict) {
          report(invariant::kChallengeAck, s,
                 "a RST in reply to " + wire::format_tcp(ch.cause) +
                     ": RFC 5961 requires a challenge ACK, and the connection must survive");
        } else if (consume_answered(tu, s.p)) {
          // Answered like a closed port: the connection had died silently. Unless the target
          // is a listener that never spoke past its SYN-ACK: SYN-RECEIVED (its accept queue
          // full, the ACK that completed the handshake dropped) answers an unacceptable ACK
          // with the same <SEQ=SEG.ACK><CTL=RST> and keeps the connection (RFC 9293 3.10.7.4).
          c->end = c->target_passive && !c->target_past_syn ? End::kMaybeGone : End::kGone;
          return;
        }
      } else if (((!c->synchronized() || (c->target_passive && !c->target_past_syn)) &&
                  consume_answered(tu, s.p, &*c)) ||
                 (c->target_passive && !c->target_past_syn && !c->peer_sent_cookie_ack &&
                  answers_a_failed_cookie(tu, s.p, *c))) {
        // RFC 9293 3.10.7.3 / 3.10.7.4: SYN-SENT and SYN-RECEIVED answer an unacceptable ACK
        // with <SEQ=SEG.ACK><CTL=RST> and keep the connection. A listener that has not spoken
        // since its SYN-ACK may still be in SYN-RECEIVED although the peer's ACK completed the
        // handshake on the wire (a full accept queue drops that ACK).
        // Or: a listener answering with SYN cookies (RFC 4987 3.6) keeps no state after its
        // SYN-ACK: an ACK whose SEG.SEQ is not the one the cookie was made for (the peer's
        // ISN + 1) fails the cookie check and is answered like one to a closed port,
        // <SEQ=SEG.ACK><CTL=RST>, while a later ACK with a good cookie still opens the
        // connection. A listener holding state would have taken that in-window segment, so the
        // RST says the target used a cookie, and the connection is not over for the oracle.
        return;
      }
      // A teardown (the form of an abort is not judged).
      c->end = c->target_passive && !c->target_past_syn && consume_answered(tu, s.p)
                   ? End::kResetMaybeCookie
                   : End::kResetByTarget;
      tu.unanswered.clear();
      return;
    }

    // The target has no connection here (none seen, reset, closed, or never past LISTEN).
    if (consume_answered(tu, s.p)) {
      // Answering the SYN that started `c` like a closed port: that SYN started nothing, and
      // the ACK of an earlier handshake's cookie may open a connection after all.
      if (c != nullptr && c->end == End::kLive && !c->target_syn.seen && tu.last_peer_syn &&
          answers(s.p, *tu.last_peer_syn)) {
        c->end = End::kGone;
      }
      return;
    }
    if (tu.target_holds_unfollowed) {  // a teardown of the connection the oracle lost sight of
      tu.target_holds_unfollowed = false;
      tu.unanswered.clear();
      return;
    }
    // An abort in the form Linux sends (<SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>) that carries on
    // from the target's latest segment here: the teardown of a connection the target held and
    // the oracle had lost (a keep-alive timeout after SYN cookies and resets it could not
    // follow), not an answer to anything.
    if (h.has(f::kAck) && tu.last_target_word && h.ack == tu.last_target_word->ack &&
        h.seq.in_range(tu.last_target_word->seq_lo, tu.last_target_word->seq_hi)) {
      tu.unanswered.clear();
      return;
    }
    const auto newest = std::find_if(tu.unanswered.rbegin(), tu.unanswered.rend(),
                                     [](const TcpPacket& p) { return !p.tcp.has(f::kRst); });
    if (newest != tu.unanswered.rend()) {
      report(invariant::kRstReplyForm, s, expected_reply(*newest));
    } else if (!tu.unanswered.empty()) {
      report(invariant::kRstReplyForm, s,
             "a RST must never answer a RST (" + wire::format_tcp(tu.unanswered.back()) + ")");
    } else if (c != nullptr &&
               (c->end == End::kResetByTarget || c->end == End::kResetMaybeCookie)) {
      report(invariant::kNothingAfterRst, s,
             "the target already reset this connection, and no segment has arrived since that "
             "this RST could answer");
    } else if (tu.seen_to_target) {
      report(invariant::kRstReplyForm, s,
             "a RST with no connection must answer a segment, and every segment sent on this "
             "4-tuple has been answered");
    }
    tu.unanswered.clear();
  }

  // --- Segments to the target ----------------------------------------------------------------

  void to_target(const Seg& s) {
    const wire::TcpHeader& h = s.h();
    TupleState& tu = tuple(s.key);
    tu.seen_to_target = true;
    tu.unanswered.push_back(s.p);

    Conn* c = tu.conn.get();
    const bool syn = h.has(f::kSyn) && !h.has(f::kRst);
    if (syn && !h.has(f::kAck)) tu.last_peer_syn = s.p;
    const bool bare_ack = !syn && h.has(f::kAck) && !h.has(f::kRst);
    const bool own_cookie_ack = bare_ack && c != nullptr && c->peer_syn.seen &&
                                c->target_syn.seen && h.seq == c->peer_syn.iss + 1 &&
                                h.ack == c->target_syn.iss + 1;
    if (own_cookie_ack) {
      c->peer_sent_cookie_ack = true;
      // (A target that sent its FIN may have died whether or not the ACK of its SYN was taken:
      // a CLOSE in SYN-RECEIVED sends the FIN too, RFC 9293 3.10.4, and it times out as well.)
      // (Nor need the ACK of its SYN be certain where the target acknowledged the peer's data,
      // which SYN-RECEIVED cannot: found by session_fuzzer, stream-integrity, the peer's SYN
      // carrying data the SYN-ACK did not take.)
      if (c->end == End::kLive && c->target_past_syn &&
          (c->synchronized() || c->target_fin || c->target_past_syn_received) &&
          c->may_have_died() && s.time_us - c->target_advanced_us >= kMinSilentDeathUs) {
        c->maybe_reopened = true;
      }
    }
    // An ACK that returns the SYN cookie of a handshake on this 4-tuple may open a connection
    // where the target holds none (RFC 4987 3.6: the cookie is all the state there is, and it
    // stays good after a connection it opened ends): the oracle follows that connection afresh.
    // Where the target may still hold the connection the oracle followed, it may hold either,
    // and the oracle waits for the next SYN (unless both are the same: a listener that never
    // spoke past that handshake's SYN-ACK).
    const TupleState::Handshake* cookie =
        bare_ack ? tu.handshake_for(h.ack - 1, h.seq - 1) : nullptr;
    if (cookie != nullptr) cookie->returned_at = segment_index;
    if (const TupleState::Handshake* opened = bare_ack ? tu.handshake_for(h.ack - 1) : nullptr;
        opened != nullptr && opened->returned_at != 0) {
      opened->returned_window = std::max(opened->returned_window.value_or(0), h.window);
      if (!opened->returned_wl1 || h.seq.gt(*opened->returned_wl1)) opened->returned_wl1 = h.seq;
    }
    if (bare_ack && cookie == nullptr && !own_cookie_ack && c != nullptr && !c->lost &&
        (!c->live_or_maybe() || (c->target_passive && !c->target_past_syn)) &&
        tu.may_return_forgotten_cookie(h.seq - 1, h.ack - 1)) {
      // The cookie of a handshake the oracle no longer remembers, where the target may hold no
      // connection (or only the SYN-RECEIVED of a listener that never spoke past its SYN-ACK):
      // it may open that handshake's connection, which the oracle cannot follow.
      lose(tu, *c);
    }
    if ((cookie != nullptr || own_cookie_ack) &&
        (c == nullptr || !c->lost || !tu.target_holds_unfollowed)) {
      // (Where the oracle lost track, the target may hold a connection here, which takes the
      // ACK instead of its listener; not once it has torn that one down. Found by
      // session_fuzzer: rst-reply-form, the abort of a connection the cookie's ACK opened.)
      // (Nor does the target hold one for a SYN it has not answered, with the ISN the cookie
      // was made for: a listener whose accept queue is full drops it, and the cookie's ACK
      // opens the connection once the queue has room. Found by session_fuzzer: rst-reply-form,
      // the listener's close aborting that connection.)
      const bool unanswered_resent_syn = c != nullptr && c->end == End::kLive &&
                                         !c->target_syn.seen && cookie != nullptr &&
                                         c->peer_syn.seen && cookie->syn.tcp.seq == c->peer_syn.iss;
      if (c == nullptr || c->end == End::kGone || c->end == End::kResetByTarget ||
          c->end == End::kResetMaybeCookie || unanswered_resent_syn) {
        if (cookie != nullptr) {
          c = follow_cookie_connection(s, tu, *cookie);
          if (c == nullptr) return;
          c->cookie_unconfirmed = true;
        } else if (c != nullptr) {  // (always: own_cookie_ack)
          c->end = End::kLive;      // (a handshake older than those remembered)
        }
      } else if ((c->end == End::kMaybeGone &&
                  (!(own_cookie_ack && !c->target_past_syn) || wrote_past_sent_data(*c))) ||
                 (c->end == End::kLive && !own_cookie_ack && c->target_passive &&
                  !c->target_past_syn && cookie->syn.tcp.seq != c->peer_syn.iss)) {
        // Or the target may complete that earlier handshake instead of the one the oracle
        // follows, and the peer's bytes on it count from another ISN: the oracle cannot tell
        // which connection the target holds, or which the application reads.
        // (A connection that never spoke past its SYN-ACK is the one its cookie would open,
        // unless the application wrote to it: a new one would not have those writes. Found by
        // session_fuzzer: stream-integrity, a RST that may have ended the first connection.)
        lose(tu, *c);
      }
    }
    bool needs_challenge = false;
    if (syn && !h.has(f::kAck)) {
      if (c == nullptr || !c->live_or_maybe() || c->closed() ||
          (!c->target_syn.seen && h.seq != c->peer_syn.iss)) {
        c = &tu.start_conn();  // a passive open on the target's side
        c->target_passive = true;
        c->start_peer(s.p);
        take_kept_syn_options(tu, *c);
      } else if (c->established()) {
        needs_challenge = true;  // RFC 5961 4.2
      } else if (!c->peer_syn.seen || (h.seq != c->peer_syn.iss && !c->last_ack)) {
        c->start_peer(s.p);  // simultaneous open, or a new ISN before the target answered
      } else if (h.seq == c->peer_syn.iss && c->target_passive) {
        // The same ISN again, perhaps with other options: the target may answer by the SYN it
        // kept (the first, as Linux's request socket does) or, back in LISTEN (a SYN in the
        // window of a passive SYN-RECEIVED), by this one. Either is allowed.
        // (Not for an active open: the peer's SYN-ACK, or its SYN in a simultaneous open, set
        // the connection's options, and no SYN after it can start another from a listener.
        // Found by session_fuzzer: options-well-formed, the challenge ACK of a connection
        // without timestamps after a RST that may have reset it and a SYN that carried them.)
        c->peer_syn.merge_options(SynInfo::of(s.p));
      }
      // Otherwise a SYN with another ISN after the target acknowledged the first: the target
      // keeps the first (RFC 9293 3.10.7.4 drops it as unacceptable), and so does the oracle.
    } else if (syn && c != nullptr && c->live_or_maybe() && c->target_syn.seen) {
      if (c->established()) {
        needs_challenge = true;
      } else if (!c->target_passive && !c->target_sent_ack && h.has(f::kAck) &&
                 !h.ack.in_range(c->target_syn.iss + 1, c->snd_max)) {
        // SYN-SENT discards a SYN-ACK whose ACK is unacceptable (RFC 9293 3.10.7.3, first
        // check): its ISN and options start nothing.
        c->rtx.clear();
        c->challenge.reset();
        return;
      } else if (!c->peer_syn.seen || (h.seq != c->peer_syn.iss && !c->last_ack)) {
        c->start_peer(s.p);  // the SYN-ACK of an active open
      }
    }
    if (c == nullptr) return;

    // Whatever the target sends next may be caused by this segment instead.
    c->rtx.clear();
    c->challenge.reset();
    if (needs_challenge) {
      // Strict only when the target surely holds the connection: a listener that never spoke
      // past its SYN-ACK may have dropped the third ACK (a full accept queue; a SYN cookie that
      // could not be turned into a connection) and still be in SYN-RECEIVED, or have nothing.
      c->challenge = detail::Challenge{s.p, !c->may_have_died() && c->target_past_syn};
      return;
    }
    if (!c->live_or_maybe()) {
      // Still what the peer sent: a connection a SYN cookie opens later carries on from it
      // (follow_cookie_connection).
      if (!h.has(f::kRst) && c->peer_syn.seen) record_peer_segment(s, *c);
      return;
    }
    if (h.has(f::kRst)) {
      peer_rst(s, *c);
      return;
    }
    if (!c->peer_syn.seen) return;
    if (h.has(f::kAck) && c->target_syn.seen) take_ack(s, *c);
    record_peer_segment(s, *c);
    if (const auto* ts = h.find<wire::OptTimestamps>()) c->note_peer_tsval(ts->val);
  }

  // What the target should make of the ACK and window of a peer segment.
  static void take_ack(const Seg& s, Conn& c) {
    const wire::TcpHeader& h = s.h();
    const Seq ack = h.ack;
    if (ack.gt(c.snd_max)) return;  // acknowledges something not sent: the target drops it
    const bool syn = h.has(f::kSyn);
    const std::uint8_t shift = !syn && c.both_ws() ? c.peer_syn.shift : 0;
    const std::uint32_t window = std::uint32_t{h.window} << shift;

    // The ACK is sure to be taken from the SYN-ACK answering the target's SYN in SYN-SENT, or from
    // an in-order segment at the target's known RCV.NXT with SND.UNA =< SEG.ACK. Its window is
    // then sure to be taken too if it also passes the SND.WL1/WL2 test of RFC 9293 3.10.7.4
    // against every segment the target may have taken a window from before (an out-of-order
    // segment beyond a hole counts: its ACK is processed too).
    bool certain = false;
    if (syn) {
      certain = !c.target_sent_ack && ack.gt(c.target_syn.iss);
    } else {
      const Seq hi = c.rcv_hi();
      certain = ack.ge(c.snd_una) && c.last_ack && *c.last_ack == hi && h.seq == hi &&
                !c.maybe_paws_dropped(h) && !c.maybe_reopened;
    }
    if (certain && ack.gt(c.snd_una_sure)) c.snd_una_sure = ack;
    const bool newest = !c.wl1 || h.seq.gt(*c.wl1) || (h.seq == *c.wl1 && ack.ge(*c.wl2));
    // A window perhaps taken (never one with SEG.ACK below SND.UNA) may only widen what the
    // oracle allows.
    const bool perhaps_wider =
        ack.ge(c.snd_una_sure) && (!c.snd_wnd_max || window > *c.snd_wnd_max);
    if ((certain && newest) || perhaps_wider) c.snd_wnd_max = window;
    // The highest SND.WL1 (and, at it, SND.WL2) the target may hold from now on. A segment
    // beyond the largest window the target could offer past the most RCV.NXT can be is dropped
    // before its ACK is looked at (RFC 9293 3.10.7.4, first check): it sets nothing (and, half
    // the sequence space away, it would make older segments look newer). One exactly at that
    // right edge may be taken, though: Linux's sequence test lets SEG.SEQ reach RCV.NXT +
    // RCV.WND (tcp_sequence), and the built-in stack lets a segment without data sit there (README,
    // deviations); its ACK and window are then processed (found by session_fuzzer:
    // send-within-window).
    const std::uint32_t max_rcv_wnd = std::uint32_t{0xffff}
                                      << (c.both_ws() ? c.target_syn.shift : 0);
    if (h.seq.gt(c.rcv_hi() + max_rcv_wnd)) return;
    if (!c.wl1 || h.seq.gt(*c.wl1)) {
      c.wl1 = h.seq;
      c.wl2 = ack;
    } else if (h.seq == *c.wl1 && ack.gt(*c.wl2)) {
      c.wl2 = ack;
    }

    if (ack.gt(c.snd_una)) {
      c.snd_una = ack;
      // Bytes below the peer's cumulative ACK are not compared again.
      const std::int64_t acked = c.target_line.pos(ack) - 1;
      c.sent.forget_below(acked);
      if (acked > c.written_base) {
        const auto drop =
            std::min(static_cast<std::size_t>(acked - c.written_base), c.written.size());
        c.written.drop_front(drop);
        c.written_base += static_cast<std::int64_t>(drop);
      }
    }
  }

  // The peer's sequence space and bytes, as far as the target may have taken them.
  void record_peer_segment(const Seg& s, Conn& c) {
    const wire::TcpHeader& h = s.h();
    const bool syn = h.has(f::kSyn);
    if (syn && h.seq != c.peer_syn.iss) return;
    const std::int64_t start = c.peer_line.pos(h.seq);
    const std::int64_t sent_before = c.peer_space.end();
    c.peer_space.add(start, start + s.p.segment_length());
    const std::int64_t data = start + (syn ? 1 : 0);
    if (!s.p.payload.empty()) {
      ByteRecord::PutResult& r = put_result;
      c.peer_bytes.put(data, s.p.payload, r);
      // A copy that differs from the first at a position the target has not acknowledged:
      // the target may have kept either.
      const std::int64_t low = c.last_ack ? c.peer_line.pos(*c.last_ack) : 0;
      for (const Stretch& d : r.differing) {
        if (d.end > low) c.ambiguous.add(std::max(d.begin, low), d.end);
      }
    }
    // The peer's FIN is where its stream ends, unless the peer has sent data beyond it (before
    // or after): then the target may have taken either, and the oracle does not guess.
    const std::int64_t fin_at = data + static_cast<std::int64_t>(s.p.payload.size());
    // (A FIN without ACK is dropped unread once the target has sent its SYN, RFC 9293 3.10.7.4;
    // so is one below what the target has acknowledged, before RCV.NXT.)
    const Seq fin_seq = h.seq + (syn ? 1U : 0U) + size32(s.p.payload.size());
    if (h.has(f::kFin) && (h.has(f::kAck) || syn) && !c.peer_fin && fin_at >= sent_before - 1 &&
        !(c.last_ack && c.last_ack->gt(fin_seq))) {
      c.peer_fin = fin_seq;
    } else if (c.peer_fin && !h.has(f::kFin) && !s.p.payload.empty() &&
               fin_at > c.peer_line.pos(*c.peer_fin) &&
               !(c.last_ack && c.last_ack->gt(*c.peer_fin))) {
      c.peer_fin.reset();  // (once the target has acknowledged the FIN, it took that one)
    }
    c.peer_line.advance(c.peer_space.end());
  }

  // A RST from the peer: accepted, challenged or ignored (RFC 9293 3.10.7.3, RFC 5961 3.2).
  static void peer_rst(const Seg& s, Conn& c) {
    const wire::TcpHeader& h = s.h();
    if (!c.target_syn.seen) return;
    // A target that sent its FIN and took the peer's may be in TIME-WAIT (if it took an ACK of
    // its FIN, perhaps one the oracle is unsure of), and there a RST at RCV.NXT may be ignored:
    // RFC 1337 (the built-in stack; Linux with tcp_rfc1337=1), where RFC 9293 3.10.7.4 and
    // Linux's default take it. It then only perhaps ends the connection.
    const bool maybe_time_wait = c.target_fin && c.snd_una.gt(*c.target_fin) && c.peer_fin &&
                                 c.last_ack && c.last_ack->gt(*c.peer_fin) && h.seq == *c.last_ack;
    if (c.closed()) {
      if (maybe_time_wait && c.end == End::kLive) c.end = End::kMaybeGone;
      return;
    }
    if (!c.target_sent_ack) {
      // SYN-SENT: acceptable only with an ACK of the SYN.
      if (h.has(f::kAck) && h.ack.gt(c.target_syn.iss) && h.ack.le(c.snd_max)) {
        c.end = End::kGone;
      }
      return;
    }
    if (!c.peer_syn.seen || !c.last_ack) return;
    const Seq lo = *c.last_ack;
    const Seq hi = c.rcv_hi();
    if (h.seq == lo && lo == hi) {
      // A listener that answered with a SYN cookie (RFC 4987 3.6) holds nothing this RST could
      // reset until the cookie's ACK returns, and the ACK may still open the connection after
      // it; one that kept state is gone. The oracle cannot tell which answered until the target
      // speaks again.
      const bool maybe_stateless =
          c.target_passive && !c.target_past_syn && !c.peer_sent_cookie_ack;
      // With timestamps on, a RST with a TSval older than TS.Recent may be dropped by PAWS
      // (RFC 7323 5.3 R1, which exempts no RST; Linux takes it). (One without timestamps is
      // not dropped for that: RFC 7323 3.2 drops only non-RST segments lacking them.)
      const bool maybe_paws_dropped =
          h.find<wire::OptTimestamps>() != nullptr && c.maybe_paws_dropped(h);
      c.end =
          maybe_stateless || maybe_paws_dropped || maybe_time_wait ? End::kMaybeGone : End::kGone;
    } else if (h.seq.in_range(lo, hi)) {
      c.end = End::kMaybeGone;
    } else if (c.established() && c.target_window_edge && hi.lt(*c.target_window_edge) &&
               h.seq.gt(hi) && h.seq.lt(*c.target_window_edge)) {
      // (Past the most RCV.NXT can be and before the window's right edge: an interval only
      // while the peer sent no further than that edge. Found by session_fuzzer: challenge-ack,
      // a peer sending past a zero window, then a RST half the sequence space away.)
      c.challenge = detail::Challenge{s.p, true};  // a RST never answers a RST, dead or alive
    }
  }

  // --- The application -----------------------------------------------------------------------

  void app_write(const ConnKey& k, std::span<const std::uint8_t> bytes) {
    TupleState& tu = tuple(k);
    ByteFifo& dst = tu.conn ? tu.conn->written : tu.pending_written;
    dst.append(bytes);
  }

  // Where a read of `bytes` at `x`'s read position first departs from what the peer sent on `x`
  // (a byte other than the one sent there, or one never sent); nothing when each byte is the one
  // sent at its position, or at an ambiguous one (either copy will do). Judged a stretch at a
  // time: the peer's bytes are held in runs, and the ambiguous positions are few.
  struct ReadFault {
    std::size_t at;   // index into the read
    bool never_sent;  // else the peer sent `sent` there
    std::uint8_t sent;
  };
  static std::optional<ReadFault> first_read_fault(const Conn& x,
                                                   std::span<const std::uint8_t> bytes) {
    std::size_t i = 0;
    while (i < bytes.size()) {
      const std::int64_t pos = x.read_total + static_cast<std::int64_t>(i) + 1;
      const auto left = static_cast<std::int64_t>(bytes.size() - i);
      const auto span =
          static_cast<std::size_t>(std::min(x.ambiguous.next_change(pos) - pos, left));
      if (x.ambiguous.contains(pos)) {
        i += span;
        continue;
      }
      const std::span<const std::uint8_t> sent = x.peer_bytes.run_at(pos);
      const std::size_t known = std::min(span, sent.size());
      const auto read_from = bytes.begin() + static_cast<std::ptrdiff_t>(i);
      const auto read_to = read_from + static_cast<std::ptrdiff_t>(known);
      // std::equal is one memcmp; std::mismatch, a loop over bytes, only finds a fault's place.
      if (!std::equal(read_from, read_to, sent.begin())) {
        const auto [read_at, sent_at] = std::mismatch(read_from, read_to, sent.begin());
        return ReadFault{static_cast<std::size_t>(read_at - bytes.begin()), false, *sent_at};
      }
      if (known < span) return ReadFault{i + known, true, 0};
      i += span;
    }
    return std::nullopt;
  }

  void app_read(const ConnKey& k, std::span<const std::uint8_t> bytes, std::int64_t time_us) {
    if (bytes.empty()) return;
    TupleState& tu = tuple(k);
    Conn* c = tu.conn.get();
    // Where the oracle lost track of the connection, it cannot tell which incarnation the
    // application reads either: say a SYN cookie's ACK opened the connection of an earlier
    // handshake, whose SYN carried other bytes than the ACK (found by session_fuzzer:
    // stream-integrity).
    if (c != nullptr && c->lost) return;
    // A SYN the target has not answered with its own SYN may have started nothing (an old
    // duplicate that TIME-WAIT answers with an ACK): the bytes are the previous incarnation's.
    if (c != nullptr && !c->target_syn.seen && tu.previous) c = tu.previous.get();
    // The application may also still be reading what the previous incarnation received (a
    // socket keeps its unread data when its connection ends cleanly) while the 4-tuple has a new
    // one: bytes the new one never had at that point, but the previous one did, are its.
    if (c != nullptr && tu.previous && c != tu.previous.get() &&
        !c->peer_bytes.at(c->read_total + 1) &&
        tu.previous->peer_bytes.at(tu.previous->read_total + 1)) {
      c = tu.previous.get();
    }
    // Or an older one's, when those after it received nothing to read (and the oracle has not
    // lost track of the connection: then nothing read is judged).
    auto received_nothing = [](const Conn* x) {
      return x == nullptr || (x->peer_bytes.size() == 0 && x->read_total == 0);
    };
    if (c != nullptr && !c->lost && tu.unread && received_nothing(tu.conn.get()) &&
        received_nothing(tu.previous.get()) &&
        tu.unread->peer_bytes.at(tu.unread->read_total + 1)) {
      c = tu.unread.get();
    }
    // A new connection on the 4-tuple from an old duplicate SYN (the same ISN, so its first
    // bytes can be the same too) may have received part of what the application reads, while
    // the previous one's socket is the one read: a read that only the previous incarnation's
    // bytes explain is its (found by pair_fuzzer: stream-integrity, the read running past what
    // the new connection received). And where both explain it, a new connection that has not
    // shown it left SYN-RECEIVED may not be accepted yet: the socket with the previous one's
    // unread bytes is the one read (found by pair_fuzzer: the same, read in two parts, the first
    // of which both explained).
    if (c != nullptr && !c->lost && tu.previous && c != tu.previous.get() && !tu.previous->lost &&
        !first_read_fault(*tu.previous, bytes) &&
        (!c->target_past_syn_received || first_read_fault(*c, bytes))) {
      c = tu.previous.get();
    }
    if (c != nullptr && c->lost) return;  // (SYN cookies): what is read there is not judged
    if (c == nullptr || !c->peer_syn.seen) {
      report(invariant::kStreamIntegrity, k, time_us,
             "the application read " + std::to_string(bytes.size()) +
                 " bytes, but the peer has opened no connection on this 4-tuple");
      return;
    }
    if (const std::optional<ReadFault> fault = first_read_fault(*c, bytes)) {
      const std::int64_t offset = c->read_total + static_cast<std::int64_t>(fault->at);
      const std::string where = "stream offset " + std::to_string(offset) + " (seq " +
                                num(c->peer_line.seq(offset + 1)) + ")";
      if (fault->never_sent) {
        report(invariant::kStreamIntegrity, k, time_us,
               "the application read " + std::to_string(bytes.size()) + " bytes; the byte at " +
                   where + " was never sent by the peer");
      } else {
        report(invariant::kStreamIntegrity, k, time_us,
               "the application read " + hex_byte(bytes[fault->at]) + " at " + where +
                   ", but the peer sent " + hex_byte(fault->sent) +
                   " there (data must be delivered exactly once, in order)");
      }
    }
    c->read_total += static_cast<std::int64_t>(bytes.size());
    c->peer_bytes.forget_below(c->read_total + 1);
    c->ambiguous.forget_below(c->read_total + 1);
  }
};

// ---------------------------------------------------------------------------------------------

Oracle::Oracle(OracleOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
}
Oracle::~Oracle() = default;
Oracle::Oracle(Oracle&&) noexcept = default;
Oracle& Oracle::operator=(Oracle&&) noexcept = default;

void Oracle::on_segment(Direction d, const TcpPacket& p, std::int64_t time_us) {
  impl_->latest_time_us = time_us;
  ++impl_->segment_index;
  // A segment to the target whose checksum fails is discarded there (RFC 9293 3.1, MUST-3:
  // the receiver checks every checksum), so it changes nothing the oracle could judge by.
  if (d == Direction::kToTarget && (!p.tcp_checksum_ok || !p.ip_checksum_ok)) return;
  const Impl::Seg s{p, ConnKey::of(d, p), time_us};
  if (d == Direction::kFromTarget) {
    impl_->from_target(s);
  } else {
    impl_->to_target(s);
  }
}

void Oracle::on_app_write(const ConnKey& k, std::span<const std::uint8_t> bytes,
                          std::int64_t time_us) {
  static_cast<void>(time_us);  // writes are judged when their bytes reach the wire
  impl_->app_write(k, bytes);
}

void Oracle::on_app_read(const ConnKey& k, std::span<const std::uint8_t> bytes,
                         std::int64_t time_us) {
  impl_->app_read(k, bytes, time_us == kLatestSegmentTime ? impl_->latest_time_us : time_us);
}

void Oracle::finish(std::int64_t time_us) {
  impl_->latest_time_us = time_us;
  impl_->tuples.clear();
}

const std::vector<Violation>& Oracle::violations() const { return impl_->violations; }
std::size_t Oracle::violation_count() const { return impl_->violation_count; }

}  // namespace synack::oracle
