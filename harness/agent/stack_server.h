// The built-in stack answering the agent protocol: what `synack serve` runs on a tap device, so
// that the tap path (harness, tap link, agent protocol) is tested end to end against a stack
// whose in-process verdicts are known.
//
// StackAgent executes decoded requests on a stack::Stack with the same mapping the in-process
// target uses (harness/target/stack_calls.h), so a call answers the same either way.
// StackServer puts it behind a LineServer on the caller's io_context; the caller's loop owns
// the rest (the tap fd, the stack's timers), and the hooks let it advance the stack's clock
// before a request and send what the stack output after one.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "harness/agent/protocol.h"
#include "harness/agent/server.h"
#include "stack/stack.h"

namespace synack::agent {

class StackAgent {
 public:
  struct Options {
    std::string stack_name = "synack";     // hello's stack=
    std::uint64_t seed = 1;                // for the fresh stack reset makes
    std::function<void()> before_request;  // e.g. stack.advance(now)
    std::function<void()> after_request;   // e.g. write stack.take_output() to the tap
  };

  // `stack` must outlive the agent. Its config at this point is what reset returns to.
  StackAgent(stack::Stack& stack, Options options);

  // One request line in, one answer line out (both without LF). Never throws for bad input.
  std::string handle(std::string_view line);
  Reply execute(const Request& r);

 private:
  stack::Stack& stack_;
  Options options_;
  stack::StackConfig base_;    // what reset returns to
  stack::StackConfig config_;  // base_ plus this case's option requests
  bool fresh_ = true;          // no socket call since the last reset: options still apply
};

class StackServer {
 public:
  // Serves `stack` at `address` (unix:PATH or a loopback HOST:PORT) on `io`; throws AgentError.
  StackServer(boost::asio::io_context& io, stack::Stack& stack, std::string_view address,
              StackAgent::Options options = {});

  std::string address() const { return server_.address(); }
  std::size_t connections() const { return server_.connections(); }

 private:
  StackAgent agent_;
  LineServer server_;
};

}  // namespace synack::agent
