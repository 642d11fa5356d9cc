#include "harness/script/parser.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "harness/wire/icmp.h"
#include "harness/wire/ipv4.h"
#include "harness/wire/tcp.h"

namespace synack::script {
namespace {

// Raised inside the parser and turned into a ScriptError at the top; never escapes.
struct Failure {
  ScriptError error;
};

// Removes // and /* */ comments, keeping every other character (and every newline) in place so
// that line and column numbers stay those of the original text.
std::string strip_comments(std::string_view text, const std::string& path) {
  std::string out(text);
  std::size_t i = 0;
  int line = 1;
  std::size_t line_start = 0;
  while (i < out.size()) {
    if (out[i] == '\n') {
      ++line;
      line_start = i + 1;
      ++i;
    } else if (out[i] == '"') {  // string literals may contain // or /*
      ++i;
      while (i < out.size() && out[i] != '"' && out[i] != '\n') i += out[i] == '\\' ? 2U : 1U;
      ++i;
    } else if (out.compare(i, 2, "//") == 0) {
      while (i < out.size() && out[i] != '\n') out[i++] = ' ';
    } else if (out.compare(i, 2, "/*") == 0) {
      const int start_line = line;
      const auto start_col = static_cast<int>(i - line_start + 1);
      const std::size_t end = out.find("*/", i + 2);
      if (end == std::string::npos) {
        throw Failure{{{path, start_line, start_col}, "unterminated /* comment"}};
      }
      for (; i < end + 2; ++i) {
        if (out[i] == '\n') {
          ++line;
          line_start = i + 1;
        } else {
          out[i] = ' ';
        }
      }
    } else {
      ++i;
    }
  }
  return out;
}

// A cursor over one logical line.
class Cursor {
 public:
  Cursor(std::string_view text, Location start) : text_(text), loc_(std::move(start)) {}

  Location here() const {
    Location l = loc_;
    l.column = loc_.column + static_cast<int>(pos_);
    return l;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw Failure{{here(), what + ", got " + shown()}};
  }
  [[noreturn]] void fail_at(const Location& at, const std::string& what) const {
    throw Failure{{at, what}};
  }
  std::string shown() const {
    if (at_end()) return "end of line";
    std::size_t n = 0;
    while (pos_ + n < text_.size() &&
           (std::isspace(static_cast<unsigned char>(text_[pos_ + n])) == 0) && n < 24) {
      ++n;
    }
    return "'" + std::string(text_.substr(pos_, std::max<std::size_t>(n, 1))) + "'";
  }

  void skip_space() {
    while (pos_ < text_.size() && (std::isspace(static_cast<unsigned char>(text_[pos_])) != 0)) {
      ++pos_;
    }
  }
  bool at_end() const {
    std::size_t p = pos_;
    while (p < text_.size() && (std::isspace(static_cast<unsigned char>(text_[p])) != 0)) ++p;
    return p >= text_.size();
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool starts_with(std::string_view s) const { return text_.substr(pos_).starts_with(s); }
  bool accept(std::string_view s) {
    skip_space();
    if (!starts_with(s)) return false;
    pos_ += s.size();
    return true;
  }
  void expect(std::string_view s, const std::string& what) {
    if (!accept(s)) fail("expected " + what);
  }
  // An identifier: letters, digits, underscores (and dots inside, for sysctl-style names).
  std::string ident() {
    skip_space();
    const std::size_t start = pos_;
    while (pos_ < text_.size() &&
           ((std::isalnum(static_cast<unsigned char>(text_[pos_])) != 0) || text_[pos_] == '_')) {
      ++pos_;
    }
    return std::string(text_.substr(start, pos_ - start));
  }
  // A word as written: ident() but must be non-empty.
  std::string word(const std::string& what) {
    std::string w = ident();
    if (w.empty()) fail("expected " + what);
    return w;
  }
  std::optional<std::int64_t> maybe_integer() {
    skip_space();
    const std::size_t start = pos_;
    bool negative = false;
    if (peek() == '-') {
      negative = true;
      ++pos_;
    }
    std::int64_t v = 0;
    int base = 10;
    if (starts_with("0x") || starts_with("0X")) {
      base = 16;
      pos_ += 2;
    }
    const char* b = text_.data() + pos_;
    const char* e = text_.data() + text_.size();
    // from_chars takes a sign of its own: "--5" or "0x-5" would read as numbers, and negating
    // "--9223372036854775808" overflows. Digits must follow the sign and prefix.
    if (b == e || *b == '-') {
      pos_ = start;
      return std::nullopt;
    }
    auto [next, ec] = std::from_chars(b, e, v, base);
    if (ec != std::errc() || next == b) {
      pos_ = start;
      return std::nullopt;
    }
    pos_ += static_cast<std::size_t>(next - b);
    return negative ? -v : v;
  }
  std::int64_t integer(const std::string& what) {
    auto v = maybe_integer();
    if (!v) fail("expected " + what);
    return *v;
  }
  std::uint32_t u32(const std::string& what) {
    skip_space();
    const Location at = here();
    const std::int64_t v = integer(what);
    if (v < 0 || v > 0xffffffffLL) fail_at(at, what + " out of range: " + std::to_string(v));
    return static_cast<std::uint32_t>(v);
  }
  // Seconds with an optional fraction (".1", "0.100", "2"), as microseconds.
  std::optional<std::int64_t> maybe_seconds() {
    skip_space();
    const std::size_t start = pos_;
    while (pos_ < text_.size() &&
           ((std::isdigit(static_cast<unsigned char>(text_[pos_])) != 0) || text_[pos_] == '.')) {
      if (text_[pos_] == '.' && starts_with("...")) break;
      ++pos_;
    }
    const std::string s(text_.substr(start, pos_ - start));
    if (s.empty() || s == ".") {
      pos_ = start;
      return std::nullopt;
    }
    if (s.find('.') != s.rfind('.')) {
      pos_ = start;
      fail("expected a time in seconds");
    }
    const double seconds = std::strtod(s.c_str(), nullptr);
    return static_cast<std::int64_t>(std::llround(seconds * 1e6));
  }
  // Hex bytes: "0xfe04abcd" or "fe04abcd", two digits a byte.
  std::vector<std::uint8_t> hex_bytes(const std::string& what) {
    skip_space();
    const Location at = here();
    const std::size_t start = pos_;
    while (pos_ < text_.size() && std::isalnum(static_cast<unsigned char>(text_[pos_])) != 0) {
      ++pos_;
    }
    std::string_view digits = text_.substr(start, pos_ - start);
    if (digits.starts_with("0x") || digits.starts_with("0X")) digits.remove_prefix(2);
    if (digits.empty()) {
      pos_ = start;
      fail("expected " + what + " as hex bytes like 0xfe04abcd");
    }
    std::vector<std::uint8_t> out;
    for (const char d : digits) {
      if (std::isxdigit(static_cast<unsigned char>(d)) == 0) {
        fail_at(at, "expected " + what + " as hex bytes like 0xfe04abcd, got '" +
                        std::string(text_.substr(start, pos_ - start)) + "'");
      }
    }
    if (digits.size() % 2 != 0) {
      fail_at(at, what + " has an odd number of hex digits (" + std::to_string(digits.size()) +
                      "): two make a byte");
    }
    for (std::size_t i = 0; i < digits.size(); i += 2) {
      out.push_back(
          static_cast<std::uint8_t>(std::stoi(std::string(digits.substr(i, 2)), nullptr, 16)));
    }
    return out;
  }
  // A dotted quad, in host order.
  std::uint32_t ipv4_address(const std::string& what) {
    skip_space();
    const std::size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isdigit(static_cast<unsigned char>(text_[pos_])) != 0 || text_[pos_] == '.')) {
      ++pos_;
    }
    const auto a = wire::Ipv4Addr::parse(text_.substr(start, pos_ - start));
    if (!a) {
      pos_ = start;
      fail("expected " + what + " as an IPv4 address like 192.0.2.1");
    }
    return a->value;
  }
  // A number in [lo, hi], named `what` in messages.
  std::uint32_t bounded(const std::string& what, std::uint32_t lo, std::uint32_t hi) {
    skip_space();
    const Location at = here();
    const std::int64_t v = integer(what);
    if (v < lo || v > hi) {
      fail_at(at, what + " " + std::to_string(v) + " is out of range (" + std::to_string(lo) +
                      " to " + std::to_string(hi) + ")");
    }
    return static_cast<std::uint32_t>(v);
  }
  // The next identifier, without consuming it.
  std::string peek_word() {
    const std::size_t start = pos_;
    std::string w = ident();
    pos_ = start;
    return w;
  }

  std::string rest() {
    skip_space();
    std::string r(text_.substr(pos_));
    pos_ = text_.size();
    while (!r.empty() && (std::isspace(static_cast<unsigned char>(r.back())) != 0)) r.pop_back();
    return r;
  }
  std::size_t position() const { return pos_; }
  std::string_view text() const { return text_; }

 private:
  std::string_view text_;
  Location loc_;
  std::size_t pos_ = 0;
};

TimeSpec parse_time(Cursor& c) {
  TimeSpec t;
  if (c.accept("*")) {
    t.kind = TimeSpec::Kind::kAny;
    return t;
  }
  const bool relative = c.accept("+");
  auto start = c.maybe_seconds();
  if (!start) c.fail("expected a time like 0.100, +0.1 or *");
  t.kind = relative ? TimeSpec::Kind::kRelative : TimeSpec::Kind::kAbsolute;
  t.start_us = *start;
  if (c.accept("~")) {
    t.range_end_relative = c.accept("+");
    auto end = c.maybe_seconds();
    if (!end) c.fail("expected the end of the time range after '~'");
    t.range_end_us = *end;
  }
  if (c.accept("...")) {
    t.blocking_end_relative = c.accept("+");
    auto end = c.maybe_seconds();
    if (!end) c.fail("expected the time the blocking call returns after '...'");
    t.blocking_end_us = *end;
  }
  return t;
}

// Flag letters; a '?' after P, U, E or W makes that flag optional (outbound lines only), its bit
// going to *optional instead.
std::uint8_t parse_flags(Cursor& c, Direction dir, std::uint8_t* optional) {
  c.skip_space();
  if (c.accept("-")) return 0;
  std::uint8_t flags = 0;
  bool any = false;
  for (;;) {
    const char ch = c.peek();
    std::uint8_t bit = 0;
    switch (ch) {
      case 'F':
        bit = 0x01;
        break;
      case 'S':
        bit = 0x02;
        break;
      case 'R':
        bit = 0x04;
        break;
      case 'P':
        bit = 0x08;
        break;
      case '.':
        bit = 0x10;
        break;
      case 'U':
        bit = 0x20;
        break;
      case 'E':
        bit = 0x40;
        break;
      case 'W':
        bit = 0x80;
        break;
      default:
        break;
    }
    if (bit == 0) break;
    if (((flags | *optional) & bit) != 0) c.fail(std::string("flag '") + ch + "' twice");
    any = true;
    c.accept(std::string_view(&ch, 1));
    if (c.peek() == '?') {
      if (dir != Direction::kOutbound) {
        c.fail("an optional flag ('P?') is for outbound lines only: inbound flags are sent");
      }
      if ((bit & 0xe8U) == 0) {  // P U E W
        c.fail(std::string("flag '") + ch +
               "' cannot be optional: only P, U, E and W take '?' (the others change the "
               "sequence space or the ack field)");
      }
      c.accept("?");
      *optional = static_cast<std::uint8_t>(*optional | bit);
    } else {
      flags = static_cast<std::uint8_t>(flags | bit);
    }
  }
  if (!any) c.fail("expected TCP flags (letters from S F P R . E W U, or -)");
  if ((std::isspace(static_cast<unsigned char>(c.peek())) == 0) && c.peek() != '\0') {
    c.fail("expected TCP flags (letters from S F P R . E W U, or -)");
  }
  return flags;
}

OptionSpec parse_option(Cursor& c) {
  OptionSpec o;
  c.skip_space();
  const Location at = c.here();
  const std::string name = c.word("a TCP option (nop, eol, mss, wscale, sackOK, sack, TS, raw)");
  if (name == "nop") {
    o.kind = OptionSpec::Kind::kNop;
  } else if (name == "eol") {
    o.kind = OptionSpec::Kind::kEol;
  } else if (name == "mss") {
    o.kind = OptionSpec::Kind::kMss;
    o.value = c.u32("the MSS value");
    if (o.value > 0xffff) c.fail_at(at, "mss " + std::to_string(o.value) + " does not fit 16 bits");
  } else if (name == "wscale") {
    o.kind = OptionSpec::Kind::kWscale;
    o.value = c.u32("the window scale shift");
    if (o.value > 255) c.fail_at(at, "wscale " + std::to_string(o.value) + " does not fit 8 bits");
  } else if (name == "sackOK") {
    o.kind = OptionSpec::Kind::kSackOk;
  } else if (name == "sack") {
    o.kind = OptionSpec::Kind::kSack;
    while (auto left = c.maybe_integer()) {
      c.expect(":", "':' inside a SACK block like 1001:2001");
      const std::uint32_t right = c.u32("the right edge of the SACK block");
      o.sack_blocks.emplace_back(static_cast<std::uint32_t>(*left), right);
    }
    if (o.sack_blocks.empty()) c.fail("expected SACK blocks like 1001:2001");
  } else if (name == "TS") {
    o.kind = OptionSpec::Kind::kTimestamp;
    c.expect("val", "'val' in 'TS val N ecr N'");
    o.ts_val = c.u32("the TS value");
    c.expect("ecr", "'ecr' in 'TS val N ecr N'");
    o.ts_ecr = c.u32("the TS echo reply");
  } else if (name == "raw") {
    // Extension: bytes inserted verbatim, for unknown kinds (MUST-6) and illegal lengths (MUST-7).
    o.kind = OptionSpec::Kind::kRaw;
    o.raw = c.hex_bytes("the raw option");
  } else {
    c.fail_at(at, "unknown TCP option '" + name +
                      "' (expected nop, eol, mss, wscale, sackOK, sack, TS, raw)");
  }
  return o;
}

// Bytes an option takes in the option space.
std::size_t option_length(const OptionSpec& o) {
  using K = OptionSpec::Kind;
  switch (o.kind) {
    case K::kNop:
    case K::kEol:
      return 1;
    case K::kMss:
      return 4;
    case K::kWscale:
      return 3;
    case K::kSackOk:
      return 2;
    case K::kSack:
      return 2 + 8 * o.sack_blocks.size();
    case K::kTimestamp:
      return 10;
    case K::kRaw:
      return o.raw.size();
  }
  return 0;
}

// Extension: "[sport 40001, src 192.0.2.9, dst 192.168.0.1, tos 0x10, ttl 1, ipopts 0x9404,
// bad tcp csum]", after the opening '['.
Attributes parse_attributes(Cursor& c, Direction dir, bool icmp) {
  Attributes a;
  std::set<std::string> seen;
  const bool inbound = dir == Direction::kInbound;
  do {
    c.skip_space();
    const Location at = c.here();
    const std::string name =
        c.word("an attribute (sport, src, dst, tos, ttl, ipopts or bad tcp csum)");
    if (!seen.insert(name).second) c.fail_at(at, "'" + name + "' given twice");
    if (name == "bad") {
      if (c.ident() != "tcp" || c.ident() != "csum") c.fail_at(at, "expected 'bad tcp csum'");
      if (!inbound) c.fail_at(at, "'bad tcp csum' is for inbound (<) lines only");
      if (icmp) c.fail_at(at, "'bad tcp csum' is for TCP segments, not ICMP");
      a.bad_checksum = true;
    } else if (name == "sport") {
      a.sport = static_cast<std::uint16_t>(c.bounded("sport", 1, 0xffff));
    } else if (name == "src") {
      a.src = c.ipv4_address("the source address");
    } else if (name == "dst") {
      a.dst = c.ipv4_address("the destination address");
    } else if (name == "tos") {
      a.tos = static_cast<std::uint8_t>(c.bounded("tos", 0, 0xff));
    } else if (name == "ttl") {
      a.ttl = static_cast<std::uint8_t>(c.bounded("ttl", 0, 0xff));
    } else if (name == "ipopts") {
      if (!inbound) c.fail_at(at, "'ipopts' is for inbound (<) lines only");
      c.skip_space();
      const Location bytes_at = c.here();
      a.ip_options = c.hex_bytes("ipopts");
      if (a.ip_options.size() > wire::kIpv4MaxHeader - wire::kIpv4MinHeader) {
        c.fail_at(bytes_at, "ipopts is " + std::to_string(a.ip_options.size()) +
                                " bytes; at most 40 fit in an IPv4 header");
      }
    } else {
      c.fail_at(at, "unknown attribute '" + name +
                        "' (expected sport, src, dst, tos, ttl, ipopts or bad tcp csum)");
    }
  } while (c.accept(","));
  c.expect("]", "',' or ']' after an attribute");
  return a;
}

// start:end(length), as in 1:1001(1000).
void parse_sequence_range(Cursor& c, std::uint32_t& start, std::uint32_t& end,
                          std::uint32_t& length) {
  start = c.u32("a sequence number like 0:0(0)");
  c.expect(":", "':' in start:end(length)");
  end = c.u32("the end sequence number");
  c.expect("(", "'(' in start:end(length)");
  length = c.u32("the payload length");
  c.expect(")", "')' after the payload length");
  if (end - start != length) {
    c.fail_at(c.here(), "start:end(length) disagree: " + std::to_string(start) + ":" +
                            std::to_string(end) + " is " + std::to_string(end - start) +
                            " bytes, not " + std::to_string(length));
  }
}

PacketLine parse_packet(Cursor& c, Direction dir) {
  PacketLine p;
  p.direction = dir;
  p.flags = parse_flags(c, dir, &p.optional_flags);
  parse_sequence_range(c, p.seq_start, p.seq_end, p.payload_length);
  for (;;) {
    if (c.accept("ack")) {
      if (p.ack) c.fail("'ack' given twice");
      p.ack = c.u32("the acknowledgment number");
    } else if (c.accept("win")) {
      if (p.window) c.fail("'win' given twice");
      c.skip_space();
      const Location at = c.here();
      p.window = c.u32("the window");
      if (*p.window > 0xffff) {
        c.fail_at(at, "win " + std::to_string(*p.window) + " does not fit 16 bits");
      }
    } else if (c.accept("urg")) {
      p.urgent_pointer = c.u32("the urgent pointer");
    } else {
      break;
    }
  }
  if ((p.flags & 0x10) != 0 && !p.ack) {
    c.fail("expected 'ack N': the segment has the ACK flag");
  }
  if ((p.flags & 0x10) == 0 && p.ack) {
    c.fail_at(c.here(), "'ack' given but the flags have no '.' (ACK)");
  }
  if (c.accept("<")) {
    const Location options_at = c.here();
    if (c.accept("...")) {
      p.options_any = true;
    } else {
      p.options.push_back(parse_option(c));
      while (c.accept(",")) p.options.push_back(parse_option(c));
    }
    c.expect(">", "',' or '>' after a TCP option");
    std::size_t bytes = 0;
    for (const OptionSpec& o : p.options) bytes += option_length(o);
    if (bytes > wire::kTcpMaxOptions) {
      c.fail_at(options_at, "the TCP options take " + std::to_string(bytes) +
                                " bytes; at most 40 fit in a TCP header");
    }
  }
  if (c.accept("[")) p.attributes = parse_attributes(c, dir, /*icmp=*/false);
  c.skip_space();
  if (!c.at_end()) c.fail("expected the end of the packet line");
  if (dir == Direction::kInbound) {
    if (!p.window) c.fail_at(c.here(), "inbound packets need 'win N'");
    if (p.options_any) c.fail_at(c.here(), "'<...>' only makes sense on outbound (>) packets");
  }
  return p;
}

// "icmp TYPE CODE [mtu N] [start:end(length)] [attributes]", after the '<'.
IcmpLine parse_icmp(Cursor& c) {
  IcmpLine m;
  c.skip_space();
  Location at = c.here();
  if (auto n = c.maybe_integer()) {
    if (*n < 0 || *n > 255) {
      c.fail_at(at, "ICMP type " + std::to_string(*n) + " does not fit 8 bits");
    }
    m.type = static_cast<std::uint8_t>(*n);
  } else {
    const std::string name = c.word(
        "an ICMP type (unreachable, source_quench, time_exceeded, parameter_problem or a number)");
    const auto type = wire::icmp_type_by_name(name);
    if (!type) {
      c.fail_at(at, "unknown ICMP type '" + name +
                        "' (expected unreachable, source_quench, time_exceeded, "
                        "parameter_problem or a number)");
    }
    m.type = *type;
  }
  c.skip_space();
  at = c.here();
  const std::string names = wire::icmp_code_names(m.type);
  const std::string type_name = wire::icmp_type_name(m.type);
  if (auto n = c.maybe_integer()) {
    if (*n < 0 || *n > 255) {
      c.fail_at(at, "ICMP code " + std::to_string(*n) + " does not fit 8 bits");
    }
    m.code = static_cast<std::uint8_t>(*n);
  } else {
    const std::string name =
        c.word("an ICMP code (" + (names.empty() ? "a number" : names + " or a number") + ")");
    const auto code = wire::icmp_code_by_name(m.type, name);
    if (!code) {
      c.fail_at(at, "'" + name + "' is not a code of ICMP " + type_name + " (expected " +
                        (names.empty() ? "a number" : names + " or a number") + ")");
    }
    m.code = *code;
  }
  c.skip_space();
  at = c.here();
  if (c.peek_word() == "mtu") {
    c.ident();
    if (m.type != wire::icmp_type::kDestinationUnreachable ||
        m.code != wire::icmp_unreachable::kFragNeeded) {
      c.fail_at(at, "'mtu' goes with 'unreachable frag_needed' only");
    }
    m.mtu = static_cast<std::uint16_t>(c.bounded("mtu", 0, 0xffff));
  }
  c.expect("[", "'[start:end(length)]', the segment the ICMP message quotes");
  parse_sequence_range(c, m.seq_start, m.seq_end, m.payload_length);
  c.expect("]", "']' after the quoted segment");
  if (c.accept("[")) m.attributes = parse_attributes(c, Direction::kInbound, /*icmp=*/true);
  c.skip_space();
  if (!c.at_end()) c.fail("expected the end of the ICMP line");
  return m;
}

Arg parse_arg(Cursor& c);

// {name=value, ...} or {...}; names may be like sa_family, values any argument.
Arg parse_struct(Cursor& c) {
  Arg a;
  a.kind = Arg::Kind::kStruct;
  const std::size_t start = c.position();
  if (!c.accept("}")) {
    do {
      if (c.accept("...")) {
        a.fields.push_back({"...", Arg{}});
        continue;
      }
      const std::string name = c.word("a field name");
      c.expect("=", "'=' after the field name");
      a.fields.push_back({name, parse_arg(c)});
    } while (c.accept(","));
    c.expect("}", "',' or '}' in a struct");
  }
  a.text = "{" + std::string(c.text().substr(start, c.position() - start));
  return a;
}

Arg parse_arg(Cursor& c) {
  Arg a;
  c.skip_space();
  if (c.accept("...")) return a;
  if (c.accept("[")) {
    a.kind = Arg::Kind::kArray;
    if (!c.accept("]")) {
      do {
        a.elements.push_back(parse_arg(c));
      } while (c.accept(","));
      c.expect("]", "',' or ']' in an array");
    }
    return a;
  }
  if (c.accept("{")) return parse_struct(c);
  if (c.accept("\"")) {
    a.kind = Arg::Kind::kString;
    while (c.peek() != '"') {
      if (c.peek() == '\0') c.fail("expected the closing '\"'");
      if (c.peek() == '\\') c.accept("\\");
      a.text += c.peek();
      c.accept(std::string_view(&c.text()[c.position()], 1));
    }
    c.accept("\"");
    return a;
  }
  if (auto n = c.maybe_integer()) {
    a.kind = Arg::Kind::kNumber;
    a.number = *n;
    return a;
  }
  a.kind = Arg::Kind::kSymbols;
  do {
    std::string sym = c.word("an argument (a number, a SYMBOL, [..], {..}, \"..\" or ...)");
    if (c.accept("(")) {  // htons(8080), inet_addr("1.2.3.4"): kept as text
      const Arg inner = parse_arg(c);
      c.expect(")", "')'");
      sym += "(" + (inner.kind == Arg::Kind::kNumber ? std::to_string(inner.number) : inner.text) +
             ")";
    }
    a.symbols.push_back(sym);
  } while (c.accept("|"));
  return a;
}

SyscallLine parse_syscall(Cursor& c, std::string name) {
  SyscallLine s;
  s.name = std::move(name);
  c.expect("(", "'(' after the syscall name");
  if (!c.accept(")")) {
    do {
      s.args.push_back(parse_arg(c));
    } while (c.accept(","));
    c.expect(")", "',' or ')' in the argument list");
  }
  c.expect("=", "'= result' after the call");
  if (!c.accept("...")) {
    s.result = c.integer("the expected return value (a number or ...)");
    c.skip_space();
    if (std::isupper(static_cast<unsigned char>(c.peek())) != 0) {
      s.errno_name = c.word("an errno name");
      if (c.accept("(")) {
        while (c.peek() != ')' && c.peek() != '\0') {
          c.accept(std::string_view(&c.text()[c.position()], 1));
        }
        c.expect(")", "')' closing the errno text");
      }
    }
  }
  if (!c.at_end()) c.fail("expected the end of the syscall line");
  if (!s.errno_name.empty() && s.result && *s.result != -1) {
    c.fail_at(c.here(), "an errno goes with '= -1', not '= " + std::to_string(*s.result) + "'");
  }
  return s;
}

AssertLine parse_assert(const std::string& body, const Location& at) {
  AssertLine a;
  a.source = body;
  Cursor b(body, at);
  b.expect("assert", "'assert' (the only statement synack evaluates inside %{ }%)");
  do {
    AssertLine::Comparison cmp;
    b.skip_space();
    const Location field_at = b.here();
    cmp.field = b.word("a tcpi_ field, isn_gap(port, port) or isn_advance(port)");
    cmp.text = cmp.field;
    const bool isn = cmp.field == "isn_gap" || cmp.field == "isn_advance";
    if (!cmp.field.starts_with("tcpi_") && !isn) {
      b.fail_at(field_at, "unsupported in %{ }%: '" + cmp.field +
                              "' (only tcpi_<field>, isn_gap(port, port) and isn_advance(port) "
                              "<op> <value> comparisons joined by 'and')");
    }
    if (isn) {
      // Harness pseudo-fields about the target's ISNs on flows (harness ports).
      const std::size_t want = cmp.field == "isn_gap" ? 2 : 1;
      b.expect("(", "'(' after " + cmp.field);
      do {
        cmp.ports.push_back(static_cast<std::uint16_t>(b.bounded("a harness port", 1, 0xffff)));
      } while (cmp.ports.size() < want && b.accept(","));
      if (cmp.ports.size() < want) b.fail("expected ',' and a second port: isn_gap(port, port)");
      b.expect(")", "')' after the port" + std::string(want > 1 ? "s" : ""));
      cmp.text += "(" + std::to_string(cmp.ports[0]);
      if (want > 1) cmp.text += ", " + std::to_string(cmp.ports[1]);
      cmp.text += ")";
    }
    for (const char* op : {"==", "!=", "<=", ">=", "<", ">"}) {
      if (b.accept(op)) {
        cmp.op = op;
        break;
      }
    }
    if (cmp.op.empty()) b.fail("expected a comparison (== != < <= > >=)");
    b.skip_space();
    if (auto n = b.maybe_integer()) {
      cmp.value = std::to_string(*n);
    } else if (isn) {
      b.fail("expected a number to compare " + cmp.text + " with");
    } else {
      cmp.value = b.word("a number or a symbol like TCP_ESTABLISHED");
    }
    a.all.push_back(cmp);
  } while (b.accept("and"));
  if (!b.at_end()) {
    b.fail(
        "unsupported in %{ }%: only tcpi_<field>, isn_gap(port, port) and isn_advance(port) "
        "<op> <value> comparisons joined by 'and'");
  }
  return a;
}

}  // namespace

ParseResult parse_script(std::string_view text, const std::string& path) {
  try {
    const std::string stripped = strip_comments(text, path);
    Script script;
    script.path = path;
    std::istringstream in(stripped);
    std::string line;
    int number = 0;
    double previous_absolute = -1;
    while (std::getline(in, line)) {
      ++number;
      const Location start{path, number, 1};
      Cursor c(line, start);
      if (c.at_end()) continue;
      c.skip_space();
      if (c.starts_with("--")) {
        c.accept("--");
        OptionSetting o;
        o.location = c.here();
        o.name = c.word("an option name after '--'");
        o.value = c.accept("=") ? c.rest() : "";
        if (!c.at_end()) c.fail("expected '=value' or the end of the line");
        script.options.push_back(o);
        continue;
      }
      Line l;
      l.location = c.here();
      l.text = line;
      l.time = parse_time(c);
      c.skip_space();
      if (c.accept("%{")) {
        // The assertion may continue over several lines, up to }%.
        std::string body = std::string(c.text().substr(c.position()));
        const Location body_at = c.here();
        while (body.find("}%") == std::string::npos) {
          std::string more;
          if (!std::getline(in, more)) c.fail_at(l.location, "unterminated %{ (expected }%)");
          ++number;
          body += " " + more;
        }
        const std::size_t end = body.find("}%");
        if (!Cursor(std::string_view(body).substr(end + 2), body_at).at_end()) {
          c.fail_at(body_at, "expected the end of the line after }%");
        }
        l.event = parse_assert(body.substr(0, end), body_at);
      } else if (c.accept("<")) {
        if (c.peek_word() == "icmp") {
          c.ident();
          l.event = parse_icmp(c);
        } else {
          l.event = parse_packet(c, Direction::kInbound);
        }
      } else if (c.accept(">")) {
        c.skip_space();
        if (c.peek_word() == "icmp") {
          c.fail_at(c.here(),
                    "ICMP from the target cannot be expected: only '< icmp' lines, which inject "
                    "it");
        }
        if (c.accept("none")) {
          if (!c.at_end()) c.fail("expected the end of the line after 'none'");
          l.event = SilenceLine{};
        } else {
          l.event = parse_packet(c, Direction::kOutbound);
        }
      } else {
        std::string name = c.ident();
        if (name.empty()) c.fail("expected '<', '>', a syscall or %{");
        l.event = parse_syscall(c, std::move(name));
      }
      // Checks that need the line as a whole.
      const bool outbound = std::holds_alternative<PacketLine>(l.event) &&
                            std::get<PacketLine>(l.event).direction == Direction::kOutbound;
      if ((l.time.kind == TimeSpec::Kind::kAny || l.time.range_end_us) && !outbound) {
        c.fail_at(l.location, "'*' and '~' times are for outbound (>) packets only");
      }
      if (l.time.blocking_end_us && !std::holds_alternative<SyscallLine>(l.event)) {
        c.fail_at(l.location, "'...' (a blocking call's span) is for syscalls only");
      }
      if (l.time.kind == TimeSpec::Kind::kAbsolute) {
        const auto t = static_cast<double>(l.time.start_us);
        if (t < previous_absolute) {
          c.fail_at(l.location, "absolute time goes backwards");
        }
        previous_absolute = t;
      }
      script.lines.push_back(std::move(l));
    }
    return script;
  } catch (const Failure& f) {
    return f.error;
  }
}

ParseResult parse_script_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ScriptError{{path, 0, 0}, "cannot read the file"};
  std::ostringstream text;
  text << in.rdbuf();
  return parse_script(text.str(), path);
}

}  // namespace synack::script
