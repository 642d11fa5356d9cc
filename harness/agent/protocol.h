// The agent control protocol (docs/agent-protocol.md): how synack asks a stack behind a tap to
// make socket calls. One request line, one response line, plain ASCII; errno values, socket
// options and poll events travel by name, data in hex.
//
// This file turns requests and responses into lines and back. Parsing is strict and total: any
// input (a fuzzer's, a broken agent's) gives a value or an Error saying what is wrong and where
// (the column, counted from 1), never a crash. Nothing here depends on stack/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness/target/target.h"
#include "harness/wire/result.h"

namespace synack::agent {

inline constexpr int kProtocolVersion = 1;
// The longest line either side may send, its LF included. A read or write moves at most
// kMaxData bytes (2 * kMaxData hex digits), which fits with room to spare.
inline constexpr std::size_t kMaxLine = std::size_t{1} << 20;
inline constexpr std::size_t kMaxData = std::size_t{256} * 1024;

struct Error {
  std::string message;
};

template <class T>
using Parsed = wire::Result<T, Error>;

// A request, decoded. Each kind is one request word of the protocol; every SockCall::Op is a
// kCall (socket, bind, listen, accept, connect, read, write, shutdown, close, setsockopt,
// getsockopt, fcntl, ioctl, and `poll FD EVENTS`).
struct Request {
  enum class Kind {
    kHello,     // hello VERSION
    kReset,     // reset
    kOption,    // option NAME VALUE: a stack knob (tcp_syncookies 1), before the case's sockets
    kCall,      // a socket call
    kPoll,      // poll FD: every readiness condition that holds (Target::poll)
    kTcpInfo,   // tcp_info FD
    kSockname,  // sockname FD: the connection's 4-tuple
  };
  Kind kind = Kind::kCall;
  int version = 0;        // kHello
  std::string name;       // kOption
  std::string value;      // kOption
  target::SockCall call;  // kCall
  int fd = -1;            // kPoll, kTcpInfo, kSockname

  static Request hello(int version = kProtocolVersion);
  static Request reset();
  static Request option(std::string name, std::string value);
  static Request of(target::SockCall call);
  static Request poll(int fd);
  static Request tcp_info(int fd);
  static Request sockname(int fd);
};

// The request line, without its LF. An Error when the call cannot be said in the protocol: an
// option name that is not a word of A-Z, 0-9 and _, more than kMaxData bytes to write, an
// unknown shutdown direction or poll bit, a knob name or value with spaces.
Parsed<std::string> encode_request(const Request& r);
// A request line, with or without its LF (a CR before it is tolerated too).
Parsed<Request> decode_request(std::string_view line);

// A response in its generic form:
//   ok RET [KEY=VALUE]...   the call returned RET (>= 0); fields by request
//   fail ERRNO              the call returned -1 with errno ERRNO (a name: EAGAIN, ...)
//   error TEXT              the request was not understood or cannot be carried out
struct Reply {
  enum class Status { kOk, kFail, kError };
  Status status = Status::kOk;
  std::int64_t ret = 0;                                     // kOk
  int err = 0;                                              // kFail: this host's errno number
  std::string message;                                      // kError
  std::vector<std::pair<std::string, std::string>> fields;  // kOk, in order, keys unique

  static Reply ok(std::int64_t ret = 0);
  static Reply fail(int err);
  static Reply error(std::string message);
  // The value of `key`, or nullptr.
  const std::string* field(std::string_view key) const;
};

// The response line, without its LF. A field that cannot be sent (a key that is not a word of
// a-z, 0-9 and _, a value with a space or a control byte), an errno with no name, or an error
// message with control bytes turns the reply into an `error` saying so.
std::string format_reply(const Reply& r);
// A response line, with or without its LF. Unknown keys are kept (a client ignores them).
Parsed<Reply> parse_reply(std::string_view line);

// --- typed answers: the server builds a Reply from what the stack said, the client turns the
// Reply back. A `fail` answer is a SockResult with ret -1; an `error` answer is an Error.
Reply reply_of(const target::SockCall& c, const target::SockResult& r);
Parsed<target::SockResult> result_of(const target::SockCall& c, const Reply& r);

struct Hello {
  int version = 0;
  std::string stack;  // the agent's name for its stack, "" if it gave none
};
Reply reply_of(const Hello& h);
Parsed<Hello> hello_of(const Reply& r);

// poll FD: the readiness bits (Linux POLL* values). A bad fd is POLLNVAL, as poll(2) says.
Reply reply_of_poll(unsigned revents);
Parsed<unsigned> poll_of(const Reply& r);

// tcp_info FD: nullopt (no such fd) travels as `fail EBADF`.
Reply reply_of(const std::optional<target::TcpInfo>& info);
Parsed<std::optional<target::TcpInfo>> tcp_info_of(const Reply& r);

// sockname FD: nullopt (no connection) travels as `fail ENOTCONN`.
Reply reply_of(const std::optional<target::ConnKey>& key);
Parsed<std::optional<target::ConnKey>> sockname_of(const Reply& r);

// option NAME VALUE: ok is kApplied, fail ENOPROTOOPT kUnsupported, fail EINVAL kBadValue,
// fail EBUSY kUnsupported (too late: the case's sockets exist).
Reply reply_of(target::OptionStatus s);
Parsed<target::OptionStatus> option_status_of(const Reply& r);

// --- names, shared with the docs' tables
// "ECONNREFUSED" for ECONNREFUSED (this host's number); nullopt for a number with no name.
std::optional<std::string> errno_name(int err);
std::optional<int> errno_number(std::string_view name);  // EWOULDBLOCK is EAGAIN
// "POLLIN|POLLOUT", "0" for none; nullopt when a bit has no name.
std::optional<std::string> poll_names(unsigned bits);
// Dotted quad from a host-order address, and back (strict: four decimal parts 0-255).
std::string format_addr(std::uint32_t addr);
std::optional<std::uint32_t> parse_addr(std::string_view s);

}  // namespace synack::agent
