// Where an agent listens: `unix:PATH` (a unix stream socket) or `HOST:PORT` (TCP).
//
// HOST must be a loopback address (127.0.0.0/8, or `localhost`) or an address of one of this
// network namespace's own interfaces (say the harness's end of a veth pair into the namespace
// that runs the stack under test). The protocol has no authentication and no encryption, and
// it makes socket calls on the agent's host: it must never cross a network. IPv6 addresses are
// not accepted.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "harness/agent/protocol.h"

namespace synack::agent {

// What the client and the server throw: a one-line message naming the agent address and what
// went wrong.
class AgentError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct AgentAddress {
  enum class Kind { kUnix, kTcp };
  Kind kind = Kind::kUnix;
  std::string path;        // kUnix
  std::uint32_t host = 0;  // kTcp, host byte order
  std::uint16_t port = 0;  // kTcp; 0 lets a server pick one (not for a client)

  std::string to_string() const;  // "unix:/run/agent.sock", "127.0.0.1:7001"
};

// Parses and checks an agent address; the Error says what is wrong with it.
Parsed<AgentAddress> parse_agent_address(std::string_view text);

}  // namespace synack::agent
