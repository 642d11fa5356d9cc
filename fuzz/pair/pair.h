// pair_fuzzer: two built-in stacks joined by a link the fuzz input controls, with the
// applications' calls chosen by the input too. The oracle is stream integrity (each side reads
// exactly a prefix of what the other wrote: nothing lost, duplicated, reordered or altered, and
// all of it once the link heals) plus every white-box invariant of both stacks and the
// black-box oracle (harness/oracle) on stack A's segments and calls.
//
// Stack A is the stack under test exactly as `synack replay` needs it (fuzz/replay/log.h): a
// stack::Stack with seed 1 at 192.168.0.1 (alias 192.168.0.3), config defaults but for the
// knobs a script can set; its application writes script::write_byte(n) for the n-th byte it
// asked to write. Stack B is the peer at 192.168.0.2 (any config); its application writes
// script::pattern_byte(r) for the byte at relative sequence number r of its stream. A listens
// on 8080 and B connects from port 40000, or B listens on 40000 and A connects to it.
//
// Input format. Every byte string decodes (the fuzzer's plain byte mutations stay useful):
//
//   header (kHeaderSize bytes; missing bytes read as 0, which is the default of every field)
//     [0] flags: bit 0 A connects (else B connects to A's listener); bit 1 A tcp_timestamps
//         off; bit 2 A tcp_sack off; bit 3 B timestamps off; bit 4 B SACK off; others ignored
//     [1] low nibble: A's MSS choice, high nibble: B's   (kMssChoices[n % size])
//     [2] low nibble: A's SO_RCVBUF choice, high: A's SO_SNDBUF   (kBufferChoices[n % size])
//     [3] low nibble: B's receive buffer choice, high: B's send buffer
//     [4] B's window scale shift: (byte + 7) % 15, lowered until one scale unit is at most a
//         quarter of B's receive buffer (A always offers the default, 7: the stack has no knob
//         for it)
//   actions, until the input ends (an action cut short by the end is dropped):
//     tag byte: kind = (tag >> 1) % kKindCount, side = tag & 1 (0: A, 1: B); then the kind's
//     argument, little-endian, of arg_bytes(kind) bytes, read modulo arg_limit(kind) + 1.
//     For link actions `side` is the sender: A means the A->B direction.
//
//     kind             arg        effect
//     kWrite           0..8192    side's app writes arg bytes (what fits is accepted; a side
//                                 asks for at most 48 segments' worth over a run: 48 times
//                                 the smaller of the two MSS choices, and never over 64 KiB)
//     kRead            0..65535   side's app reads up to arg + 1 bytes
//     kShutdown        -          shutdown(SHUT_WR)
//     kClose           -          close() the connection's socket, or the listener once the
//                                 connection's socket is closed
//     kDeliver         -          deliver the packet at the head of the direction's queue
//     kDeliverAll      -          deliver every packet queued in the direction, in order
//     kDrop            -          lose the head packet
//     kDuplicate       -          deliver a copy of the head packet and keep it at the head
//     kReorder         -          hold the head packet, deliver the next one, then the held one
//     kCorrupt         0..65535   flip bit (arg mod packet bits) of the head packet, deliver it
//     kDelay           0..65535   take the head packet off the queue and deliver it on its own
//                                 (arg + 1) * 250 us later
//     kAdvanceTiny     0..255     let (arg + 1) * 10 us pass
//     kAdvanceTimer    0..2559    let (arg % 256 + 1) << (arg / 256) ms pass (1 ms .. 131 s,
//                                 spread evenly on a log scale: delayed ACK up to max RTO)
//     kAdvanceToEvent  -          jump to the next stack deadline or delayed delivery
//
//   Time passes only through the kAdvance* actions (timers fire in order on the way); queued
//   packets wait for a link action. An app action on a side whose passive connection has not
//   been accepted calls accept() first (and is skipped while accept() says EAGAIN).
//
// At the end of the input the link heals: every queued or delayed packet is delivered, new ones
// are delivered as they come, both applications accept and read everything, and time runs on
// from deadline to deadline (at most kHealTime of virtual time). Unless an error reached an
// application, a connection timed out or was reset, each side must then have read every byte
// the other wrote (a side that closed its socket is excused from reading).
//
// Findings, each a line starting with its name (pair_fuzzer prints "pair_fuzzer: " before it):
//   invariant <name> on A|B    a white-box invariant of either stack, with the connection
//   oracle <name>              the black-box oracle on A's segments and calls (harness/oracle)
//   stream-integrity           a side read a byte the other did not write there, or reached end
//                              of stream early
//   unread-data-discarded      a connection ended and its stack threw away bytes the
//                              application had not read (read() then says end of stream)
//   stream-incomplete          bytes (or a FIN) still missing once the link healed
//   corrupt-discarded          a stack took a packet whose checksum fails
//   timer-livelock, heal-livelock   time or the healed link never settles
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fuzz/replay/log.h"
#include "stack/config.h"

namespace synack::fuzz::pair {

enum class Side : std::uint8_t { kA = 0, kB = 1 };
inline Side other(Side s) { return s == Side::kA ? Side::kB : Side::kA; }
inline const char* side_name(Side s) { return s == Side::kA ? "A" : "B"; }

inline constexpr std::size_t kHeaderSize = 5;
// MSS values offered on SYNs: the default, RFC 9293's 536, Linux's floor of 88, and others that
// make segment boundaries fall differently.
inline constexpr std::array<std::uint16_t, 10> kMssChoices = {1460, 536, 88,   1000, 100,
                                                              1200, 500, 9000, 256,  64000};
// Socket buffer sizes. For A they are setsockopt(SO_RCVBUF / SO_SNDBUF) values, which the stack
// doubles as Linux does (with floors of 2304 and 4608 bytes); for B the same doubled value is
// its StackConfig::rcv_buf / snd_buf. 0 keeps the default (131072).
inline constexpr std::array<std::uint32_t, 9> kBufferChoices = {0,    1,     1000,  2304,  4096,
                                                                8192, 16384, 32768, 262144};

struct Header {
  bool a_connects = false;  // else B connects to A's listener
  bool a_timestamps = true;
  bool a_sack = true;
  bool b_timestamps = true;
  bool b_sack = true;
  std::uint8_t a_mss = 0;  // indices into kMssChoices
  std::uint8_t b_mss = 0;
  std::uint8_t a_rcv_buf = 0;  // indices into kBufferChoices
  std::uint8_t a_snd_buf = 0;
  std::uint8_t b_rcv_buf = 0;
  std::uint8_t b_snd_buf = 0;
  std::uint8_t b_wscale = 7;  // 0..14
  friend bool operator==(const Header&, const Header&) = default;
};

enum class Kind : std::uint8_t {
  kWrite,
  kRead,
  kShutdown,
  kClose,
  kDeliver,
  kDeliverAll,
  kDrop,
  kDuplicate,
  kReorder,
  kCorrupt,
  kDelay,
  kAdvanceTiny,
  kAdvanceTimer,
  kAdvanceToEvent,
};
inline constexpr std::uint8_t kKindCount = 14;

// Largest argument value of a kind (0: it takes none) and how many bytes encode it.
std::uint16_t arg_limit(Kind k);
std::size_t arg_bytes(Kind k);
const char* kind_name(Kind k);
bool is_app_action(Kind k);
bool is_link_action(Kind k);

struct Action {
  Kind kind = Kind::kDeliver;
  Side side = Side::kA;   // the application's side, or the sending side of a link action
  std::uint16_t arg = 0;  // 0..arg_limit(kind)
  friend bool operator==(const Action&, const Action&) = default;
};

// A decoded input.
struct Program {
  Header header;
  std::vector<Action> actions;
  friend bool operator==(const Program&, const Program&) = default;
};

// At most this many actions are decoded (the rest of a longer input is ignored).
inline constexpr std::size_t kMaxActions = 4096;

Program decode(std::span<const std::uint8_t> input);
std::vector<std::uint8_t> encode(const Program& p);
std::size_t encoded_size(const Program& p);
// "A write 1000", "A->B corrupt bit 77", "advance-timer 200 ms", one action per line.
std::string describe(const Program& p);

// --- the custom mutator

// Mutates `data` (size bytes, capacity max_size) at the level of the decoded input: one header
// field, or one action changed, inserted, deleted, duplicated or swapped. Returns the new size
// (<= max_size); the result always decodes. Deterministic in `seed`.
std::size_t mutate(std::uint8_t* data, std::size_t size, std::size_t max_size, unsigned seed);
// Actions of `a` up to a point, then those of `b` from another point; header from one of them.
std::size_t cross_over(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b,
                       std::uint8_t* out, std::size_t max_out_size, unsigned seed);

// --- the stream-integrity checker, one direction (exposed so that tests can feed it wrong reads)

class StreamRecord {
 public:
  explicit StreamRecord(Side writer) : writer_(writer) {}
  void wrote(std::span<const std::uint8_t> bytes);
  // The reader's bytes, in order. Returns a violation message, or "" when they are the next
  // bytes the writer wrote.
  std::string read(std::span<const std::uint8_t> bytes);
  // The reader saw end of stream: only right once everything written was read.
  std::string end_of_stream() const;
  std::size_t written() const { return written_.size(); }
  std::size_t read_so_far() const { return read_; }

 private:
  Side writer_;
  std::vector<std::uint8_t> written_;
  std::size_t read_ = 0;
};

// --- the executor

// What the session reports. Calls are only formatted when record_calls() says so (fuzzing
// stays fast).
class Observer {
 public:
  virtual ~Observer() = default;
  Observer() = default;
  Observer(const Observer&) = delete;
  Observer& operator=(const Observer&) = delete;
  Observer(Observer&&) = delete;
  Observer& operator=(Observer&&) = delete;

  virtual bool record_calls() const { return false; }
  virtual void packet_to_a(std::span<const std::uint8_t> /*packet*/, std::int64_t /*time_us*/) {}
  virtual void packet_from_a(std::span<const std::uint8_t> /*packet*/, std::int64_t /*time_us*/) {}
  virtual void call_on_a(const std::string& /*call*/, std::int64_t /*time_us*/) {}
  // The first violation; the session stops right after it.
  virtual void violation(const std::string& /*finding*/) {}
};

struct TestHooks {
  // Flip the low bit of the n-th byte (0-based) side B reads, before the check sees it.
  std::optional<std::size_t> tamper_b_read;
};

struct RunResult {
  std::string finding;  // empty when every oracle held
  std::size_t a_wrote = 0, b_read = 0, b_wrote = 0, a_read = 0;
  bool excused = false;       // an error, timeout or reset excused an incomplete stream
  std::uint64_t packets = 0;  // packets the stacks emitted
  std::int64_t end_time_us = 0;
};

inline constexpr std::chrono::seconds kHealTime{600};

// Runs one input. Never aborts: the first violation goes to observer->violation() and into
// RunResult::finding, and the run stops there.
RunResult run(const Program& p, Observer* observer = nullptr, const TestHooks& hooks = {});

// Stack A's config for a header, and the script knob lines that make the inproc target's
// default config into it.
stack::StackConfig a_config(const Header& h);
std::vector<std::string> a_knobs(const Header& h);

// --- seeds

struct Seed {
  std::string name;  // the corpus file name
  Program program;
};
// The committed corpus (corpus/pair_fuzzer/), regenerated by pair_test when
// SYNACK_PAIR_SEEDS_DIR is set.
std::vector<Seed> seeds();

}  // namespace synack::fuzz::pair

namespace synack::fuzz {
// Runs `data` as pair_fuzzer does and records stack A's side of it (fuzz/replay/log.h).
SessionLog pair_log(const std::uint8_t* data, std::size_t size);
}  // namespace synack::fuzz
