#include "stack/tcp/state.h"

namespace synack::stack {

const char* state_name(State s) {
  switch (s) {
    case State::kClosed:
      return "CLOSED";
    case State::kListen:
      return "LISTEN";
    case State::kSynSent:
      return "SYN-SENT";
    case State::kSynReceived:
      return "SYN-RECEIVED";
    case State::kEstablished:
      return "ESTABLISHED";
    case State::kFinWait1:
      return "FIN-WAIT-1";
    case State::kFinWait2:
      return "FIN-WAIT-2";
    case State::kCloseWait:
      return "CLOSE-WAIT";
    case State::kClosing:
      return "CLOSING";
    case State::kLastAck:
      return "LAST-ACK";
    case State::kTimeWait:
      return "TIME-WAIT";
  }
  return "?";
}

bool is_legal_transition(State from, State to) {
  // Any state may end in CLOSED: a reset, an abort, a retransmission or TIME-WAIT timeout.
  if (to == State::kClosed) return from != State::kClosed;
  switch (from) {
    case State::kClosed:  // passive OPEN, active OPEN
      return in_state(to, State::kListen | State::kSynSent);
    case State::kListen:  // rcv SYN; SEND (not offered by the socket API, but an edge)
      return in_state(to, State::kSynReceived | State::kSynSent);
    case State::kSynSent:  // rcv SYN (simultaneous open); rcv SYN,ACK
      return in_state(to, State::kSynReceived | State::kEstablished);
    case State::kSynReceived:  // rcv ACK of SYN; CLOSE; RST of a passive open; rcv FIN
      return in_state(to,
                      State::kEstablished | State::kFinWait1 | State::kListen | State::kCloseWait);
    case State::kEstablished:  // CLOSE; rcv FIN
      return in_state(to, State::kFinWait1 | State::kCloseWait);
    case State::kFinWait1:  // rcv ACK of FIN; rcv FIN; rcv FIN + ACK of FIN
      return in_state(to, State::kFinWait2 | State::kClosing | State::kTimeWait);
    case State::kFinWait2:  // rcv FIN
      return to == State::kTimeWait;
    case State::kCloseWait:  // CLOSE
      return to == State::kLastAck;
    case State::kClosing:  // rcv ACK of FIN
      return to == State::kTimeWait;
    case State::kLastAck:
    case State::kTimeWait:
      return false;
  }
  return false;
}

}  // namespace synack::stack
