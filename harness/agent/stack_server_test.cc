// The agent protocol end to end: AgentClient talking to a StackServer (or to deliberately bad
// agents) over real unix sockets in a temporary directory, the server's io_context on a thread
// of its own.
#include "harness/agent/stack_server.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/agent/client.h"
#include "harness/target/inproc.h"
#include "harness/wire/tcp.h"

namespace synack::agent {
namespace {

namespace asio = boost::asio;
using target::SockCall;
using target::SockResult;
using Op = SockCall::Op;
using std::chrono::milliseconds;
using ::testing::HasSubstr;

constexpr std::uint32_t kTargetAddr = 0xc0a80001;   // 192.168.0.1
constexpr std::uint32_t kHarnessAddr = 0xc0a80002;  // 192.168.0.2

// A temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "synack-agent-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const char* name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// An io_context running on its own thread; work for it is posted and waited for.
class IoThread {
 public:
  IoThread() : guard_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
  ~IoThread() { stop(); }
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  asio::io_context& io() { return io_; }
  template <class F>
  auto run(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto done = task.get_future();
    asio::post(io_, [&task] { task(); });
    return done.get();
  }
  void stop() {
    if (!thread_.joinable()) return;
    guard_.reset();
    io_.stop();
    thread_.join();
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread thread_;
};

stack::StackConfig served_config() {
  stack::StackConfig c;
  c.local_addr = kTargetAddr;
  return c;
}

wire::Bytes segment(std::uint8_t flags, std::uint32_t seq, std::uint32_t ack,
                    const wire::Bytes& payload = {}) {
  wire::TcpPacket p;
  p.ip.src = wire::Ipv4Addr{kHarnessAddr};
  p.ip.dst = wire::Ipv4Addr{kTargetAddr};
  p.tcp.src_port = 40000;
  p.tcp.dst_port = 8080;
  p.tcp.seq = wire::Seq(seq);
  p.tcp.ack = wire::Seq(ack);
  p.tcp.flags = flags;
  p.tcp.window = 65535;
  p.payload = payload;
  return wire::emit(p);
}

class AgentServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = std::make_unique<stack::Stack>(served_config(), 1);
    server_ = io_.run([&] {
      return std::make_unique<StackServer>(io_.io(), *stack_, "unix:" + dir_.file("agent.sock"));
    });
  }
  void TearDown() override {
    io_.run([&] { server_.reset(); });
    io_.stop();
  }

  std::string address() const { return "unix:" + dir_.file("agent.sock"); }

  // The stack's output so far, parsed (on the server's thread: the stack is its to touch).
  std::vector<wire::TcpPacket> output() {
    return io_.run([&] {
      std::vector<wire::TcpPacket> out;
      for (const auto& p : stack_->take_output()) out.push_back(*wire::parse_tcp_packet(p));
      return out;
    });
  }
  void inject(const wire::Bytes& packet) {
    io_.run([&] { stack_->input(packet, stack::Instant(0)); });
  }

  TempDir dir_;
  IoThread io_;
  std::unique_ptr<stack::Stack> stack_;
  std::unique_ptr<StackServer> server_;
};

SockCall call(Op op, int fd = -1) {
  SockCall c;
  c.op = op;
  c.fd = fd;
  return c;
}

TEST_F(AgentServerTest, PassiveOpenReadAndCloseThroughTheAgent) {
  AgentClient agent(address(), AgentClient::Options{milliseconds(2000), kHarnessAddr});
  EXPECT_EQ(agent.stack_name(), "synack");
  agent.reset();

  const SockResult s = agent.call(call(Op::kSocket));
  ASSERT_GE(s.ret, 0);
  const int fd = static_cast<int>(s.ret);
  SockCall reuse = call(Op::kSetsockopt, fd);
  reuse.option = "SO_REUSEADDR";
  reuse.value = 1;
  EXPECT_EQ(agent.call(reuse).ret, 0);
  SockCall bind = call(Op::kBind, fd);
  bind.port = 8080;
  EXPECT_EQ(agent.call(bind).ret, 0);
  SockCall listen = call(Op::kListen, fd);
  listen.backlog = 1;
  EXPECT_EQ(agent.call(listen).ret, 0);
  EXPECT_EQ(agent.tcp_info(fd)->at("state"), 10);  // TCP_LISTEN

  // Nothing to accept yet: the agent says EAGAIN rather than blocking.
  const SockResult early = agent.call(call(Op::kAccept, fd));
  EXPECT_EQ(early.ret, -1);
  EXPECT_EQ(early.err, EAGAIN);
  EXPECT_EQ(agent.poll(fd), 0U);

  // The handshake, played straight into the served stack (as the tap would deliver it).
  inject(segment(wire::tcp_flags::kSyn, 1000, 0));
  const auto synack = output();
  ASSERT_EQ(synack.size(), 1U);
  EXPECT_EQ(synack[0].tcp.flags, wire::tcp_flags::kSyn | wire::tcp_flags::kAck);
  EXPECT_EQ(synack[0].tcp.ack.raw(), 1001U);
  const std::uint32_t isn = synack[0].tcp.seq.raw();
  inject(segment(wire::tcp_flags::kAck, 1001, isn + 1));
  EXPECT_EQ(agent.poll(fd), 0x001U);  // POLLIN: a connection to accept

  const SockResult accepted = agent.call(call(Op::kAccept, fd));
  ASSERT_GE(accepted.ret, 0) << accepted.err;
  EXPECT_EQ(accepted.value, 40000);  // the peer's port
  const int conn = static_cast<int>(accepted.ret);
  EXPECT_EQ(agent.tcp_info(conn)->at("state"), 1);  // TCP_ESTABLISHED
  const auto key = agent.connection(conn);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->target_addr, kTargetAddr);
  EXPECT_EQ(key->target_port, 8080);
  EXPECT_EQ(key->harness_addr, kHarnessAddr);
  EXPECT_EQ(key->harness_port, 40000);

  // Data from the peer, read through the agent.
  inject(segment(wire::tcp_flags::kAck | wire::tcp_flags::kPsh, 1001, isn + 1, {'h', 'i', '!'}));
  SockCall read = call(Op::kRead, conn);
  read.length = 100;
  const SockResult got = agent.call(read);
  EXPECT_EQ(got.ret, 3);
  EXPECT_EQ(got.data, (target::Bytes{'h', 'i', '!'}));
  const SockResult none = agent.call(read);
  EXPECT_EQ(none.err, EAGAIN);

  // close() sends a FIN.
  (void)output();
  EXPECT_EQ(agent.call(call(Op::kClose, conn)).ret, 0);
  const auto fin = output();
  ASSERT_FALSE(fin.empty());
  EXPECT_TRUE(fin.back().tcp.has(wire::tcp_flags::kFin));
  EXPECT_FALSE(agent.tcp_info(conn).has_value());  // the fd is gone
  EXPECT_FALSE(agent.connection(conn).has_value());

  // reset leaves nothing behind: the listener's fd is gone too.
  agent.reset();
  EXPECT_EQ(agent.poll(fd), 0x020U);  // POLLNVAL
}

// Every call through the agent answers as the in-process target does, on a fresh stack each.
TEST_F(AgentServerTest, AnswersAsTheInProcessTarget) {
  AgentClient agent(address(), AgentClient::Options{milliseconds(2000), kHarnessAddr});
  target::InprocTarget inproc;
  agent.reset();
  std::vector<SockCall> calls;
  calls.push_back(call(Op::kSocket));
  calls.push_back(call(Op::kSocket));
  SockCall bind = call(Op::kBind, 3);
  bind.port = 8080;
  calls.push_back(bind);
  SockCall bind_other = call(Op::kBind, 3);
  bind_other.addr = 0x0a000001;  // not ours
  bind_other.port = 80;
  calls.push_back(bind_other);
  SockCall opt = call(Op::kSetsockopt, 3);
  opt.option = "TCP_NODELAY";
  opt.value = 1;
  calls.push_back(opt);
  SockCall unknown = opt;
  unknown.option = "SO_BINDTODEVICE";
  calls.push_back(unknown);
  SockCall linger = call(Op::kSetsockopt, 4);
  linger.option = "SO_LINGER";
  linger.linger_on = true;
  calls.push_back(linger);
  SockCall get = call(Op::kGetsockopt, 3);
  get.option = "SO_RCVBUF";
  calls.push_back(get);
  SockCall nb = call(Op::kSetNonblocking, 4);
  nb.nonblocking = true;
  calls.push_back(nb);
  calls.push_back(call(Op::kGetNonblocking, 4));
  SockCall connect = call(Op::kConnect, 4);
  connect.port = 40000;
  calls.push_back(connect);
  SockCall poll = call(Op::kPoll, 4);
  poll.poll_events = 0x004;
  calls.push_back(poll);
  calls.push_back(call(Op::kIoctlInq, 4));
  calls.push_back(call(Op::kIoctlOutq, 4));
  SockCall write = call(Op::kWrite, 4);
  write.data = {1, 2, 3};
  write.length = 3;
  calls.push_back(write);
  SockCall shut = call(Op::kShutdown, 4);
  shut.how = 1;
  calls.push_back(shut);
  SockCall listen = call(Op::kListen, 3);
  listen.backlog = 5;
  calls.push_back(listen);
  calls.push_back(call(Op::kAccept, 3));
  SockCall read = call(Op::kRead, 3);
  read.length = 10;
  calls.push_back(read);
  calls.push_back(call(Op::kClose, 4));
  calls.push_back(call(Op::kClose, 4));
  calls.push_back(call(Op::kClose, -1));
  for (const SockCall& c : calls) {
    const SockResult want = inproc.call(c);
    const SockResult got = agent.call(c);
    const std::string what = *encode_request(Request::of(c));
    EXPECT_EQ(got.ret, want.ret) << what;
    EXPECT_EQ(got.err, want.err) << what;
    EXPECT_EQ(got.value, want.value) << what;
    EXPECT_EQ(got.data, want.data) << what;
    EXPECT_EQ(agent.poll(c.fd), inproc.poll(c.fd)) << what;
    EXPECT_EQ(agent.tcp_info(c.fd), inproc.tcp_info(c.fd)) << what;
  }
}

TEST_F(AgentServerTest, OptionsApplyBetweenResetAndTheFirstSocket) {
  AgentClient agent(address(), AgentClient::Options{milliseconds(2000), kHarnessAddr});
  agent.reset();
  EXPECT_EQ(agent.set_option("tcp_synack_retries", "2"), target::OptionStatus::kApplied);
  EXPECT_EQ(io_.run([&] { return stack_->config().synack_retries; }), 2);
  EXPECT_EQ(agent.set_option("tcp_synack_retries", "999"), target::OptionStatus::kBadValue);
  EXPECT_EQ(agent.set_option("tcp_no_such_knob", "1"), target::OptionStatus::kBadValue);
  EXPECT_EQ(agent.set_option("net_other", "1"), target::OptionStatus::kUnsupported);
  (void)agent.call(call(Op::kSocket));
  EXPECT_EQ(agent.set_option("tcp_sack", "0"), target::OptionStatus::kUnsupported);  // EBUSY
  agent.reset();  // and the knobs go back
  EXPECT_EQ(io_.run([&] { return stack_->config().synack_retries; }),
            served_config().synack_retries);
}

// Reads one answer line from a raw connection.
std::string read_line(asio::local::stream_protocol::socket& s, std::string& buffer) {
  const std::size_t n = asio::read_until(s, asio::dynamic_buffer(buffer), '\n');
  std::string line = buffer.substr(0, n - 1);
  buffer.erase(0, n);
  return line;
}

TEST_F(AgentServerTest, GarbageGetsErrorsAndTheServerKeepsServing) {
  asio::io_context io;
  asio::local::stream_protocol::socket raw(io);
  raw.connect(asio::local::stream_protocol::endpoint(dir_.file("agent.sock")));
  std::string buffer;
  const std::vector<std::string> garbage = {"frobnicate 3\n",
                                            std::string("\0\xff\x01", 3) + "\n",
                                            "bind 3\n",
                                            "ok 1\n",
                                            "\n",
                                            "GET / HTTP/1.1\r\n",
                                            "read 3 999999999999999999999999\n",
                                            "write 3 0\n",
                                            "poll 3 POLLIN|\n"};
  for (const std::string& g : garbage) {
    asio::write(raw, asio::buffer(g));
    EXPECT_THAT(read_line(raw, buffer), ::testing::StartsWith("error ")) << g;
  }
  // Several requests in one write are answered in order.
  asio::write(raw, asio::buffer(std::string("hello 1\nhello 7\nsocket\n")));
  EXPECT_EQ(read_line(raw, buffer), "ok 0 version=1 stack=synack");
  EXPECT_EQ(read_line(raw, buffer),
            "error unsupported protocol version 7; this agent speaks version 1");
  EXPECT_EQ(read_line(raw, buffer), "ok 3");

  // A line with no end: an error, then the connection is closed.
  const std::string endless(kMaxLine + 10, 'a');
  boost::system::error_code ec;
  asio::write(raw, asio::buffer(endless), ec);
  EXPECT_THAT(read_line(raw, buffer), HasSubstr("error request longer than 1048576 bytes"));
  asio::read_until(raw, asio::dynamic_buffer(buffer), '\n', ec);
  // Closed: EOF, or a reset since the unread rest of the line was still queued at the server.
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();

  // A client that leaves mid-line.
  asio::local::stream_protocol::socket quitter(io);
  quitter.connect(asio::local::stream_protocol::endpoint(dir_.file("agent.sock")));
  asio::write(quitter, asio::buffer(std::string("bind 3 0.0")));
  quitter.close();

  // And the server still serves.
  AgentClient agent(address());
  EXPECT_EQ(agent.exchange("frobnicate"),
            "error column 1: unknown request 'frobnicate' (known: hello, reset, option, socket, "
            "bind, listen, accept, connect, read, write, shutdown, close, setsockopt, "
            "getsockopt, fcntl, ioctl, poll, tcp_info, sockname)");
  EXPECT_EQ(agent.exchange("close 99"), "fail EBADF");
  EXPECT_EQ(io_.run([&] { return server_->connections(); }), 1U);
}

TEST_F(AgentServerTest, ADeadAgentIsAClearErrorNotAHang) {
  AgentClient agent(address(), AgentClient::Options{milliseconds(2000), kHarnessAddr});
  io_.run([&] { server_.reset(); });  // the agent goes away
  try {
    (void)agent.call(call(Op::kSocket));
    FAIL() << "expected an AgentError";
  } catch (const AgentError& e) {
    EXPECT_EQ(std::string(e.what()),
              "agent " + address() + ": the agent closed the connection before answering 'socket'");
  }
  try {
    agent.reset();
    FAIL() << "expected an AgentError";
  } catch (const AgentError& e) {
    EXPECT_EQ(std::string(e.what()),
              "agent " + address() + ": the connection is unusable since the agent closed it");
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.file("agent.sock")));  // the server removed it
  try {
    AgentClient again(address());
    FAIL() << "expected an AgentError";
  } catch (const AgentError& e) {
    EXPECT_EQ(std::string(e.what()), "agent " + address() +
                                         ": cannot connect: No such file or directory (is the "
                                         "agent running?)");
  }
}

TEST_F(AgentServerTest, ServesOnLoopbackTcpToo) {
  auto tcp =
      io_.run([&] { return std::make_unique<StackServer>(io_.io(), *stack_, "127.0.0.1:0"); });
  EXPECT_THAT(tcp->address(), ::testing::StartsWith("127.0.0.1:"));
  EXPECT_NE(tcp->address(), "127.0.0.1:0");
  AgentClient agent(tcp->address());
  EXPECT_EQ(agent.stack_name(), "synack");
  EXPECT_GE(agent.call(call(Op::kSocket)).ret, 0);
  io_.run([&] { tcp.reset(); });
}

// An agent that accepts the connection and never answers.
TEST(AgentClientTest, ASilentAgentTimesOut) {
  TempDir dir;
  const std::string path = dir.file("silent.sock");
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  path.copy(sun.sun_path, sizeof sun.sun_path - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<const sockaddr*>(&sun), sizeof sun), 0);
  ASSERT_EQ(listen(fd, 1), 0);  // the kernel completes the connection; nobody ever reads

  const auto start = std::chrono::steady_clock::now();
  try {
    AgentClient agent("unix:" + path, AgentClient::Options{milliseconds(200), 0});
    FAIL() << "expected an AgentError";
  } catch (const AgentError& e) {
    EXPECT_EQ(std::string(e.what()),
              "agent unix:" + path + ": no answer to 'hello 1' within 200 ms");
  }
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, milliseconds(200));
  EXPECT_LT(took, milliseconds(2000));
  close(fd);
}

// Agents that answer hello wrongly: another version, an error, nonsense.
TEST(AgentClientTest, RefusesAnAgentOfAnotherVersion) {
  TempDir dir;
  IoThread io;
  std::string answer;
  auto server = io.run([&] {
    return std::make_unique<LineServer>(io.io(), "unix:" + dir.file("v2.sock"),
                                        [&answer](std::string_view) { return answer; });
  });
  auto refusal = [&](std::string a) -> std::string {
    answer = std::move(a);
    try {
      AgentClient agent(server->address());
      return "(accepted)";
    } catch (const AgentError& e) {
      return e.what();
    }
  };
  const std::string who = "agent unix:" + dir.file("v2.sock") + ": ";
  EXPECT_EQ(refusal("ok 0 version=2 stack=future"),
            who + "the agent speaks protocol version 2; synack speaks version 1");
  EXPECT_EQ(refusal("error unsupported protocol version 1"),
            who + "hello failed: hello: agent error: unsupported protocol version 1");
  EXPECT_EQ(refusal("ok 0"), who + "hello failed: hello: the ok answer lacks version=");
  EXPECT_EQ(refusal("HTTP/1.1 400 Bad Request"),
            who +
                "bad answer 'HTTP/1.1 400 Bad Request' to 'hello 1': column 1: a response "
                "starts with ok, fail or error, not 'HTTP/1.1'");
  EXPECT_EQ(refusal("ok 0 version=1\nok 0"),
            who + "the agent answered 'hello 1' with more than one line");
  EXPECT_EQ(refusal("ok 0 version=1"), "(accepted)");
  io.run([&] { server.reset(); });
}

TEST(AgentAddressTest, OnlyLocalAddresses) {
  auto error = [](std::string_view a) {
    const auto r = parse_agent_address(a);
    return r.ok() ? "(ok " + r->to_string() + ")" : r.error().message;
  };
  EXPECT_EQ(error("unix:/run/a.sock"), "(ok unix:/run/a.sock)");
  EXPECT_EQ(error("127.0.0.1:7001"), "(ok 127.0.0.1:7001)");
  EXPECT_EQ(error("localhost:7001"), "(ok 127.0.0.1:7001)");
  EXPECT_EQ(error("unix:"), "agent address 'unix:': unix: needs a path (unix:/run/agent.sock)");
  EXPECT_THAT(error("unix:/" + std::string(200, 'a')), HasSubstr("holds at most 107"));
  EXPECT_THAT(error("192.0.2.1:7001"),
              HasSubstr("192.0.2.1 is neither a loopback address nor an address of this network "
                        "namespace"));
  EXPECT_THAT(error("[::1]:7001"), HasSubstr("IPv6 is not supported"));
  EXPECT_THAT(error("127.0.0.1:99999"), HasSubstr("port '99999' is not a number"));
  EXPECT_THAT(error("example.com:80"), HasSubstr("host 'example.com' is not a dotted-quad"));
  EXPECT_THAT(error("agent"), HasSubstr("expected unix:PATH or HOST:PORT"));
}

TEST(LineServerTest, RefusesToReplaceALiveAgentOrAFile) {
  TempDir dir;
  IoThread io;
  const std::string address = "unix:" + dir.file("a.sock");
  auto handler = [](std::string_view) { return std::string("ok 0 version=1"); };
  auto first = io.run([&] { return std::make_unique<LineServer>(io.io(), address, handler); });
  EXPECT_THROW(
      {
        try {
          io.run([&] { return std::make_unique<LineServer>(io.io(), address, handler); });
        } catch (const AgentError& e) {
          EXPECT_THAT(e.what(), HasSubstr("another agent is listening on"));
          throw;
        }
      },
      AgentError);
  io.run([&] { first.reset(); });
  // A stale socket (a server that died without cleaning up) is replaced.
  {
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    dir.file("a.sock").copy(sun.sun_path, sizeof sun.sun_path - 1);
    ASSERT_EQ(bind(fd, reinterpret_cast<const sockaddr*>(&sun), sizeof sun), 0);
    close(fd);
  }
  auto second = io.run([&] { return std::make_unique<LineServer>(io.io(), address, handler); });
  EXPECT_NO_THROW(AgentClient{address});
  io.run([&] { second.reset(); });
  // A regular file is left alone.
  std::ofstream(dir.file("a.sock")) << "not a socket";
  EXPECT_THROW(io.run([&] { return std::make_unique<LineServer>(io.io(), address, handler); }),
               AgentError);
  EXPECT_TRUE(std::filesystem::is_regular_file(dir.file("a.sock")));
}

}  // namespace
}  // namespace synack::agent
