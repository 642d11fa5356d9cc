// The script model: what a .pkt file says, independent of how it was written (parser.h) and of
// what runs it (runner.h). packetdrill's language, so existing scripts and habits carry over,
// plus synack's documented extensions (README, "Scripts").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace synack::script {

// Where a line came from, for every message about it.
struct Location {
  std::string file;
  int line = 0;
  int column = 0;
  std::string to_string() const {
    return file + ":" + std::to_string(line) + ":" + std::to_string(column);
  }
};

// When a line happens. packetdrill forms:
//   0.100        absolute (seconds since the script started)
//   +0.1         relative to the previous line's time
//   *            any time (outbound packets only)
//   0.1~0.2      a range: the event may happen anywhere inside (outbound packets only)
//   +0...0.25    a blocking call: starts at +0, returns at 0.25 (the end may be +relative)
struct TimeSpec {
  enum class Kind { kAbsolute, kRelative, kAny };
  Kind kind = Kind::kRelative;
  std::int64_t start_us = 0;
  // A range's upper bound (kAbsolute or kRelative like the start), for ~.
  std::optional<std::int64_t> range_end_us;
  bool range_end_relative = false;
  // A blocking call's return time, for "...".
  std::optional<std::int64_t> blocking_end_us;
  bool blocking_end_relative = false;
};

enum class Direction { kInbound, kOutbound };  // < injected into the target, > expected from it

// One TCP option as written: mss 1460, wscale 7, sackOK, sack 1:2 3:4, TS val 1 ecr 0, nop, eol,
// or (extension) raw 0xfe04abcd: bytes put into the option space verbatim, whatever they say.
struct OptionSpec {
  enum class Kind { kNop, kEol, kMss, kWscale, kSackOk, kSack, kTimestamp, kRaw };
  Kind kind = Kind::kNop;
  std::uint32_t value = 0;                                           // mss, wscale
  std::vector<std::pair<std::uint32_t, std::uint32_t>> sack_blocks;  // relative, [left, right)
  std::uint32_t ts_val = 0;
  std::uint32_t ts_ecr = 0;
  std::vector<std::uint8_t> raw;  // kRaw
};

// Extension: the trailing "[attr, attr, ...]" of a packet or ICMP line. Each is optional; absent
// means the default (and, outbound, not checked).
struct Attributes {
  // The harness-side port: the flow (connection) this line belongs to. Inbound, the segment's
  // source port; outbound, the destination port the target's segment must have. Each port has
  // its own relative sequence spaces. Absent: the default flow.
  std::optional<std::uint16_t> sport;
  std::optional<std::uint32_t> src;  // IPv4 source (host order): set inbound, checked outbound
  std::optional<std::uint32_t> dst;  // IPv4 destination
  std::optional<std::uint8_t> tos;
  std::optional<std::uint8_t> ttl;
  std::vector<std::uint8_t> ip_options;  // inbound only: raw IPv4 options, padded with EOL
  bool bad_checksum = false;             // inbound TCP only: "bad tcp csum"
};

struct PacketLine {
  Direction direction = Direction::kInbound;
  std::uint8_t flags = 0;  // S F P R . E W U as TCP flag bits; "-" is none
  // Outbound only: flags written with '?' ("P?.") may be set or not (P, U, E, W only).
  std::uint8_t optional_flags = 0;
  std::uint32_t seq_start = 0;          // relative to the sender's ISN
  std::uint32_t seq_end = 0;            // seq_start + payload length
  std::uint32_t payload_length = 0;     // the (len) part
  std::optional<std::uint32_t> ack;     // relative to the receiver's ISN; absent: no ACK field
  std::optional<std::uint32_t> window;  // required inbound; absent outbound: not checked
  // Absent: outbound options are not checked and inbound segments carry none... unless the
  // script wrote <...>, which is `options_any` (not checked) for outbound lines.
  std::vector<OptionSpec> options;
  bool options_any = false;
  std::optional<std::uint32_t> urgent_pointer;  // "urg N"
  Attributes attributes;                        // extension: [sport 40001, tos 0x10, ...]
};

// Extension (packetdrill's syntax): "< icmp unreachable port_unreachable [1:1001(1000)]". An ICMP
// error about a segment the target sent on the line's flow, from the harness's side.
struct IcmpLine {
  std::uint8_t type = 0;
  std::uint8_t code = 0;
  std::optional<std::uint16_t> mtu;  // "frag_needed mtu N": the next-hop MTU (RFC 1191)
  // The quoted segment, [start:end(length)], relative to the target's ISN on the flow.
  std::uint32_t seq_start = 0;
  std::uint32_t seq_end = 0;
  std::uint32_t payload_length = 0;
  Attributes attributes;  // of the ICMP packet; sport picks the flow
};

// "+0.3 > none": the target sends nothing from the previous line's time to this line's time.
struct SilenceLine {};

struct Field;

// A syscall argument: ..., 7, SOL_SOCKET, O_RDWR|O_NONBLOCK, [1], {...}, "text".
struct Arg {
  enum class Kind { kEllipsis, kNumber, kSymbols, kArray, kStruct, kString };
  Kind kind = Kind::kEllipsis;
  std::int64_t number = 0;
  std::vector<std::string> symbols;  // OR'ed together
  std::vector<Arg> elements;         // [a, b]
  std::vector<Field> fields;         // {name=value, ...}
  std::string text;                  // string literal, or the raw text of a struct
};

struct Field {
  std::string name;
  Arg value;
};

struct SyscallLine {
  std::string name;
  std::vector<Arg> args;
  // "= 3", "= -1 ECONNREFUSED (Connection refused)", or "= ..." (not checked).
  std::optional<std::int64_t> result;  // nullopt for "..."
  std::string errno_name;              // "" when no errno is expected
};

// %{ assert tcpi_state == TCP_TIME_WAIT and tcpi_snd_cwnd >= 10 }%
// %{ assert isn_gap(40001, 40002) > 100000 and isn_advance(40001) >= 240000 }%
struct AssertLine {
  struct Comparison {
    std::string field;                 // tcpi_state, tcpi_snd_cwnd, ..., isn_gap, isn_advance
    std::vector<std::uint16_t> ports;  // the flows a harness pseudo-field is about
    std::string op;                    // == != < <= > >=
    std::string value;                 // a number or a symbol (TCP_ESTABLISHED)
    std::string text;                  // as written, for messages: "isn_gap(40001, 40002)"
  };
  std::vector<Comparison> all;  // conjunction
  std::string source;           // the text between %{ and }%, for messages
};

struct Line {
  Location location;
  TimeSpec time;
  std::variant<PacketLine, SilenceLine, SyscallLine, AssertLine, IcmpLine> event;
  std::string text;  // the line as written, for messages
};

// --name=value lines and command-line options: harness options (tolerance_usecs, ...) and
// stack knobs named after their Linux sysctls (tcp_syncookies, tcp_synack_retries, ...).
struct OptionSetting {
  Location location;
  std::string name;
  std::string value;
};

struct Script {
  std::string path;
  std::vector<OptionSetting> options;
  std::vector<Line> lines;
};

}  // namespace synack::script
