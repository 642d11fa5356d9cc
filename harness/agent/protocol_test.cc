#include "harness/agent/protocol.h"

#include <random>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace synack::agent {
namespace {

using target::SockCall;
using target::SockResult;
using Op = SockCall::Op;
using ::testing::HasSubstr;

SockCall call(Op op, int fd = 3) {
  SockCall c;
  c.op = op;
  c.fd = fd;
  return c;
}

// Every SockCall::Op, with values that differ from the defaults.
std::vector<SockCall> every_call() {
  std::vector<SockCall> all;
  all.push_back(call(Op::kSocket, -1));
  SockCall bind = call(Op::kBind);
  bind.addr = 0xc0a80001;
  bind.port = 8080;
  all.push_back(bind);
  SockCall listen = call(Op::kListen);
  listen.backlog = 128;
  all.push_back(listen);
  all.push_back(call(Op::kAccept));
  SockCall connect = call(Op::kConnect);
  connect.addr = 0x0a000002;
  connect.port = 40000;
  all.push_back(connect);
  SockCall read = call(Op::kRead, 4);
  read.length = 1000;
  all.push_back(read);
  SockCall write = call(Op::kWrite, 4);
  write.data = {0x00, 0x7f, 0xff, 0x10};
  write.length = 4;
  all.push_back(write);
  SockCall empty_write = call(Op::kWrite, 4);
  all.push_back(empty_write);
  for (int how = 0; how < 3; ++how) {
    SockCall shut = call(Op::kShutdown, 4);
    shut.how = how;
    all.push_back(shut);
  }
  all.push_back(call(Op::kClose, -1));
  SockCall set = call(Op::kSetsockopt);
  set.option = "IP_TTL";
  set.value = -1;
  all.push_back(set);
  SockCall linger = call(Op::kSetsockopt);
  linger.option = "SO_LINGER";
  linger.linger_on = true;
  linger.value = 0;
  all.push_back(linger);
  SockCall get = call(Op::kGetsockopt);
  get.option = "SO_ERROR";
  all.push_back(get);
  SockCall nb = call(Op::kSetNonblocking);
  nb.nonblocking = true;
  all.push_back(nb);
  all.push_back(call(Op::kSetNonblocking));
  all.push_back(call(Op::kGetNonblocking));
  SockCall poll = call(Op::kPoll);
  poll.poll_events = 0x001 | 0x004 | 0x2000;
  all.push_back(poll);
  all.push_back(call(Op::kPoll));  // events 0
  all.push_back(call(Op::kIoctlInq));
  all.push_back(call(Op::kIoctlOutq));
  return all;
}

void expect_same(const SockCall& a, const SockCall& b, const std::string& line) {
  SCOPED_TRACE(line);
  EXPECT_EQ(a.op, b.op);
  if (a.op != Op::kSocket) {
    EXPECT_EQ(a.fd, b.fd);
  }
  EXPECT_EQ(a.port, b.port);
  EXPECT_EQ(a.addr, b.addr);
  EXPECT_EQ(a.backlog, b.backlog);
  EXPECT_EQ(a.length, b.length);
  EXPECT_EQ(a.data, b.data);
  EXPECT_EQ(a.how, b.how);
  EXPECT_EQ(a.option, b.option);
  EXPECT_EQ(a.value, b.value);
  EXPECT_EQ(a.linger_on, b.linger_on);
  EXPECT_EQ(a.nonblocking, b.nonblocking);
  EXPECT_EQ(a.poll_events, b.poll_events);
}

TEST(AgentProtocol, EveryOpRoundTrips) {
  std::set<Op> ops;
  for (const SockCall& c : every_call()) {
    const auto line = encode_request(Request::of(c));
    ASSERT_TRUE(line.ok()) << line.error().message;
    const auto back = decode_request(*line);
    ASSERT_TRUE(back.ok()) << *line << ": " << back.error().message;
    EXPECT_EQ(back->kind, Request::Kind::kCall);
    expect_same(c, back->call, *line);
    ops.insert(c.op);
  }
  EXPECT_EQ(ops.size(), 16U) << "every SockCall::Op has a request";
}

TEST(AgentProtocol, RequestLinesAreTheDocumentedOnes) {
  std::vector<std::string> lines;
  for (const SockCall& c : every_call()) lines.push_back(*encode_request(Request::of(c)));
  EXPECT_THAT(lines, ::testing::ElementsAre(
                         "socket", "bind 3 192.168.0.1 8080", "listen 3 128", "accept 3",
                         "connect 3 10.0.0.2 40000", "read 4 1000", "write 4 007fff10", "write 4 -",
                         "shutdown 4 SHUT_RD", "shutdown 4 SHUT_WR", "shutdown 4 SHUT_RDWR",
                         "close -1", "setsockopt 3 IP_TTL -1", "setsockopt 3 SO_LINGER 1 0",
                         "getsockopt 3 SO_ERROR", "fcntl 3 F_SETFL O_NONBLOCK", "fcntl 3 F_SETFL 0",
                         "fcntl 3 F_GETFL", "poll 3 POLLIN|POLLOUT|POLLRDHUP", "poll 3 0",
                         "ioctl 3 SIOCINQ", "ioctl 3 SIOCOUTQ"));
}

TEST(AgentProtocol, OtherRequestsRoundTrip) {
  const std::vector<Request> all = {
      Request::hello(), Request::reset(),     Request::option("tcp_syncookies", "2"),
      Request::poll(5), Request::tcp_info(6), Request::sockname(7)};
  const std::vector<std::string> lines = {"hello 1", "reset",      "option tcp_syncookies 2",
                                          "poll 5",  "tcp_info 6", "sockname 7"};
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto line = encode_request(all[i]);
    ASSERT_TRUE(line.ok());
    EXPECT_EQ(*line, lines[i]);
    const auto back = decode_request(*line + "\n");
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->kind, all[i].kind);
    EXPECT_EQ(back->version, all[i].version);
    EXPECT_EQ(back->name, all[i].name);
    EXPECT_EQ(back->value, all[i].value);
    EXPECT_EQ(back->fd, all[i].fd);
  }
}

TEST(AgentProtocol, DecodingToleratesCrLfAndRunsOfBlanks) {
  const auto r = decode_request("bind  3\t0.0.0.0   80\r\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->call.port, 80);
  EXPECT_TRUE(decode_request("ioctl 4 FIONREAD").ok());
  EXPECT_TRUE(decode_request("ioctl 4 TIOCOUTQ").ok());
}

std::string decode_error(std::string_view line) {
  const auto r = decode_request(line);
  return r.ok() ? "(no error)" : r.error().message;
}

TEST(AgentProtocol, MalformedRequestsSayWhatIsWrong) {
  EXPECT_EQ(decode_error(""), "empty request");
  EXPECT_EQ(decode_error("   \n"), "empty request");
  EXPECT_THAT(decode_error("frobnicate 3"), HasSubstr("unknown request 'frobnicate'"));
  EXPECT_THAT(decode_error("BIND 3 0.0.0.0 80"), HasSubstr("unknown request 'BIND'"));
  EXPECT_EQ(decode_error("bind 3 0.0.0.0"), "bind: expected bind FD ADDR PORT, got 2 arguments");
  EXPECT_EQ(decode_error("accept"), "accept: expected accept FD, got 0 arguments");
  EXPECT_EQ(decode_error("socket 3"), "socket: expected socket, got 1 argument");
  EXPECT_EQ(decode_error("bind 3 0.0.0.0 70000"),
            "bind: column 16: PORT '70000' is out of range (0 to 65535)");
  EXPECT_EQ(decode_error("bind x 0.0.0.0 80"), "bind: column 6: FD 'x' is not a decimal number");
  EXPECT_EQ(decode_error("bind 3 1.2.3 80"),
            "bind: column 8: ADDR '1.2.3' is not a dotted-quad IPv4 address");
  EXPECT_THAT(decode_error("bind 3 1.2.3.256 80"), HasSubstr("not a dotted-quad"));
  EXPECT_THAT(decode_error("bind 3 1.2.3.4.5 80"), HasSubstr("not a dotted-quad"));
  EXPECT_THAT(decode_error("close 99999999999"), HasSubstr("out of range"));
  EXPECT_THAT(decode_error("listen 3 +1"), HasSubstr("not a decimal number"));
  EXPECT_EQ(decode_error("write 4 abc"),
            "write: column 9: hex data has an odd number of digits (3)");
  EXPECT_EQ(decode_error("write 4 00zz"), "write: column 11: 'z' is not a hex digit");
  EXPECT_THAT(decode_error("read 4 -1"), HasSubstr("LEN '-1' is out of range (0 to 262144)"));
  EXPECT_THAT(decode_error("read 4 262145"), HasSubstr("out of range"));
  EXPECT_THAT(decode_error("shutdown 4 SHUT_BOTH"),
              HasSubstr("is not SHUT_RD, SHUT_WR or SHUT_RDWR"));
  EXPECT_THAT(decode_error("setsockopt 3 so_linger 1 0"),
              HasSubstr("OPTION 'so_linger' is not a name"));
  EXPECT_THAT(decode_error("setsockopt 3 SO_LINGER 1"),
              HasSubstr("expected setsockopt FD OPTION VALUE"));
  EXPECT_THAT(decode_error("setsockopt 3 SO_LINGER 2 0"), HasSubstr("ONOFF '2' is out of range"));
  EXPECT_THAT(decode_error("setsockopt 3 TCP_NODELAY 1 2"), HasSubstr("got 4 arguments"));
  EXPECT_THAT(decode_error("getsockopt 3 SO_ERROR 0"), HasSubstr("got 3 arguments"));
  EXPECT_THAT(decode_error("fcntl 3 F_SETFL O_RDWR"), HasSubstr("are not O_NONBLOCK or 0"));
  EXPECT_THAT(decode_error("fcntl 3 F_DUPFD 0"), HasSubstr("is not F_SETFL or F_GETFL"));
  EXPECT_THAT(decode_error("ioctl 3 FIONBIO"), HasSubstr("is not SIOCINQ or SIOCOUTQ"));
  EXPECT_EQ(decode_error("poll 3 POLLIN|POLLFOO"),
            "poll: column 15: EVENTS 'POLLFOO' is not a POLL* name (POLLIN, POLLPRI, POLLOUT, "
            "POLLERR, POLLHUP, POLLNVAL, POLLRDNORM, POLLRDHUP) or 0");
  EXPECT_THAT(decode_error("poll 3 POLLIN||POLLOUT"), HasSubstr("'' is not a POLL* name"));
  EXPECT_THAT(decode_error("hello 0"), HasSubstr("VERSION '0' is out of range"));
  EXPECT_THAT(decode_error("option TCP_SACK 1"), HasSubstr("NAME 'TCP_SACK' is not a word"));
  EXPECT_EQ(decode_error(std::string("close 3\0", 8)),
            "request: column 8: byte 0x00 is not printable ASCII");
  EXPECT_EQ(decode_error("close 3\nclose 4"),
            "request: column 8: byte 0x0a is not printable ASCII (one request per line)");
  EXPECT_THAT(decode_error("close \xff"), HasSubstr("byte 0xff is not printable ASCII"));
}

TEST(AgentProtocol, OversizedLinesAreRefused) {
  // The longest hex a write may carry fits; one more byte of line does not.
  const std::string max_write = "write 4 " + std::string(2 * kMaxData, 'a');
  EXPECT_TRUE(decode_request(max_write).ok());
  EXPECT_THAT(decode_error("write 4 " + std::string(2 * kMaxData + 2, 'a')),
              HasSubstr("hex data holds 262145 bytes; the limit is 262144"));
  const std::string huge(kMaxLine, 'x');
  EXPECT_EQ(decode_error(huge), "request is 1048577 bytes long with its LF; the limit is 1048576");
  EXPECT_TRUE(decode_request("reset" + std::string(kMaxLine - 6, ' ')).ok());
  const auto reply = parse_reply("ok 0 data=" + std::string(kMaxLine, '0'));
  ASSERT_FALSE(reply.ok());
  EXPECT_THAT(reply.error().message, HasSubstr("the limit is 1048576"));

  SockCall big = call(Op::kWrite);
  big.data.assign(kMaxData + 1, 0);
  const auto line = encode_request(Request::of(big));
  ASSERT_FALSE(line.ok());
  EXPECT_EQ(line.error().message, "write: 262145 bytes is over the limit of 262144");
}

TEST(AgentProtocol, EncodingRefusesWhatCannotBeSaid) {
  SockCall opt = call(Op::kSetsockopt);
  opt.option = "SO REUSEADDR";
  EXPECT_THAT(encode_request(Request::of(opt)).error().message, HasSubstr("is not a name"));
  SockCall shut = call(Op::kShutdown);
  shut.how = 3;
  EXPECT_THAT(encode_request(Request::of(shut)).error().message, HasSubstr("how 3"));
  SockCall poll = call(Op::kPoll);
  poll.poll_events = 0x400;
  EXPECT_THAT(encode_request(Request::of(poll)).error().message, HasSubstr("no POLL* name"));
  EXPECT_THAT(encode_request(Request::option("tcp_sack", "1 2")).error().message,
              HasSubstr("has spaces"));
}

// Replies: what the server builds from a SockResult reads back as the same SockResult.
TEST(AgentProtocol, EveryResultRoundTrips) {
  for (const SockCall& c : every_call()) {
    SockResult r{c.op == Op::kPoll ? 1 : 0, 0, {}, 0};
    if (c.op == Op::kRead) {
      r.data = {1, 2, 3};
      r.ret = 3;
    }
    if (c.op == Op::kAccept) {
      r.ret = 5;
      r.value = 40000;
    }
    if (c.op == Op::kGetsockopt) r.value = ECONNRESET;  // SO_ERROR: travels by name
    if (c.op == Op::kIoctlInq || c.op == Op::kIoctlOutq) r.value = 1460;
    if (c.op == Op::kPoll) r.value = 0x001 | 0x010;
    const std::string line = format_reply(reply_of(c, r));
    const auto reply = parse_reply(line);
    ASSERT_TRUE(reply.ok()) << line << ": " << reply.error().message;
    const auto back = result_of(c, *reply);
    ASSERT_TRUE(back.ok()) << line << ": " << back.error().message;
    EXPECT_EQ(back->ret, r.ret) << line;
    EXPECT_EQ(back->data, r.data) << line;
    EXPECT_EQ(back->value, r.value) << line;

    const SockResult failed{-1, EINPROGRESS, {}, 0};
    const std::string fail_line = format_reply(reply_of(c, failed));
    EXPECT_EQ(fail_line, "fail EINPROGRESS");
    const auto fail_back = result_of(c, *parse_reply(fail_line));
    ASSERT_TRUE(fail_back.ok());
    EXPECT_EQ(fail_back->ret, -1);
    EXPECT_EQ(fail_back->err, EINPROGRESS);
  }
}

TEST(AgentProtocol, ReplyLinesAreTheDocumentedOnes) {
  SockCall read = call(Op::kRead, 4);
  read.length = 100;
  EXPECT_EQ(format_reply(reply_of(read, SockResult{5, 0, {'h', 'e', 'l', 'l', 'o'}, 0})),
            "ok 5 data=68656c6c6f");
  EXPECT_EQ(format_reply(reply_of(read, SockResult{0, 0, {}, 0})), "ok 0");
  EXPECT_EQ(format_reply(reply_of(call(Op::kAccept), SockResult{4, 0, {}, 40000})),
            "ok 4 peer_port=40000");
  EXPECT_EQ(format_reply(reply_of(call(Op::kPoll), SockResult{1, 0, {}, 0x005})),
            "ok 1 revents=POLLIN|POLLOUT");
  EXPECT_EQ(format_reply(reply_of_poll(0)), "ok 0 revents=0");
  SockCall so_error = call(Op::kGetsockopt);
  so_error.option = "SO_ERROR";
  EXPECT_EQ(format_reply(reply_of(so_error, SockResult{0, 0, {}, ECONNREFUSED})),
            "ok 0 value=ECONNREFUSED");
  EXPECT_EQ(format_reply(reply_of(so_error, SockResult{0, 0, {}, 0})), "ok 0 value=0");
  EXPECT_EQ(result_of(so_error, *parse_reply("ok 0 value=ETIMEDOUT"))->value, ETIMEDOUT);
  EXPECT_EQ(result_of(so_error, *parse_reply("ok 0 value=0"))->value, 0);
  EXPECT_EQ(result_of(so_error, *parse_reply("ok 0 value=111")).error().message,
            "getsockopt: SO_ERROR value '111' is not 0 or an errno name");
  EXPECT_EQ(format_reply(reply_of(call(Op::kClose), SockResult{-1, EAGAIN, {}, 0})), "fail EAGAIN");
  EXPECT_EQ(format_reply(reply_of(call(Op::kClose), SockResult{-1, 4095, {}, 0})),
            "error errno 4095 has no name in protocol version 1");
  EXPECT_EQ(format_reply(Reply::error("bad\nthing")), "error bad?thing");
  EXPECT_EQ(format_reply(reply_of(Hello{1, "synack"})), "ok 0 version=1 stack=synack");
  EXPECT_EQ(format_reply(reply_of(target::TcpInfo{{"state", 1}, {"rto", 200000}})),
            "ok 0 tcpi_rto=200000 tcpi_state=1");
  EXPECT_EQ(format_reply(reply_of(std::optional<target::TcpInfo>())), "fail EBADF");
  EXPECT_EQ(format_reply(reply_of(target::ConnKey{0xc0a80001, 8080, 0xc0a80002, 40000})),
            "ok 0 local=192.168.0.1:8080 remote=192.168.0.2:40000");
  EXPECT_EQ(format_reply(reply_of(std::optional<target::ConnKey>())), "fail ENOTCONN");
  EXPECT_EQ(format_reply(reply_of(target::OptionStatus::kBadValue)), "fail EINVAL");
}

TEST(AgentProtocol, TypedRepliesReadBack) {
  auto reply = [](std::string_view line) { return *parse_reply(line); };
  const auto hello = hello_of(reply("ok 0 version=1 stack=lwip-2.1 extra=ignored"));
  ASSERT_TRUE(hello.ok());
  EXPECT_EQ(hello->version, 1);
  EXPECT_EQ(hello->stack, "lwip-2.1");
  EXPECT_EQ(hello_of(reply("ok 0")).error().message, "hello: the ok answer lacks version=");
  EXPECT_EQ(hello_of(reply("error unsupported version 2")).error().message,
            "hello: agent error: unsupported version 2");

  const auto info = tcp_info_of(reply("ok 0 tcpi_state=10 tcpi_rto=-1 other=3"));
  ASSERT_TRUE(info.ok());
  ASSERT_TRUE(info->has_value());
  EXPECT_EQ(**info, (target::TcpInfo{{"state", 10}, {"rto", -1}}));
  EXPECT_FALSE(tcp_info_of(reply("fail EBADF"))->has_value());
  EXPECT_THAT(tcp_info_of(reply("ok 0 tcpi_state=x")).error().message,
              HasSubstr("tcpi_state 'x' is not a decimal number"));

  const auto key = sockname_of(reply("ok 0 local=10.0.0.1:80 remote=10.0.0.2:40000"));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ((*key)->target_port, 80);
  EXPECT_EQ((*key)->harness_addr, 0x0a000002U);
  EXPECT_THAT(sockname_of(reply("ok 0 local=10.0.0.1 remote=10.0.0.2:1")).error().message,
              HasSubstr("'10.0.0.1' is not ADDR:PORT"));
  EXPECT_FALSE(sockname_of(reply("fail ENOTCONN"))->has_value());

  EXPECT_EQ(*poll_of(reply("ok 1 revents=POLLOUT|POLLHUP")), 0x014U);
  EXPECT_EQ(*option_status_of(reply("ok 0")), target::OptionStatus::kApplied);
  EXPECT_EQ(*option_status_of(reply("fail ENOPROTOOPT")), target::OptionStatus::kUnsupported);
  EXPECT_EQ(*option_status_of(reply("fail EBUSY")), target::OptionStatus::kUnsupported);
  EXPECT_EQ(*option_status_of(reply("fail EINVAL")), target::OptionStatus::kBadValue);
}

TEST(AgentProtocol, MalformedRepliesSayWhatIsWrong) {
  auto error = [](std::string_view line) {
    const auto r = parse_reply(line);
    return r.ok() ? "(no error)" : r.error().message;
  };
  EXPECT_EQ(error("yes 0"), "column 1: a response starts with ok, fail or error, not 'yes'");
  EXPECT_EQ(error("ok"), "ok: missing RET (column 4)");
  EXPECT_EQ(error("ok -1"), "ok: column 4: RET '-1' is out of range (0 to 9223372036854775807)");
  EXPECT_EQ(error("ok 0 value"),
            "ok: column 6: 'value' is not KEY=VALUE with a key of a-z, 0-9 and _");
  EXPECT_EQ(error("ok 0 value=1 value=2"), "ok: column 14: key value given twice");
  EXPECT_EQ(error("fail"), "fail: missing ERRNO (column 6)");
  EXPECT_EQ(error("fail 111"),
            "fail: column 6: '111' is not an errno name known to protocol version 1");
  EXPECT_EQ(error(""), "empty response");

  // A fail may carry strerror text; an error's text is kept as sent.
  EXPECT_EQ(parse_reply("fail ECONNREFUSED Connection refused")->err, ECONNREFUSED);
  EXPECT_EQ(parse_reply("fail EWOULDBLOCK")->err, EAGAIN);
  EXPECT_EQ(parse_reply("error  no such  request\r\n")->message, "no such  request");
  EXPECT_EQ(parse_reply("error")->message, "(no message)");

  // Replies that parse but do not answer the call that was made.
  SockCall read = call(Op::kRead, 4);
  read.length = 2;
  auto result_error = [](const SockCall& c, std::string_view line) {
    const auto r = result_of(c, *parse_reply(line));
    return r.ok() ? "(no error)" : r.error().message;
  };
  EXPECT_EQ(result_error(read, "ok 2 data=00"), "read: ok 2 with 1 bytes of data=");
  EXPECT_EQ(result_error(read, "ok 3 data=000000"),
            "read: the agent returned 3 bytes for a read of 2");
  EXPECT_EQ(result_error(read, "ok 1 data=0g"), "read: 'g' is not a hex digit");
  EXPECT_EQ(result_error(call(Op::kAccept), "ok 4"), "accept: the ok answer lacks peer_port=");
  EXPECT_EQ(result_error(call(Op::kGetsockopt), "ok 0 value=zero"),
            "getsockopt: value 'zero' is not a decimal number");
  EXPECT_EQ(result_error(call(Op::kPoll), "ok 1 revents=POLLSOON"),
            "poll: revents 'POLLSOON' is not a POLL* name (POLLIN, POLLPRI, POLLOUT, POLLERR, "
            "POLLHUP, POLLNVAL, POLLRDNORM, POLLRDHUP) or 0");
  EXPECT_EQ(result_error(call(Op::kBind), "error bind is not supported"),
            "bind: agent error: bind is not supported");
}

TEST(AgentProtocol, AddressesAndNames) {
  EXPECT_EQ(parse_addr("0.0.0.0"), 0U);
  EXPECT_EQ(parse_addr("255.255.255.255"), 0xffffffffU);
  EXPECT_EQ(parse_addr("127.0.0.1"), 0x7f000001U);
  for (const char* bad : {"", "1", "1.2.3", "1.2.3.4.", ".1.2.3", "1..2.3", "1.2.3.4x",
                          "0001.2.3.4", "-1.2.3.4", "1.2.3.256"}) {
    EXPECT_FALSE(parse_addr(bad).has_value()) << bad;
  }
  EXPECT_EQ(format_addr(0xc0a80001), "192.168.0.1");
  EXPECT_EQ(errno_name(EINPROGRESS), "EINPROGRESS");
  EXPECT_EQ(errno_number("EINPROGRESS"), EINPROGRESS);
  EXPECT_EQ(errno_number("ENOTSUP"), EOPNOTSUPP);
  EXPECT_FALSE(errno_number("EFOO").has_value());
  EXPECT_EQ(poll_names(0), "0");
  EXPECT_EQ(poll_names(0x2000 | 0x020), "POLLNVAL|POLLRDHUP");
  EXPECT_FALSE(poll_names(0x100).has_value());
}

// A fuzzer's view: random lines, random mutations of valid lines, never a crash or a hang.
TEST(AgentProtocol, AnyInputGivesAValueOrAnError) {
  std::mt19937 rng(7);
  std::vector<std::string> seeds;
  for (const SockCall& c : every_call()) seeds.push_back(*encode_request(Request::of(c)));
  for (const char* s : {"ok 5 data=0102030405", "fail EAGAIN", "error x", "ok 0 tcpi_state=1",
                        "ok 0 local=1.2.3.4:5 remote=6.7.8.9:10", "hello 1", "option tcp_sack 1"}) {
    seeds.emplace_back(s);
  }
  const std::string alphabet = "0123456789abcdefxyzABCDEFSO_POLL|=.:- \t\r\n\x01\xff";
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string line = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t pos = line.empty() ? 0 : rng() % line.size();
      const char ch = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          line.insert(line.begin() + static_cast<std::ptrdiff_t>(pos), ch);
          break;
        case 1:
          if (!line.empty()) line.erase(pos, 1);
          break;
        default:
          if (!line.empty()) line[pos] = ch;
          break;
      }
    }
    const auto req = decode_request(line);
    const auto rep = parse_reply(line);
    if (req.ok()) {
      ++parsed;
      EXPECT_TRUE(encode_request(*req).ok()) << line;
    }
    if (rep.ok()) {
      for (const SockCall& c : every_call()) (void)result_of(c, *rep);
      (void)hello_of(*rep);
      (void)tcp_info_of(*rep);
      (void)sockname_of(*rep);
      (void)poll_of(*rep);
      EXPECT_TRUE(parse_reply(format_reply(*rep)).ok()) << line;
    }
  }
  EXPECT_GT(parsed, 100);
}

}  // namespace
}  // namespace synack::agent
