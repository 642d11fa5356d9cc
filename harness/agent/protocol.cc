#include "harness/agent/protocol.h"

#include <array>
#include <cerrno>
#include <charconv>
#include <limits>
#include <map>
#include <set>

namespace synack::agent {
namespace {

using target::SockCall;
using target::SockResult;
using Op = SockCall::Op;

// Parsing throws Bad internally; every public entry point catches it and returns an Error, so
// no input escapes as an exception.
struct Bad {
  std::string message;
};
[[noreturn]] void bad(std::string message) { throw Bad{std::move(message)}; }

// --- names

struct ErrnoName {
  const char* name;
  int number;
};
// The errno values a TCP socket call can plausibly return. EWOULDBLOCK and ENOTSUP are aliases
// accepted on input (they equal EAGAIN and EOPNOTSUPP on Linux).
constexpr ErrnoName kErrnos[] = {
    {"EPERM", EPERM},
    {"ENOENT", ENOENT},
    {"EINTR", EINTR},
    {"EIO", EIO},
    {"EBADF", EBADF},
    {"EAGAIN", EAGAIN},
    {"ENOMEM", ENOMEM},
    {"EACCES", EACCES},
    {"EFAULT", EFAULT},
    {"EBUSY", EBUSY},
    {"EINVAL", EINVAL},
    {"ENFILE", ENFILE},
    {"EMFILE", EMFILE},
    {"EPIPE", EPIPE},
    {"ENOSYS", ENOSYS},
    {"EPROTO", EPROTO},
    {"ENOTSOCK", ENOTSOCK},
    {"EDESTADDRREQ", EDESTADDRREQ},
    {"EMSGSIZE", EMSGSIZE},
    {"EPROTOTYPE", EPROTOTYPE},
    {"ENOPROTOOPT", ENOPROTOOPT},
    {"EPROTONOSUPPORT", EPROTONOSUPPORT},
    {"EOPNOTSUPP", EOPNOTSUPP},
    {"EAFNOSUPPORT", EAFNOSUPPORT},
    {"EADDRINUSE", EADDRINUSE},
    {"EADDRNOTAVAIL", EADDRNOTAVAIL},
    {"ENETDOWN", ENETDOWN},
    {"ENETUNREACH", ENETUNREACH},
    {"ECONNABORTED", ECONNABORTED},
    {"ECONNRESET", ECONNRESET},
    {"ENOBUFS", ENOBUFS},
    {"EISCONN", EISCONN},
    {"ENOTCONN", ENOTCONN},
    {"ESHUTDOWN", ESHUTDOWN},
    {"ETIMEDOUT", ETIMEDOUT},
    {"ECONNREFUSED", ECONNREFUSED},
    {"EHOSTDOWN", EHOSTDOWN},
    {"ENONET", ENONET},  // ICMP source host isolated (Linux's icmp_err_convert)
    {"EHOSTUNREACH", EHOSTUNREACH},
    {"EALREADY", EALREADY},
    {"EINPROGRESS", EINPROGRESS},
    {"ECANCELED", ECANCELED},
};

struct PollName {
  const char* name;
  unsigned bit;
};
// Linux's bit values, which Target::poll and SockCall::poll_events use.
constexpr PollName kPollBits[] = {
    {"POLLIN", 0x001},  {"POLLPRI", 0x002},  {"POLLOUT", 0x004},    {"POLLERR", 0x008},
    {"POLLHUP", 0x010}, {"POLLNVAL", 0x020}, {"POLLRDNORM", 0x040}, {"POLLRDHUP", 0x2000},
};

constexpr std::array<const char*, 3> kShutdown = {"SHUT_RD", "SHUT_WR", "SHUT_RDWR"};

// --- lexical checks

bool is_upper_word(std::string_view s) {  // a socket option name: SO_LINGER
  if (s.empty() || s[0] < 'A' || s[0] > 'Z') return false;
  for (const char ch : s) {
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_')) return false;
  }
  return true;
}

bool is_lower_word(std::string_view s) {  // a field key or knob name: tcpi_state, tcp_sack
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  for (const char ch : s) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_')) return false;
  }
  return true;
}

bool is_visible(char ch) { return ch > 0x20 && ch < 0x7f; }

bool is_token(std::string_view s) {  // something that travels as one token: visible ASCII
  if (s.empty()) return false;
  for (const char ch : s) {
    if (!is_visible(ch)) return false;
  }
  return true;
}

std::string quoted(std::string_view s) {
  constexpr std::size_t kShown = 40;
  std::string out = "'";
  out += s.size() > kShown ? std::string(s.substr(0, kShown)) + "..." : std::string(s);
  return out + "'";
}

struct Token {
  std::string_view text;
  std::size_t column = 0;  // from 1
};

// Splits a line into tokens after checking it is one line of printable ASCII within the limit.
// `what` is "request" or "response".
std::vector<Token> tokenize(std::string_view line, const char* what) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() + 1 > kMaxLine) {
    bad(std::string(what) + " is " + std::to_string(line.size() + 1) +
        " bytes long with its LF; the limit is " + std::to_string(kMaxLine));
  }
  std::vector<Token> tokens;
  std::size_t start = std::string_view::npos;
  for (std::size_t i = 0; i <= line.size(); ++i) {
    const bool end = i == line.size();
    const char ch = end ? ' ' : line[i];
    if (!end && ch != ' ' && ch != '\t' && !is_visible(ch)) {
      constexpr std::string_view kHex = "0123456789abcdef";
      const auto byte = static_cast<unsigned char>(ch);
      bad(std::string(what) + ": column " + std::to_string(i + 1) + ": byte 0x" + kHex[byte >> 4U] +
          kHex[byte & 0xfU] + " is not printable ASCII" +
          (ch == '\n' ? " (one " + std::string(what) + " per line)" : ""));
    }
    if (ch == ' ' || ch == '\t') {
      if (start != std::string_view::npos) {
        tokens.push_back({line.substr(start, i - start), start + 1});
        start = std::string_view::npos;
      }
    } else if (start == std::string_view::npos) {
      start = i;
    }
  }
  if (tokens.empty()) bad(std::string("empty ") + what);
  return tokens;
}

// "bind: column 12: PORT '70000' ..." prefix for an argument.
// Tokens from inside a response field carry column 0: their position is the key's.
std::string where(std::string_view verb, std::size_t column) {
  return std::string(verb) + (column == 0 ? ": " : ": column " + std::to_string(column) + ": ");
}

std::string at(std::string_view verb, const Token& t) { return where(verb, t.column); }

std::int64_t parse_int(std::string_view verb, const Token& t, const char* what, std::int64_t lo,
                       std::int64_t hi) {
  std::int64_t v = 0;
  const char* first = t.text.data();
  const char* last = first + t.text.size();
  auto [end, ec] = std::from_chars(first, last, v);
  if (ec == std::errc::result_out_of_range ||
      (ec == std::errc() && end == last && (v < lo || v > hi))) {
    bad(at(verb, t) + what + " " + quoted(t.text) + " is out of range (" + std::to_string(lo) +
        " to " + std::to_string(hi) + ")");
  }
  if (ec != std::errc() || end != last) {
    bad(at(verb, t) + what + " " + quoted(t.text) + " is not a decimal number");
  }
  return v;
}

int parse_fd(std::string_view verb, const Token& t) {
  // Negative fds travel too: a script may close(-1) to see EBADF.
  return static_cast<int>(
      parse_int(verb, t, "FD", std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
}

int parse_int32(std::string_view verb, const Token& t, const char* what) {
  return static_cast<int>(
      parse_int(verb, t, what, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
}

std::uint16_t parse_port(std::string_view verb, const Token& t) {
  return static_cast<std::uint16_t>(parse_int(verb, t, "PORT", 0, 65535));
}

std::uint32_t parse_addr_token(std::string_view verb, const Token& t, const char* what) {
  const auto a = parse_addr(t.text);
  if (!a) bad(at(verb, t) + what + " " + quoted(t.text) + " is not a dotted-quad IPv4 address");
  return *a;
}

int hex_digit(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

target::Bytes parse_hex(std::string_view verb, const Token& t, bool dash_is_empty) {
  if (dash_is_empty && t.text == "-") return {};
  if (t.text.size() % 2 != 0) {
    bad(at(verb, t) + "hex data has an odd number of digits (" + std::to_string(t.text.size()) +
        ")");
  }
  if (t.text.size() / 2 > kMaxData) {
    bad(at(verb, t) + "hex data holds " + std::to_string(t.text.size() / 2) +
        " bytes; the limit is " + std::to_string(kMaxData));
  }
  target::Bytes out;
  out.reserve(t.text.size() / 2);
  for (std::size_t i = 0; i < t.text.size(); i += 2) {
    const int hi = hex_digit(t.text[i]);
    const int lo = hex_digit(t.text[i + 1]);
    if (hi < 0 || lo < 0) {
      const std::size_t off = i + (hi < 0 ? 0 : 1);
      bad(where(verb, t.column == 0 ? 0 : t.column + off) + "'" + t.text[off] +
          "' is not a hex digit");
    }
    out.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
  }
  return out;
}

std::string to_hex(const target::Bytes& data) {
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (const std::uint8_t b : data) {
    out += kHex[b >> 4U];
    out += kHex[b & 0xfU];
  }
  return out;
}

unsigned parse_poll(std::string_view verb, const Token& t, const char* what) {
  if (t.text == "0") return 0;
  unsigned bits = 0;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t bar = t.text.find('|', pos);
    const std::string_view name =
        t.text.substr(pos, bar == std::string_view::npos ? std::string_view::npos : bar - pos);
    bool found = false;
    for (const auto& p : kPollBits) {
      if (name == p.name) {
        bits |= p.bit;
        found = true;
      }
    }
    if (!found) {
      bad(where(verb, t.column == 0 ? 0 : t.column + pos) + what + " " + quoted(name) +
          " is not a POLL* name (POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, " +
          "POLLNVAL, POLLRDNORM, POLLRDHUP) or 0");
    }
    if (bar == std::string_view::npos) break;
    pos = bar + 1;
  }
  return bits;
}

std::string endpoint(std::uint32_t addr, std::uint16_t port) {
  return format_addr(addr) + ":" + std::to_string(port);
}

std::pair<std::uint32_t, std::uint16_t> parse_endpoint(std::string_view verb, const Token& t) {
  const std::size_t colon = t.text.rfind(':');
  if (colon == std::string_view::npos) {
    bad(at(verb, t) + quoted(t.text) + " is not ADDR:PORT");
  }
  const Token a{t.text.substr(0, colon), t.column};
  const Token p{t.text.substr(colon + 1), t.column + colon + 1};
  return {parse_addr_token(verb, a, "ADDR"), parse_port(verb, p)};
}

// --- requests

struct Verb {
  const char* name;
  const char* usage;
};
constexpr Verb kVerbs[] = {
    {"hello", "hello VERSION"},
    {"reset", "reset"},
    {"option", "option NAME VALUE"},
    {"socket", "socket"},
    {"bind", "bind FD ADDR PORT"},
    {"listen", "listen FD BACKLOG"},
    {"accept", "accept FD"},
    {"connect", "connect FD ADDR PORT"},
    {"read", "read FD LEN"},
    {"write", "write FD HEX"},
    {"shutdown", "shutdown FD SHUT_RD|SHUT_WR|SHUT_RDWR"},
    {"close", "close FD"},
    {"setsockopt", "setsockopt FD OPTION VALUE (SO_LINGER: setsockopt FD SO_LINGER ONOFF SECONDS)"},
    {"getsockopt", "getsockopt FD OPTION"},
    {"fcntl", "fcntl FD F_SETFL O_NONBLOCK|0 or fcntl FD F_GETFL"},
    {"ioctl", "ioctl FD SIOCINQ|SIOCOUTQ"},
    {"poll", "poll FD [EVENTS]"},
    {"tcp_info", "tcp_info FD"},
    {"sockname", "sockname FD"},
};

const char* usage_of(std::string_view verb) {
  for (const auto& v : kVerbs) {
    if (verb == v.name) return v.usage;
  }
  return nullptr;
}

void expect_args(const std::vector<Token>& t, std::size_t lo, std::size_t hi) {
  const std::size_t n = t.size() - 1;
  if (n < lo || n > hi) {
    const std::string verb(t[0].text);
    bad(verb + ": expected " + usage_of(verb) + ", got " + std::to_string(n) + " argument" +
        (n == 1 ? "" : "s"));
  }
}

Request decode_tokens(const std::vector<Token>& t) {
  const std::string_view verb = t[0].text;
  if (usage_of(verb) == nullptr) {
    std::string known;
    for (const auto& v : kVerbs) known += std::string(known.empty() ? "" : ", ") + v.name;
    bad("column 1: unknown request " + quoted(verb) + " (known: " + known + ")");
  }
  Request r;
  SockCall& c = r.call;
  auto fd_request = [&](Request::Kind kind) {
    expect_args(t, 1, 1);
    r.kind = kind;
    r.fd = parse_fd(verb, t[1]);
  };
  if (verb == "hello") {
    expect_args(t, 1, 1);
    r.kind = Request::Kind::kHello;
    r.version = static_cast<int>(parse_int(verb, t[1], "VERSION", 1, 1'000'000));
  } else if (verb == "reset") {
    expect_args(t, 0, 0);
    r.kind = Request::Kind::kReset;
  } else if (verb == "option") {
    expect_args(t, 2, 2);
    r.kind = Request::Kind::kOption;
    if (!is_lower_word(t[1].text)) {
      bad(at(verb, t[1]) + "NAME " + quoted(t[1].text) + " is not a word of a-z, 0-9 and _");
    }
    r.name = t[1].text;
    r.value = t[2].text;
  } else if (verb == "socket") {
    expect_args(t, 0, 0);
    c.op = Op::kSocket;
  } else if (verb == "poll" && t.size() == 2) {
    fd_request(Request::Kind::kPoll);
  } else if (verb == "tcp_info") {
    fd_request(Request::Kind::kTcpInfo);
  } else if (verb == "sockname") {
    fd_request(Request::Kind::kSockname);
  } else {
    // Socket calls on an fd.
    if (t.size() < 2) expect_args(t, 1, 4);  // says what was expected
    c.fd = parse_fd(verb, t[1]);
    if (verb == "bind" || verb == "connect") {
      expect_args(t, 3, 3);
      c.op = verb == "bind" ? Op::kBind : Op::kConnect;
      c.addr = parse_addr_token(verb, t[2], "ADDR");
      c.port = parse_port(verb, t[3]);
    } else if (verb == "listen") {
      expect_args(t, 2, 2);
      c.op = Op::kListen;
      c.backlog = parse_int32(verb, t[2], "BACKLOG");
    } else if (verb == "accept" || verb == "close") {
      expect_args(t, 1, 1);
      c.op = verb == "accept" ? Op::kAccept : Op::kClose;
    } else if (verb == "read") {
      expect_args(t, 2, 2);
      c.op = Op::kRead;
      c.length = static_cast<std::size_t>(
          parse_int(verb, t[2], "LEN", 0, static_cast<std::int64_t>(kMaxData)));
    } else if (verb == "write") {
      expect_args(t, 2, 2);
      c.op = Op::kWrite;
      c.data = parse_hex(verb, t[2], true);
      c.length = c.data.size();
    } else if (verb == "shutdown") {
      expect_args(t, 2, 2);
      c.op = Op::kShutdown;
      c.how = -1;
      for (std::size_t i = 0; i < kShutdown.size(); ++i) {
        if (t[2].text == kShutdown[i]) c.how = static_cast<int>(i);
      }
      if (c.how < 0) {
        bad(at(verb, t[2]) + quoted(t[2].text) + " is not SHUT_RD, SHUT_WR or SHUT_RDWR");
      }
    } else if (verb == "setsockopt" || verb == "getsockopt") {
      const bool set = verb == "setsockopt";
      if (t.size() < 3) expect_args(t, set ? 3 : 2, set ? 3 : 2);
      if (!is_upper_word(t[2].text)) {
        bad(at(verb, t[2]) + "OPTION " + quoted(t[2].text) +
            " is not a name like SO_REUSEADDR (A-Z, 0-9 and _)");
      }
      c.op = set ? Op::kSetsockopt : Op::kGetsockopt;
      c.option = t[2].text;
      if (!set) {
        expect_args(t, 2, 2);
      } else if (c.option == "SO_LINGER") {
        expect_args(t, 4, 4);
        c.linger_on = parse_int(verb, t[3], "ONOFF", 0, 1) != 0;
        c.value = parse_int32(verb, t[4], "SECONDS");
      } else {
        expect_args(t, 3, 3);
        c.value = parse_int32(verb, t[3], "VALUE");
      }
    } else if (verb == "fcntl") {
      expect_args(t, 2, 3);
      if (t[2].text == "F_GETFL") {
        expect_args(t, 2, 2);
        c.op = Op::kGetNonblocking;
      } else if (t[2].text == "F_SETFL") {
        expect_args(t, 3, 3);
        c.op = Op::kSetNonblocking;
        if (t[3].text != "O_NONBLOCK" && t[3].text != "0") {
          bad(at(verb, t[3]) + "flags " + quoted(t[3].text) + " are not O_NONBLOCK or 0");
        }
        c.nonblocking = t[3].text == "O_NONBLOCK";
      } else {
        bad(at(verb, t[2]) + quoted(t[2].text) + " is not F_SETFL or F_GETFL");
      }
    } else if (verb == "ioctl") {
      expect_args(t, 2, 2);
      if (t[2].text == "SIOCINQ" || t[2].text == "FIONREAD") {
        c.op = Op::kIoctlInq;
      } else if (t[2].text == "SIOCOUTQ" || t[2].text == "TIOCOUTQ") {
        c.op = Op::kIoctlOutq;
      } else {
        bad(at(verb, t[2]) + quoted(t[2].text) + " is not SIOCINQ or SIOCOUTQ");
      }
    } else if (verb == "poll") {
      expect_args(t, 1, 2);
      c.op = Op::kPoll;
      c.poll_events = parse_poll(verb, t[2], "EVENTS");
    }
  }
  return r;
}

std::string encode_call(const SockCall& c) {
  const std::string fd = std::to_string(c.fd);
  switch (c.op) {
    case Op::kSocket:
      return "socket";
    case Op::kBind:
      return "bind " + fd + " " + format_addr(c.addr) + " " + std::to_string(c.port);
    case Op::kListen:
      return "listen " + fd + " " + std::to_string(c.backlog);
    case Op::kAccept:
      return "accept " + fd;
    case Op::kConnect:
      return "connect " + fd + " " + format_addr(c.addr) + " " + std::to_string(c.port);
    case Op::kRead:
      if (c.length > kMaxData) {
        bad("read: LEN " + std::to_string(c.length) + " is over the limit of " +
            std::to_string(kMaxData) + " bytes");
      }
      return "read " + fd + " " + std::to_string(c.length);
    case Op::kWrite:
      if (c.data.size() > kMaxData) {
        bad("write: " + std::to_string(c.data.size()) + " bytes is over the limit of " +
            std::to_string(kMaxData));
      }
      return "write " + fd + " " + (c.data.empty() ? "-" : to_hex(c.data));
    case Op::kShutdown:
      if (c.how < 0 || c.how > 2) {
        bad("shutdown: how " + std::to_string(c.how) + " is not 0, 1 or 2");
      }
      return "shutdown " + fd + " " + kShutdown[static_cast<std::size_t>(c.how)];
    case Op::kClose:
      return "close " + fd;
    case Op::kSetsockopt:
    case Op::kGetsockopt: {
      const bool set = c.op == Op::kSetsockopt;
      const char* verb = set ? "setsockopt" : "getsockopt";
      if (!is_upper_word(c.option)) {
        bad(std::string(verb) + ": option " + quoted(c.option) +
            " is not a name like SO_REUSEADDR (A-Z, 0-9 and _)");
      }
      std::string line = std::string(verb) + " " + fd + " " + c.option;
      if (!set) return line;
      if (c.option == "SO_LINGER") {
        return line + " " + (c.linger_on ? "1 " : "0 ") + std::to_string(c.value);
      }
      return line + " " + std::to_string(c.value);
    }
    case Op::kSetNonblocking:
      return "fcntl " + fd + " F_SETFL " + (c.nonblocking ? "O_NONBLOCK" : "0");
    case Op::kGetNonblocking:
      return "fcntl " + fd + " F_GETFL";
    case Op::kPoll: {
      const auto names = poll_names(c.poll_events);
      if (!names) {
        bad("poll: events " + std::to_string(c.poll_events) + " include a bit with no POLL* name");
      }
      return "poll " + fd + " " + *names;
    }
    case Op::kIoctlInq:
      return "ioctl " + fd + " SIOCINQ";
    case Op::kIoctlOutq:
      return "ioctl " + fd + " SIOCOUTQ";
  }
  bad("unknown SockCall op " + std::to_string(static_cast<int>(c.op)));
}

// --- replies

const std::string& need(const Reply& r, const char* verb, const char* key) {
  const std::string* v = r.field(key);
  if (v == nullptr) bad(std::string(verb) + ": the ok answer lacks " + key + "=");
  return *v;
}

std::int64_t field_int(const Reply& r, const char* verb, const char* key, std::int64_t lo,
                       std::int64_t hi) {
  const std::string& v = need(r, verb, key);
  return parse_int(verb, Token{v, 0}, key, lo, hi);
}

const char* verb_of(Op op) {
  switch (op) {
    case Op::kSocket:
      return "socket";
    case Op::kBind:
      return "bind";
    case Op::kListen:
      return "listen";
    case Op::kAccept:
      return "accept";
    case Op::kConnect:
      return "connect";
    case Op::kRead:
      return "read";
    case Op::kWrite:
      return "write";
    case Op::kShutdown:
      return "shutdown";
    case Op::kClose:
      return "close";
    case Op::kSetsockopt:
      return "setsockopt";
    case Op::kGetsockopt:
      return "getsockopt";
    case Op::kSetNonblocking:
    case Op::kGetNonblocking:
      return "fcntl";
    case Op::kPoll:
      return "poll";
    case Op::kIoctlInq:
    case Op::kIoctlOutq:
      return "ioctl";
  }
  return "call";
}

template <class F>
auto guarded(F&& f) -> Parsed<decltype(f())> {
  try {
    return f();
  } catch (const Bad& b) {
    return Error{b.message};
  }
}

// An `error` reply, or a `fail` one where the caller does not take it, as an Error.
[[noreturn]] void not_ok(const char* verb, const Reply& r) {
  if (r.status == Reply::Status::kError) bad(std::string(verb) + ": agent error: " + r.message);
  bad(std::string(verb) + ": agent answered fail " + errno_name(r.err).value_or("?"));
}

}  // namespace

// --- names

std::optional<std::string> errno_name(int err) {
  for (const auto& e : kErrnos) {
    if (e.number == err) return std::string(e.name);
  }
  return std::nullopt;
}

std::optional<int> errno_number(std::string_view name) {
  if (name == "EWOULDBLOCK") return EWOULDBLOCK;
  if (name == "ENOTSUP") return ENOTSUP;
  for (const auto& e : kErrnos) {
    if (name == e.name) return e.number;
  }
  return std::nullopt;
}

std::optional<std::string> poll_names(unsigned bits) {
  if (bits == 0) return "0";
  std::string out;
  for (const auto& p : kPollBits) {
    if ((bits & p.bit) != 0) {
      out += std::string(out.empty() ? "" : "|") + p.name;
      bits &= ~p.bit;
    }
  }
  if (bits != 0) return std::nullopt;
  return out;
}

std::string format_addr(std::uint32_t addr) {
  return std::to_string(addr >> 24U) + "." + std::to_string((addr >> 16U) & 0xffU) + "." +
         std::to_string((addr >> 8U) & 0xffU) + "." + std::to_string(addr & 0xffU);
}

std::optional<std::uint32_t> parse_addr(std::string_view s) {
  std::uint32_t addr = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (s.empty() || s[0] != '.') return std::nullopt;
      s.remove_prefix(1);
    }
    std::size_t n = 0;
    while (n < s.size() && n < 4 && s[n] >= '0' && s[n] <= '9') ++n;
    if (n == 0 || n > 3) return std::nullopt;
    unsigned v = 0;
    std::from_chars(s.data(), s.data() + n, v);
    if (v > 255) return std::nullopt;
    addr = (addr << 8U) | v;
    s.remove_prefix(n);
  }
  if (!s.empty()) return std::nullopt;
  return addr;
}

// --- requests

Request Request::hello(int version) {
  Request r;
  r.kind = Kind::kHello;
  r.version = version;
  return r;
}

Request Request::reset() {
  Request r;
  r.kind = Kind::kReset;
  return r;
}

Request Request::option(std::string name, std::string value) {
  Request r;
  r.kind = Kind::kOption;
  r.name = std::move(name);
  r.value = std::move(value);
  return r;
}

Request Request::of(target::SockCall call) {
  Request r;
  r.kind = Kind::kCall;
  r.call = std::move(call);
  return r;
}

Request Request::poll(int fd) {
  Request r;
  r.kind = Kind::kPoll;
  r.fd = fd;
  return r;
}

Request Request::tcp_info(int fd) {
  Request r;
  r.kind = Kind::kTcpInfo;
  r.fd = fd;
  return r;
}

Request Request::sockname(int fd) {
  Request r;
  r.kind = Kind::kSockname;
  r.fd = fd;
  return r;
}

Parsed<std::string> encode_request(const Request& r) {
  return guarded([&]() -> std::string {
    switch (r.kind) {
      case Request::Kind::kHello:
        return "hello " + std::to_string(r.version);
      case Request::Kind::kReset:
        return "reset";
      case Request::Kind::kOption:
        if (!is_lower_word(r.name)) {
          bad("option: name " + quoted(r.name) + " is not a word of a-z, 0-9 and _");
        }
        if (!is_token(r.value)) {
          bad("option " + r.name + ": value " + quoted(r.value) +
              " is empty or has spaces or control bytes");
        }
        return "option " + r.name + " " + r.value;
      case Request::Kind::kCall:
        return encode_call(r.call);
      case Request::Kind::kPoll:
        return "poll " + std::to_string(r.fd);
      case Request::Kind::kTcpInfo:
        return "tcp_info " + std::to_string(r.fd);
      case Request::Kind::kSockname:
        return "sockname " + std::to_string(r.fd);
    }
    bad("unknown request kind");
  });
}

Parsed<Request> decode_request(std::string_view line) {
  return guarded([&] { return decode_tokens(tokenize(line, "request")); });
}

// --- replies

Reply Reply::ok(std::int64_t ret) {
  Reply r;
  r.ret = ret;
  return r;
}

Reply Reply::fail(int err) {
  Reply r;
  r.status = Status::kFail;
  r.err = err;
  return r;
}

Reply Reply::error(std::string message) {
  Reply r;
  r.status = Status::kError;
  r.message = std::move(message);
  return r;
}

const std::string* Reply::field(std::string_view key) const {
  for (const auto& [k, v] : fields) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string format_reply(const Reply& r) {
  switch (r.status) {
    case Reply::Status::kOk: {
      if (r.ret < 0) {
        return format_reply(Reply::error("ok with a negative result " + std::to_string(r.ret)));
      }
      std::string line = "ok " + std::to_string(r.ret);
      std::set<std::string_view> seen;
      for (const auto& [k, v] : r.fields) {
        if (!is_lower_word(k) || !seen.insert(k).second) {
          return format_reply(Reply::error("cannot send field key " + quoted(k)));
        }
        for (const char ch : v) {
          if (!is_visible(ch)) {
            return format_reply(
                Reply::error("cannot send the value of " + k + ": it has a space or control byte"));
          }
        }
        line += " ";
        line += k;
        line += "=";
        line += v;
      }
      return line;
    }
    case Reply::Status::kFail: {
      const auto name = errno_name(r.err);
      if (!name) {
        return format_reply(
            Reply::error("errno " + std::to_string(r.err) + " has no name in protocol version 1"));
      }
      return "fail " + *name;
    }
    case Reply::Status::kError: {
      std::string line = "error ";
      for (const char ch : r.message) line += is_visible(ch) || ch == ' ' ? ch : '?';
      if (r.message.empty()) line += "(no message)";
      return line.substr(0, kMaxLine - 1);
    }
  }
  return "error bad reply status";
}

Parsed<Reply> parse_reply(std::string_view line) {
  return guarded([&] {
    const std::vector<Token> t = tokenize(line, "response");
    const std::string_view word = t[0].text;
    if (word == "ok") {
      if (t.size() < 2) bad("ok: missing RET (column " + std::to_string(t[0].column + 3) + ")");
      Reply r =
          Reply::ok(parse_int("ok", t[1], "RET", 0, std::numeric_limits<std::int64_t>::max()));
      for (std::size_t i = 2; i < t.size(); ++i) {
        const std::size_t eq = t[i].text.find('=');
        const std::string_view key = t[i].text.substr(0, eq);
        if (eq == std::string_view::npos || !is_lower_word(key)) {
          bad(at("ok", t[i]) + quoted(t[i].text) +
              " is not KEY=VALUE with a key of a-z, 0-9 and _");
        }
        if (r.field(key) != nullptr) {
          bad(at("ok", t[i]) + "key " + std::string(key) + " given twice");
        }
        r.fields.emplace_back(key, t[i].text.substr(eq + 1));
      }
      return r;
    }
    if (word == "fail") {
      // `fail ERRNO`, optionally followed by free text (strerror) that is ignored.
      if (t.size() < 2) bad("fail: missing ERRNO (column " + std::to_string(t[0].column + 5) + ")");
      const auto err = errno_number(t[1].text);
      if (!err) {
        bad(at("fail", t[1]) + quoted(t[1].text) +
            " is not an errno name known to protocol version 1");
      }
      return Reply::fail(*err);
    }
    if (word == "error") {
      // The message is the rest of the line as sent.
      std::string_view rest = line;
      while (!rest.empty() && (rest.back() == '\n' || rest.back() == '\r')) rest.remove_suffix(1);
      rest.remove_prefix(std::min(rest.size(), t[0].column - 1 + 5));
      while (!rest.empty() && (rest[0] == ' ' || rest[0] == '\t')) rest.remove_prefix(1);
      return Reply::error(rest.empty() ? "(no message)" : std::string(rest));
    }
    bad("column 1: a response starts with ok, fail or error, not " + quoted(word));
  });
}

// --- typed answers

Reply reply_of(const SockCall& c, const SockResult& r) {
  if (r.ret == -1) return Reply::fail(r.err);
  if (r.ret < 0) {
    return Reply::error(std::string(verb_of(c.op)) + " returned " + std::to_string(r.ret));
  }
  Reply out = Reply::ok(r.ret);
  switch (c.op) {
    case Op::kRead:
      if (!r.data.empty()) out.fields.emplace_back("data", to_hex(r.data));
      break;
    case Op::kAccept:
      out.fields.emplace_back("peer_port", std::to_string(r.value));
      break;
    case Op::kGetsockopt:
      // SO_ERROR's value is an errno: by name, like every errno in the protocol.
      if (c.option == "SO_ERROR" && r.value != 0) {
        const auto name = errno_name(r.value);
        if (!name) return Reply::error("SO_ERROR " + std::to_string(r.value) + " has no name");
        out.fields.emplace_back("value", *name);
        break;
      }
      out.fields.emplace_back("value", std::to_string(r.value));
      break;
    case Op::kGetNonblocking:
    case Op::kIoctlInq:
    case Op::kIoctlOutq:
      out.fields.emplace_back("value", std::to_string(r.value));
      break;
    case Op::kPoll: {
      const auto names = poll_names(static_cast<unsigned>(r.value));
      if (!names) {
        return Reply::error("poll: revents " + std::to_string(r.value) +
                            " have a bit with no POLL* name");
      }
      out.fields.emplace_back("revents", *names);
      break;
    }
    default:
      break;
  }
  return out;
}

Parsed<SockResult> result_of(const SockCall& c, const Reply& r) {
  return guarded([&] {
    const char* verb = verb_of(c.op);
    if (r.status == Reply::Status::kError) not_ok(verb, r);
    if (r.status == Reply::Status::kFail) return SockResult{-1, r.err, {}, 0};
    SockResult out{r.ret, 0, {}, 0};
    constexpr std::int64_t kIntMin = std::numeric_limits<int>::min();
    constexpr std::int64_t kIntMax = std::numeric_limits<int>::max();
    switch (c.op) {
      case Op::kRead: {
        if (const std::string* d = r.field("data")) out.data = parse_hex(verb, Token{*d, 0}, false);
        if (out.data.size() != static_cast<std::uint64_t>(r.ret)) {
          bad("read: ok " + std::to_string(r.ret) + " with " + std::to_string(out.data.size()) +
              " bytes of data=");
        }
        if (out.data.size() > c.length) {
          bad("read: the agent returned " + std::to_string(out.data.size()) +
              " bytes for a read of " + std::to_string(c.length));
        }
        break;
      }
      case Op::kAccept:
        out.value = static_cast<int>(field_int(r, verb, "peer_port", 0, 65535));
        break;
      case Op::kGetsockopt:
        if (const std::string* v = r.field("value"); c.option == "SO_ERROR" && v != nullptr) {
          if (const auto err = errno_number(*v)) {
            out.value = *err;
            break;
          }
          if (*v != "0") {
            bad("getsockopt: SO_ERROR value " + quoted(*v) + " is not 0 or an errno name");
          }
          break;
        }
        out.value = static_cast<int>(field_int(r, verb, "value", kIntMin, kIntMax));
        break;
      case Op::kIoctlInq:
      case Op::kIoctlOutq:
        out.value = static_cast<int>(field_int(r, verb, "value", kIntMin, kIntMax));
        break;
      case Op::kGetNonblocking:
        if (r.field("value") != nullptr) {
          out.value = static_cast<int>(field_int(r, verb, "value", kIntMin, kIntMax));
        }
        break;
      case Op::kPoll:
        out.value =
            static_cast<int>(parse_poll(verb, Token{need(r, verb, "revents"), 0}, "revents"));
        break;
      default:
        break;
    }
    return out;
  });
}

Reply reply_of(const Hello& h) {
  Reply r = Reply::ok(0);
  r.fields.emplace_back("version", std::to_string(h.version));
  if (!h.stack.empty()) r.fields.emplace_back("stack", h.stack);
  return r;
}

Parsed<Hello> hello_of(const Reply& r) {
  return guarded([&] {
    if (r.status != Reply::Status::kOk) not_ok("hello", r);
    Hello h;
    h.version = static_cast<int>(field_int(r, "hello", "version", 1, 1'000'000));
    if (const std::string* s = r.field("stack")) h.stack = *s;
    return h;
  });
}

Reply reply_of_poll(unsigned revents) {
  const auto names = poll_names(revents);
  if (!names) {
    return Reply::error("poll: revents " + std::to_string(revents) +
                        " have a bit with no POLL* name");
  }
  Reply r = Reply::ok(revents != 0 ? 1 : 0);
  r.fields.emplace_back("revents", *names);
  return r;
}

Parsed<unsigned> poll_of(const Reply& r) {
  return guarded([&] {
    if (r.status != Reply::Status::kOk) not_ok("poll", r);
    return parse_poll("poll", Token{need(r, "poll", "revents"), 0}, "revents");
  });
}

Reply reply_of(const std::optional<target::TcpInfo>& info) {
  if (!info) return Reply::fail(EBADF);
  Reply r = Reply::ok(0);
  for (const auto& [name, value] : *info) {
    r.fields.emplace_back("tcpi_" + name, std::to_string(value));
  }
  return r;
}

Parsed<std::optional<target::TcpInfo>> tcp_info_of(const Reply& r) {
  return guarded([&]() -> std::optional<target::TcpInfo> {
    if (r.status == Reply::Status::kError) not_ok("tcp_info", r);
    if (r.status == Reply::Status::kFail) return std::nullopt;
    target::TcpInfo info;
    for (const auto& [k, v] : r.fields) {
      if (!k.starts_with("tcpi_")) continue;  // keys a later version may add
      info[k.substr(5)] =
          parse_int("tcp_info", Token{v, 0}, k.c_str(), std::numeric_limits<std::int64_t>::min(),
                    std::numeric_limits<std::int64_t>::max());
    }
    return info;
  });
}

Reply reply_of(const std::optional<target::ConnKey>& key) {
  if (!key) return Reply::fail(ENOTCONN);
  Reply r = Reply::ok(0);
  r.fields.emplace_back("local", endpoint(key->target_addr, key->target_port));
  r.fields.emplace_back("remote", endpoint(key->harness_addr, key->harness_port));
  return r;
}

Parsed<std::optional<target::ConnKey>> sockname_of(const Reply& r) {
  return guarded([&]() -> std::optional<target::ConnKey> {
    if (r.status == Reply::Status::kError) not_ok("sockname", r);
    if (r.status == Reply::Status::kFail) return std::nullopt;
    const auto [la, lp] = parse_endpoint("sockname", Token{need(r, "sockname", "local"), 0});
    const auto [ra, rp] = parse_endpoint("sockname", Token{need(r, "sockname", "remote"), 0});
    return target::ConnKey{la, lp, ra, rp};
  });
}

Reply reply_of(target::OptionStatus s) {
  switch (s) {
    case target::OptionStatus::kApplied:
      return Reply::ok(0);
    case target::OptionStatus::kUnsupported:
      return Reply::fail(ENOPROTOOPT);
    case target::OptionStatus::kBadValue:
      return Reply::fail(EINVAL);
  }
  return Reply::error("bad option status");
}

Parsed<target::OptionStatus> option_status_of(const Reply& r) {
  return guarded([&] {
    if (r.status == Reply::Status::kError) not_ok("option", r);
    if (r.status == Reply::Status::kOk) return target::OptionStatus::kApplied;
    return r.err == EINVAL ? target::OptionStatus::kBadValue : target::OptionStatus::kUnsupported;
  });
}

}  // namespace synack::agent
