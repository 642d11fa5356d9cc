#include "harness/script/parser.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>

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

std::uint8_t parse_flags(Cursor& c) {
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
    if ((flags & bit) != 0) c.fail(std::string("flag '") + ch + "' twice");
    flags |= bit;
    any = true;
    c.accept(std::string_view(&ch, 1));
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
  const std::string name = c.word("a TCP option (nop, eol, mss, wscale, sackOK, sack, TS)");
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
  } else {
    c.fail_at(
        at, "unknown TCP option '" + name + "' (expected nop, eol, mss, wscale, sackOK, sack, TS)");
  }
  return o;
}

PacketLine parse_packet(Cursor& c, Direction dir) {
  PacketLine p;
  p.direction = dir;
  p.flags = parse_flags(c);
  p.seq_start = c.u32("a sequence number like 0:0(0)");
  c.expect(":", "':' in start:end(length)");
  p.seq_end = c.u32("the end sequence number");
  c.expect("(", "'(' in start:end(length)");
  p.payload_length = c.u32("the payload length");
  c.expect(")", "')' after the payload length");
  if (p.seq_end - p.seq_start != p.payload_length) {
    c.fail_at(c.here(), "start:end(length) disagree: " + std::to_string(p.seq_start) + ":" +
                            std::to_string(p.seq_end) + " is " +
                            std::to_string(p.seq_end - p.seq_start) + " bytes, not " +
                            std::to_string(p.payload_length));
  }
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
    if (c.accept("...")) {
      p.options_any = true;
    } else {
      p.options.push_back(parse_option(c));
      while (c.accept(",")) p.options.push_back(parse_option(c));
    }
    c.expect(">", "',' or '>' after a TCP option");
  }
  if (c.accept("[bad tcp csum]")) p.bad_checksum = true;
  if (!c.at_end()) c.fail("expected the end of the packet line");
  if (dir == Direction::kInbound) {
    if (!p.window) c.fail_at(c.here(), "inbound packets need 'win N'");
    if (p.options_any) c.fail_at(c.here(), "'<...>' only makes sense on outbound (>) packets");
  }
  return p;
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
    cmp.field = b.word("a tcpi_ field");
    if (!cmp.field.starts_with("tcpi_")) {
      b.fail_at(field_at, "unsupported in %{ }%: '" + cmp.field +
                              "' (only tcpi_<field> <op> <value> comparisons joined by 'and')");
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
    } else {
      cmp.value = b.word("a number or a symbol like TCP_ESTABLISHED");
    }
    a.all.push_back(cmp);
  } while (b.accept("and"));
  if (!b.at_end()) {
    b.fail("unsupported in %{ }%: only tcpi_<field> <op> <value> comparisons joined by 'and'");
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
        l.event = parse_packet(c, Direction::kInbound);
      } else if (c.accept(">")) {
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
