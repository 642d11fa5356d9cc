#include "harness/agent/client.h"

#include <algorithm>

#include <boost/asio/connect.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

namespace synack::agent {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// A request as it appears in messages: long writes are cut.
std::string shown(std::string_view line) {
  constexpr std::size_t kShown = 60;
  if (line.size() <= kShown) return "'" + std::string(line) + "'";
  return "'" + std::string(line.substr(0, kShown)) + "...' (" + std::to_string(line.size()) +
         " bytes)";
}

}  // namespace

struct AgentClient::Impl {
  std::string address;
  Options options;
  AgentAddress where;
  std::string stack;
  asio::io_context io;
  asio::generic::stream_protocol::socket socket{io};
  std::string buffer;  // bytes read past the last answer (none, from a well-behaved agent)
  std::string broken;  // why the connection is unusable, "" while it is fine

  [[noreturn]] void fail(const std::string& what) const {
    throw AgentError("agent " + address + ": " + what);
  }

  // Runs the io_context until `done` or the deadline; on the deadline closes the socket (which
  // cancels the operation) and returns false.
  bool run_until(const bool& done, Clock::time_point deadline) {
    io.restart();
    while (!done) {
      const auto left = deadline - Clock::now();
      if (left <= Clock::duration::zero() || io.run_one_for(left) == 0) break;
    }
    if (done) return true;
    boost::system::error_code ignored;
    socket.close(ignored);
    io.restart();
    io.run();  // lets the cancelled handlers finish
    return false;
  }

  void connect() {
    asio::generic::stream_protocol::endpoint ep =
        where.kind == AgentAddress::Kind::kUnix
            ? asio::generic::stream_protocol::endpoint(
                  asio::local::stream_protocol::endpoint(where.path))
            : asio::generic::stream_protocol::endpoint(
                  asio::ip::tcp::endpoint(asio::ip::address_v4(where.host), where.port));
    bool done = false;
    boost::system::error_code ec;
    socket.async_connect(ep, [&](const boost::system::error_code& e) {
      ec = e;
      done = true;
    });
    if (!run_until(done, Clock::now() + options.timeout)) {
      fail("no connection within " + std::to_string(options.timeout.count()) + " ms");
    }
    if (ec) fail("cannot connect: " + ec.message() + " (is the agent running?)");
  }

  std::string exchange(std::string_view request) {
    if (!broken.empty()) fail("the connection is unusable since " + broken);
    const Clock::time_point deadline = Clock::now() + options.timeout;
    std::string out(request);
    out += '\n';
    bool done = false;
    boost::system::error_code ec;
    std::size_t n = 0;
    asio::async_write(
        socket, asio::buffer(out), [&](const boost::system::error_code& e, std::size_t) {
          if (e) {
            ec = e;
            done = true;
            return;
          }
          asio::async_read_until(socket, asio::dynamic_buffer(buffer, kMaxLine), '\n',
                                 [&](const boost::system::error_code& e2, std::size_t got) {
                                   ec = e2;
                                   n = got;
                                   done = true;
                                 });
        });
    const std::string req = shown(request);
    if (!run_until(done, deadline)) {
      broken = "the answer to " + req + " did not come in time";
      fail("no answer to " + req + " within " + std::to_string(options.timeout.count()) + " ms");
    }
    if (ec) {
      boost::system::error_code ignored;
      socket.close(ignored);
      if (ec == asio::error::eof || ec == asio::error::broken_pipe ||
          ec == asio::error::connection_reset) {
        broken = "the agent closed it";
        fail("the agent closed the connection before answering " + req);
      }
      if (ec == asio::error::not_found) {
        broken = "an answer was too long";
        fail("the answer to " + req + " is longer than " + std::to_string(kMaxLine) + " bytes");
      }
      broken = "an I/O error (" + ec.message() + ")";
      fail("I/O error on " + req + ": " + ec.message());
    }
    std::string line = buffer.substr(0, n - 1);
    buffer.erase(0, n);
    if (!buffer.empty()) {
      broken = "the agent answered " + req + " with more than one line";
      fail(broken);
    }
    return line;
  }
};

AgentClient::AgentClient(std::string_view address) : AgentClient(address, Options{}) {}

AgentClient::AgentClient(std::string_view address, Options options)
    : impl_(std::make_unique<Impl>()) {
  impl_->address = address;
  impl_->options = options;
  auto where = parse_agent_address(address);
  if (!where) throw AgentError(where.error().message);
  if (where->kind == AgentAddress::Kind::kTcp && where->port == 0) {
    throw AgentError("agent address '" + std::string(address) + "': port 0 is not an address");
  }
  impl_->where = *where;
  impl_->connect();
  const Reply reply = request(Request::hello());
  const auto hello = hello_of(reply);
  if (!hello) impl_->fail("hello failed: " + hello.error().message);
  if (hello->version != kProtocolVersion) {
    impl_->fail("the agent speaks protocol version " + std::to_string(hello->version) +
                "; synack speaks version " + std::to_string(kProtocolVersion));
  }
  impl_->stack = hello->stack;
}

AgentClient::~AgentClient() = default;

const std::string& AgentClient::address() const { return impl_->address; }
const std::string& AgentClient::stack_name() const { return impl_->stack; }

std::string AgentClient::exchange(std::string_view request_line) {
  return impl_->exchange(request_line);
}

Reply AgentClient::request(const Request& r) {
  const auto line = encode_request(r);
  if (!line) impl_->fail("cannot send the request: " + line.error().message);
  const std::string answer = impl_->exchange(*line);
  auto reply = parse_reply(answer);
  if (!reply) {
    impl_->fail("bad answer " + shown(answer) + " to " + shown(*line) + ": " +
                reply.error().message);
  }
  return std::move(reply).value();
}

void AgentClient::reset() {
  const Reply r = request(Request::reset());
  if (r.status != Reply::Status::kOk) {
    impl_->fail("reset failed: " + format_reply(r));
  }
}

target::OptionStatus AgentClient::set_option(const std::string& name, const std::string& value) {
  const auto s = option_status_of(request(Request::option(name, value)));
  if (!s) impl_->fail(s.error().message);
  return *s;
}

target::SockResult AgentClient::call(const target::SockCall& c) {
  target::SockCall sent = c;
  if (c.op == target::SockCall::Op::kConnect && c.addr == 0) {
    if (impl_->options.harness_addr == 0) {
      impl_->fail("connect() to the harness's address, which this client was not given");
    }
    sent.addr = impl_->options.harness_addr;
  }
  if (c.op == target::SockCall::Op::kWrite && c.data.size() > kMaxData) {
    sent.data.resize(kMaxData);
    sent.length = kMaxData;
  }
  const auto r = result_of(sent, request(Request::of(sent)));
  if (!r) impl_->fail(r.error().message);
  return *r;
}

unsigned AgentClient::poll(int fd) {
  const auto r = poll_of(request(Request::poll(fd)));
  if (!r) impl_->fail(r.error().message);
  return *r;
}

std::optional<target::TcpInfo> AgentClient::tcp_info(int fd) {
  auto r = tcp_info_of(request(Request::tcp_info(fd)));
  if (!r) impl_->fail(r.error().message);
  return std::move(r).value();
}

std::optional<target::ConnKey> AgentClient::connection(int fd) {
  const auto r = sockname_of(request(Request::sockname(fd)));
  if (!r) impl_->fail(r.error().message);
  return *r;
}

}  // namespace synack::agent
