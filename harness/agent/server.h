// LineServer: the agent end of the protocol's transport, on a Boost.Asio io_context that the
// caller runs (and that may own other things too: a tap fd, a stack's timers). It accepts
// connections on unix:PATH or a loopback HOST:PORT, reads one request line at a time from each,
// hands it to a handler and writes the handler's answer back, then reads the next. Requests are
// served one at a time: the handler never runs twice at once.
//
// Robust to its clients: a connection that closes mid-line is dropped with its partial line; a
// line longer than kMaxLine is answered with an error and the connection closed (there is no
// telling where the next request would start); anything else is the handler's to answer, and a
// handler that throws answers `error internal: ...` instead. Nothing a client sends stops the
// server.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>

#include "harness/agent/address.h"

namespace synack::agent {

class LineServer {
 public:
  // One request line (without its LF) in, one answer line (without its LF) out.
  using Handler = std::function<std::string(std::string_view line)>;

  // Starts listening at `address` (unix:PATH or HOST:PORT; port 0 picks a free port). A stale
  // socket file left at PATH by a dead server is replaced; a live one, or a file that is not a
  // socket, is an AgentError.
  LineServer(boost::asio::io_context& io, std::string_view address, Handler handler);
  // Stops listening, closes every connection, removes the socket file. Call it on the
  // io_context's thread, or while the io_context is not running.
  ~LineServer();
  LineServer(const LineServer&) = delete;
  LineServer& operator=(const LineServer&) = delete;

  // The address clients connect to: unix:PATH, or HOST:PORT with the port actually bound.
  std::string address() const;
  // Connections being served now.
  std::size_t connections() const;

 private:
  struct State;
  static void accept(const std::shared_ptr<State>& state);
  std::shared_ptr<State> state_;
};

}  // namespace synack::agent
