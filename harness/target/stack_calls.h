// The built-in stack behind the Target socket interface: how a SockCall, a tcp_info or a
// connection query maps onto stack::Stack's public API, and how a script's --name=value knob
// maps onto its StackConfig. Shared by the in-process target (virtual time) and the agent's
// stack server (the same stack answering the agent protocol, real time), so both give the same
// answers to the same calls.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "harness/target/target.h"
#include "stack/stack.h"

namespace synack::target {

// Runs one socket call on `s`. A connect() to address 0 goes to `default_peer_addr` (the
// harness's address, which the script leaves implicit). Never blocks, like the stack.
SockResult stack_call(stack::Stack& s, const SockCall& c, std::uint32_t default_peer_addr);

// tcpi_* figures of the connection behind `fd`, Linux-style: a listener reports TCP_LISTEN, a
// socket without a connection TCP_CLOSE; nullopt for an fd that does not exist.
std::optional<TcpInfo> stack_tcp_info(const stack::Stack& s, int fd);

// The 4-tuple of the connection behind `fd`; nullopt when there is none.
std::optional<ConnKey> stack_connection(const stack::Stack& s, int fd);

// Applies a script knob (tcp_syncookies, tcp_synack_retries, ..., and synack's own tcp_msl,
// tcp_delack_ms, mss) to `config`: kBadValue for a known knob with a value out of range,
// kUnsupported for an unknown one.
OptionStatus apply_stack_option(stack::StackConfig& config, const std::string& name,
                                const std::string& value);

}  // namespace synack::target
