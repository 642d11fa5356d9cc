#include "harness/agent/stack_server.h"

#include <cerrno>

#include "harness/target/stack_calls.h"

namespace synack::agent {

StackAgent::StackAgent(stack::Stack& stack, Options options)
    : stack_(stack), options_(std::move(options)), base_(stack.config()), config_(base_) {}

std::string StackAgent::handle(std::string_view line) {
  const auto request = decode_request(line);
  if (!request) return format_reply(Reply::error(request.error().message));
  if (options_.before_request) options_.before_request();
  const Reply reply = execute(*request);
  if (options_.after_request) options_.after_request();
  return format_reply(reply);
}

Reply StackAgent::execute(const Request& r) {
  switch (r.kind) {
    case Request::Kind::kHello:
      if (r.version != kProtocolVersion) {
        return Reply::error("unsupported protocol version " + std::to_string(r.version) +
                            "; this agent speaks version " + std::to_string(kProtocolVersion));
      }
      return reply_of(Hello{kProtocolVersion, options_.stack_name});
    case Request::Kind::kReset:
      // A fresh stack: no sockets, no connections, nothing in TIME-WAIT, the knobs as they were.
      config_ = base_;
      stack_ = stack::Stack(config_, options_.seed);
      fresh_ = true;
      return Reply::ok(0);
    case Request::Kind::kOption: {
      if (!fresh_) return Reply::fail(EBUSY);  // knobs apply before the case's first socket
      const target::OptionStatus s = target::apply_stack_option(config_, r.name, r.value);
      if (s == target::OptionStatus::kApplied) stack_ = stack::Stack(config_, options_.seed);
      return reply_of(s);
    }
    case Request::Kind::kCall:
      fresh_ = false;
      // The request names the peer's address explicitly: there is no default to fill in.
      return reply_of(r.call, target::stack_call(stack_, r.call, 0));
    case Request::Kind::kPoll:
      return reply_of_poll(stack_.events(r.fd));
    case Request::Kind::kTcpInfo:
      return reply_of(target::stack_tcp_info(stack_, r.fd));
    case Request::Kind::kSockname:
      return reply_of(target::stack_connection(stack_, r.fd));
  }
  return Reply::error("unknown request kind");
}

StackServer::StackServer(boost::asio::io_context& io, stack::Stack& stack, std::string_view address,
                         StackAgent::Options options)
    : agent_(stack, std::move(options)),
      server_(io, address, [this](std::string_view line) { return agent_.handle(line); }) {}

}  // namespace synack::agent
