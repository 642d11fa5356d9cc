// AgentClient: synack's end of the agent control protocol (docs/agent-protocol.md). It makes
// the socket calls of a Target whose stack lives elsewhere (a `tap:IFNAME,agent=...` target):
// one request, one answer, each within a timeout.
//
// Every failure throws AgentError with a one-line message naming the agent and the request: no
// agent at the address, the wrong protocol version, an answer that does not parse, the agent
// closing the connection, or no answer within the timeout. A silent or dead agent never hangs
// the harness. After a timeout or an I/O error the connection is unusable (a late answer would
// be taken for the next one), and every later call throws saying why.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "harness/agent/address.h"
#include "harness/target/target.h"

namespace synack::agent {

class AgentClient {
 public:
  struct Options {
    // How long one request may take from sending it to its answer, and the connection.
    std::chrono::milliseconds timeout{3000};
    // Where a connect() with addr 0 goes (SockCall's "the harness's own address"); 0 makes such
    // a call an AgentError, since the agent cannot know the harness's address.
    std::uint32_t harness_addr = 0;
  };

  // Connects to `address` (unix:PATH or HOST:PORT, see address.h) and says hello, checking
  // that the agent speaks kProtocolVersion.
  explicit AgentClient(std::string_view address);
  AgentClient(std::string_view address, Options options);
  ~AgentClient();
  AgentClient(const AgentClient&) = delete;
  AgentClient& operator=(const AgentClient&) = delete;

  const std::string& address() const;
  // The agent's name for its stack (hello's stack=), "" if it gave none.
  const std::string& stack_name() const;

  // Closes every socket and forgets every connection the agent holds (between cases).
  void reset();
  // A stack knob for the next case, after reset() and before its first socket.
  target::OptionStatus set_option(const std::string& name, const std::string& value);
  // The Target interface's socket side. A call that would block answers EAGAIN/EINPROGRESS. A
  // write of more than kMaxData bytes sends the first kMaxData (a short write, as write(2)).
  target::SockResult call(const target::SockCall& c);
  unsigned poll(int fd);
  std::optional<target::TcpInfo> tcp_info(int fd);
  std::optional<target::ConnKey> connection(int fd);

  // One raw request line out, its answer line back (both without LF). For tests and debugging.
  std::string exchange(std::string_view request_line);

 private:
  struct Impl;
  Reply request(const Request& r);
  std::unique_ptr<Impl> impl_;
};

}  // namespace synack::agent
