// The eleven TCP states (RFC 9293 3.3.2) and the edges of its state diagram (figure 5).
#pragma once

#include <cstdint>

namespace synack::stack {

// Bit flags, so that a set of states reads as in_state(s, kFinWait1 | kFinWait2).
enum class State : std::uint16_t {
  kClosed = 1U << 0,
  kListen = 1U << 1,
  kSynSent = 1U << 2,
  kSynReceived = 1U << 3,
  kEstablished = 1U << 4,
  kFinWait1 = 1U << 5,
  kFinWait2 = 1U << 6,
  kCloseWait = 1U << 7,
  kClosing = 1U << 8,
  kLastAck = 1U << 9,
  kTimeWait = 1U << 10,
};

using StateSet = std::uint16_t;
constexpr StateSet operator|(State a, State b) {
  return static_cast<StateSet>(static_cast<StateSet>(a) | static_cast<StateSet>(b));
}
constexpr StateSet operator|(StateSet a, State b) {
  return static_cast<StateSet>(a | static_cast<StateSet>(b));
}
constexpr bool in_state(State s, StateSet set) { return (static_cast<StateSet>(s) & set) != 0; }
constexpr bool in_state(State s, State one) { return s == one; }

// RFC 9293 3.3.2: the states in which both sides' ISNs are known.
inline constexpr StateSet kSynchronized = State::kEstablished | State::kFinWait1 |
                                          State::kFinWait2 | State::kCloseWait | State::kClosing |
                                          State::kLastAck | State::kTimeWait;

// "SYN-RECEIVED", as RFC 9293 spells it; "TCP_SYN_RECV"-style names are the harness's concern.
const char* state_name(State s);

// Whether `from` -> `to` is an edge of RFC 9293's state diagram (figure 5), including the
// transitions to CLOSED that a reset, an abort or a timeout cause in any state, and
// SYN-RECEIVED -> CLOSE-WAIT on a FIN (3.10.7.4, eighth step).
bool is_legal_transition(State from, State to);

}  // namespace synack::stack
