// The session fuzzer's input: a typed trace of what happens to the built-in stack, not opcodes
// in raw bytes. Inbound segments are described relative to the connection's state at the moment
// they arrive (sequence and acknowledgment numbers as an anchor plus an offset: RCV.NXT, the
// advertised right edge, SND.UNA, SND.NXT, ...), so that a mutation which changes one field
// keeps the segment meaningful however the session before it went; time advances are drawn from
// a deliberate distribution (tiny steps, timer-sized steps, the stack's next deadline, and huge
// jumps across the 32-bit timestamp and ISN clock wraps); application calls name a socket by
// slot. The harness peer is 192.168.0.2, one flow per harness port 40000..40003; the stack
// listens on 8080.
//
// Wire form (what libFuzzer stores; little-endian):
//   header (4 bytes): config flags, retries2, keepalive, reserved
//   then ops, each a tag byte (tag % 4: 0 segment, 1 advance, 2 call, 3 ICMP) and a fixed-size
//   body;
//   decoding takes any bytes (a short last op ends the trace), so plain byte mutations still
//   give a valid trace, and encode(decode(x)) is canonical.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace synack::fuzz::session {

inline constexpr int kFlows = 4;
inline constexpr std::uint16_t kFirstPeerPort = 40000;   // the runner's default flow
inline constexpr std::uint16_t kListenPort = 8080;       // the runner's default bound port
inline constexpr std::uint32_t kStackAddr = 0xc0a80001;  // 192.168.0.1 (InprocTarget)
inline constexpr std::uint32_t kPeerAddr = 0xc0a80002;   // 192.168.0.2
inline constexpr std::size_t kMaxOps = 400;
inline constexpr std::uint16_t kMaxPayload = 3000;
inline constexpr std::size_t kMaxSockets = 16;

// Stack knobs a script can set too (synack replay writes them as --tcp_* lines).
struct Config {
  bool timestamps = true;          // tcp_timestamps
  bool sack = true;                // tcp_sack
  std::uint8_t syncookies = 1;     // tcp_syncookies: 0, 1, 2
  bool abort_on_overflow = false;  // tcp_abort_on_overflow
  bool slow_start_after_idle = true;
  std::uint8_t retries2 = 15;  // tcp_retries2, 1..15
  std::uint8_t keepalive = 0;  // 0: default; else tcp_keepalive_time = this many seconds
  friend bool operator==(const Config&, const Config&) = default;
};

enum class SeqAnchor : std::uint8_t {
  kPeerIss,     // the harness's ISN on the flow (0, as the runner's harness_isn)
  kPeerSndNxt,  // just after the highest sequence number the harness has sent on the flow
  kRcvNxt,      // the stack's RCV.NXT (the peer's send position; kPeerSndNxt with no TCB)
  kRcvAdv,      // the right edge of the window the stack last advertised
  kCount,
};
enum class AckAnchor : std::uint8_t {
  kStackIss,  // the stack's ISN on the flow, as learned from its SYN
  kSndUna,
  kSndNxt,
  kSndMax,
  kSndWndEdge,  // SND.UNA + SND.WND
  kCount,
};

// Option bits of a segment.
namespace opt {
inline constexpr std::uint8_t kMss = 1;
inline constexpr std::uint8_t kWscale = 2;
inline constexpr std::uint8_t kSackOk = 4;
inline constexpr std::uint8_t kTimestamps = 8;
inline constexpr std::uint8_t kSack = 16;
inline constexpr std::uint8_t kAll = 31;
}  // namespace opt

struct Segment {
  std::uint8_t flow = 0;   // % kFlows: harness port 40000 + flow
  std::uint8_t flags = 0;  // TCP flag bits as on the wire (FIN 0x01 ... CWR 0x80)
  SeqAnchor seq_anchor = SeqAnchor::kRcvNxt;
  std::int32_t seq_offset = 0;
  AckAnchor ack_anchor = AckAnchor::kSndNxt;
  std::int32_t ack_offset = 0;
  std::uint16_t window = 65535;
  std::uint8_t options = 0;  // opt:: bits
  std::uint16_t mss = 1460;
  std::uint8_t wscale = 7;
  std::int16_t tsval_step = 1;   // the harness's TSval: its previous one on the flow + this
  std::int16_t sack_offset = 0;  // one SACK block [SND.UNA + offset, + length)
  std::uint16_t sack_length = 0;
  std::uint16_t payload_length = 0;  // % (kMaxPayload + 1)
  std::uint16_t urgent_pointer = 0;
  bool bad_checksum = false;
  friend bool operator==(const Segment&, const Segment&) = default;
};

struct Advance {
  enum class Kind : std::uint8_t {
    kTiny,          // 0..2 ms
    kTimerSized,    // around one of the stack's timer durations (40 ms .. 2 h), +-10%
    kNextDeadline,  // to the stack's next deadline (+ up to 100 us), if it has one
    kHuge,          // up to about 51 days: past the 32-bit millisecond and ISN clock wraps
    kCount,
  };
  Kind kind = Kind::kTiny;
  std::uint32_t amount = 0;
  friend bool operator==(const Advance&, const Advance&) = default;
};

struct Call {
  enum class Op : std::uint8_t {
    kListen,      // socket(), bind(8080), listen(backlog = arg % 8 + 1)
    kConnect,     // socket(), connect(192.168.0.2, 40000 + arg % kFlows)
    kAccept,      // accept(slot)
    kRead,        // read(slot, arg % 65536 + 1)
    kWrite,       // write(slot, arg % 20000 + 1)
    kShutdown,    // shutdown(slot, arg % 3)
    kClose,       // close(slot)
    kSetsockopt,  // setsockopt(slot, an option and value: setsockopt_choice)
    kAbort,       // SO_LINGER {1, 0} then close(slot): a RST
    // Observation: what a script can ask and check.
    kGetsockopt,  // getsockopt(slot, an option: getsockopt_choice)
    kPoll,        // poll({slot, POLLIN|POLLOUT|POLLRDHUP}, 0)
    kIoctl,       // ioctl(slot, SIOCINQ or SIOCOUTQ)
    // Added after the wire form was first fixed, at the end so that every earlier input keeps its
    // meaning (the op byte is taken % kCount and canonical inputs store 0..kCount - 1).
    kSetsockoptMore,  // setsockopt(slot, an option and value: setsockopt_choice)
    kGetsockoptMore,  // getsockopt(slot, an option: getsockopt_choice)
    kConnectAgain,    // connect(slot, 192.168.0.2, 40000 + arg % kFlows) on an existing socket
    kCount,
  };
  Op op = Op::kListen;
  std::uint8_t slot = 0;  // % the number of sockets the session has made
  std::uint32_t arg = 0;
  friend bool operator==(const Call&, const Call&) = default;
};

// The socket options a trace sets and reads. Call::Op::kSetsockopt and kGetsockopt choose from
// the first kFirstSockopts (arg % kFirstSockopts; kGetsockopt has SO_ERROR as one more choice),
// kSetsockoptMore from the rest (kFirstSockopts + arg % kMoreSockopts) and kGetsockoptMore from
// the rest but SO_ERROR; a set's value is sockopt_value(option, arg / the count chosen from).
inline constexpr std::size_t kFirstSockopts = 9;
inline constexpr std::size_t kMoreSockopts = 4;
inline constexpr std::size_t kSockoptCount = kFirstSockopts + kMoreSockopts;
inline constexpr std::array<const char*, kSockoptCount> kSockoptNames = {
    "TCP_NODELAY", "SO_KEEPALIVE", "TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT", "SO_RCVBUF",
    "SO_SNDBUF", "TCP_MAXSEG", "TCP_USER_TIMEOUT",
    // kSetsockoptMore: SO_ERROR is read-only (ENOPROTOOPT); kGetsockoptMore reads the first three.
    "SO_REUSEADDR", "IP_TOS", "IP_TTL", "SO_ERROR"};
inline constexpr std::size_t kSoError = kSockoptCount - 1;
int sockopt_value(std::size_t option, std::uint32_t raw);
// The raw value that gives `value` for `option`; nullopt when the trace cannot make it.
std::optional<std::uint32_t> sockopt_raw(std::size_t option, int value);

// What a kSetsockopt or kSetsockoptMore call sets (an index into kSockoptNames, and the value),
// and the call that sets `option` from raw value `raw`.
struct SockoptChoice {
  std::size_t option = 0;
  int value = 0;
};
SockoptChoice setsockopt_choice(const Call& c);
Call setsockopt_call(std::uint8_t slot, std::size_t option, std::uint32_t raw);
// What a kGetsockopt or kGetsockoptMore call reads, and the call that reads `option`.
std::size_t getsockopt_choice(const Call& c);
Call getsockopt_call(std::uint8_t slot, std::size_t option);

// An ICMP error from the network about a segment the stack sent on a flow (RFC 9293 3.9.2.2,
// RFC 5927, RFC 1191): it quotes the segment's first 8 bytes, the quoted sequence number an
// anchor on the stack's send side plus an offset.
struct Icmp {
  enum class Kind : std::uint8_t {
    kNetUnreachable,  // soft errors (RFC 1122 4.2.3.9)
    kHostUnreachable,
    kProtocolUnreachable,  // hard
    kPortUnreachable,      // hard
    kFragNeeded,           // RFC 1191: mtu
    kSourceRouteFailed,
    kTimeExceeded,
    kParameterProblem,
    kSourceQuench,  // RFC 6633: ignored
    // Added later, at the end so that earlier inputs keep their meaning: the unreachable codes
    // RFC 1122 and RFC 1812 added (soft errors), a code past them, and non-errors (ignored).
    kNetUnknown,
    kHostUnknown,
    kSourceHostIsolated,
    kNetProhibited,
    kHostProhibited,
    kNetUnreachableForTos,
    kAdminProhibited,  // RFC 1812 5.2.7.1
    kUnreachableCode16,
    kRedirectHost,
    kEchoReply,
    kCount,
  };
  std::uint8_t flow = 0;
  Kind kind = Kind::kHostUnreachable;
  AckAnchor anchor = AckAnchor::kSndUna;  // on the stack's sequence space
  std::int32_t offset = 0;
  std::uint16_t quoted_length = 0;  // the quoted segment's data length, % (kMaxPayload + 1)
  std::uint16_t mtu = 0;            // kFragNeeded
  friend bool operator==(const Icmp&, const Icmp&) = default;
};

// The ICMP type and code of each Icmp::Kind, in its order.
struct IcmpTypeCode {
  std::uint8_t type;
  std::uint8_t code;
};
// (Sized by its entries, so that the static_assert catches one missing, which a std::array of
// kCount would fill with {0, 0}.)
inline constexpr auto kIcmpTypeCodes = std::to_array<IcmpTypeCode>({{3, 0},
                                                                    {3, 1},
                                                                    {3, 2},
                                                                    {3, 3},
                                                                    {3, 4},
                                                                    {3, 5},
                                                                    {11, 0},
                                                                    {12, 0},
                                                                    {4, 0},
                                                                    {3, 6},
                                                                    {3, 7},
                                                                    {3, 8},
                                                                    {3, 9},
                                                                    {3, 10},
                                                                    {3, 11},
                                                                    {3, 13},
                                                                    {3, 16},
                                                                    {5, 1},
                                                                    {0, 0}});
static_assert(kIcmpTypeCodes.size() == static_cast<std::size_t>(Icmp::Kind::kCount));

using Op = std::variant<Segment, Advance, Call, Icmp>;

struct Trace {
  Config config;
  std::vector<Op> ops;
  friend bool operator==(const Trace&, const Trace&) = default;
};

Trace decode(const std::uint8_t* data, std::size_t size);
std::vector<std::uint8_t> encode(const Trace& t);

// libFuzzer's custom mutator and crossover at the trace level: decode, change one thing (a field
// of an op, an op inserted, deleted, duplicated or swapped, a config knob), encode. The result
// always decodes, is at most max_size bytes, and depends only on the inputs and the seed.
std::size_t mutate(std::uint8_t* data, std::size_t size, std::size_t max_size, unsigned seed);
std::size_t cross_over(const std::uint8_t* a, std::size_t a_size, const std::uint8_t* b,
                       std::size_t b_size, std::uint8_t* out, std::size_t max_out, unsigned seed);

// One line per op, for humans ("segment flow 0 S. seq rcv_nxt+0 ack snd_nxt+0 win 65535 ...").
std::string describe(const Trace& t);

}  // namespace synack::fuzz::session
