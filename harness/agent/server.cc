#include "harness/agent/server.h"

#include <cstring>
#include <exception>
#include <netinet/in.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/write.hpp>

namespace synack::agent {
namespace {

namespace asio = boost::asio;
using Socket = asio::generic::stream_protocol::socket;
using Acceptor = asio::basic_socket_acceptor<asio::generic::stream_protocol>;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Socket socket, std::shared_ptr<const LineServer::Handler> handler)
      : socket_(std::move(socket)), handler_(std::move(handler)) {}

  void start() { read(); }
  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  void read() {
    asio::async_read_until(socket_, asio::dynamic_buffer(in_, kMaxLine), '\n',
                           [self = shared_from_this()](const boost::system::error_code& ec,
                                                       std::size_t n) { self->on_line(ec, n); });
  }

  void on_line(const boost::system::error_code& ec, std::size_t n) {
    if (ec == asio::error::not_found) {
      // No LF within kMaxLine bytes: answer, then close, since the next request's start is lost.
      write("error request longer than " + std::to_string(kMaxLine) +
                " bytes; closing the connection",
            false);
      return;
    }
    if (ec) {
      close();  // the client went away, possibly mid-line: drop what it sent
      return;
    }
    const std::string_view line(in_.data(), n - 1);
    std::string answer;
    try {
      answer = (*handler_)(line);
    } catch (const std::exception& e) {
      answer = format_reply(Reply::error(std::string("internal: ") + e.what()));
    }
    in_.erase(0, n);
    write(std::move(answer), true);
  }

  void write(std::string answer, bool then_read) {
    out_ = std::move(answer);
    out_ += '\n';
    asio::async_write(
        socket_, asio::buffer(out_),
        [self = shared_from_this(), then_read](const boost::system::error_code& ec, std::size_t) {
          if (ec || !then_read) {
            self->close();
          } else {
            self->read();
          }
        });
  }

  Socket socket_;
  std::shared_ptr<const LineServer::Handler> handler_;
  std::string in_;
  std::string out_;
};

[[noreturn]] void fail(const std::string& address, const std::string& what) {
  throw AgentError("agent address " + address + ": " + what);
}

// A socket file at `path`: replaced when nobody listens on it (a server that died), else an
// error.
void clear_stale_socket(asio::io_context& io, const std::string& path, const std::string& shown) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return;  // nothing there
  if (!S_ISSOCK(st.st_mode)) fail(shown, path + " exists and is not a socket; not replacing it");
  asio::local::stream_protocol::socket probe(io);
  boost::system::error_code ec;
  probe.connect(asio::local::stream_protocol::endpoint(path), ec);
  if (!ec) fail(shown, "another agent is listening on " + path);
  if (unlink(path.c_str()) != 0) {
    fail(shown, "cannot remove the stale socket " + path + ": " +
                    std::error_code(errno, std::generic_category()).message());
  }
}

}  // namespace

struct LineServer::State {
  explicit State(asio::io_context& io) : acceptor(io) {}
  Acceptor acceptor;
  std::shared_ptr<const Handler> handler;
  AgentAddress where;
  std::vector<std::weak_ptr<Session>> sessions;
};

LineServer::LineServer(asio::io_context& io, std::string_view address, Handler handler)
    : state_(std::make_shared<State>(io)) {
  const std::string shown(address);
  auto where = parse_agent_address(address);
  if (!where) throw AgentError(where.error().message);
  state_->where = *where;
  state_->handler = std::make_shared<const Handler>(std::move(handler));
  asio::generic::stream_protocol::endpoint ep;
  if (where->kind == AgentAddress::Kind::kUnix) {
    clear_stale_socket(io, where->path, shown);
    ep = asio::local::stream_protocol::endpoint(where->path);
  } else {
    ep = asio::ip::tcp::endpoint(asio::ip::address_v4(where->host), where->port);
  }
  Acceptor& a = state_->acceptor;
  boost::system::error_code ec;
  if (a.open(ep.protocol(), ec)) fail(shown, "cannot open a socket: " + ec.message());
  if (where->kind == AgentAddress::Kind::kTcp) {
    a.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (a.bind(ep, ec)) fail(shown, "cannot bind: " + ec.message());
  if (a.listen(asio::socket_base::max_listen_connections, ec)) {
    fail(shown, "cannot listen: " + ec.message());
  }
  if (where->kind == AgentAddress::Kind::kTcp) {
    const auto local = a.local_endpoint(ec);
    sockaddr_in in{};
    if (!ec && local.size() >= sizeof in) {
      std::memcpy(&in, local.data(), sizeof in);
      state_->where.port = ntohs(in.sin_port);
    }
  }
  accept(state_);
}

LineServer::~LineServer() {
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
  for (const auto& w : state_->sessions) {
    if (auto s = w.lock()) s->close();
  }
  if (state_->where.kind == AgentAddress::Kind::kUnix) unlink(state_->where.path.c_str());
}

std::string LineServer::address() const { return state_->where.to_string(); }

std::size_t LineServer::connections() const {
  std::size_t n = 0;
  for (const auto& w : state_->sessions) n += w.expired() ? 0U : 1U;
  return n;
}

void LineServer::accept(const std::shared_ptr<State>& state) {
  state->acceptor.async_accept([state](const boost::system::error_code& ec, Socket socket) {
    if (!state->acceptor.is_open() || ec == asio::error::operation_aborted) return;  // closed
    if (!ec) {
      auto session = std::make_shared<Session>(std::move(socket), state->handler);
      std::erase_if(state->sessions, [](const auto& w) { return w.expired(); });
      state->sessions.push_back(session);
      session->start();
    }
    // Accept errors (out of fds, a client that reset before accept) are transient: go on.
    accept(state);
  });
}

}  // namespace synack::agent
