// The RFC 9293 state diagram (figure 5) as a table: every drawn edge is legal, nothing else is.
#include "stack/tcp/state.h"

#include <array>
#include <set>
#include <utility>

#include <gtest/gtest.h>

namespace synack::stack {
namespace {

constexpr std::array<State, 11> kAll = {State::kClosed,      State::kListen,      State::kSynSent,
                                        State::kSynReceived, State::kEstablished, State::kFinWait1,
                                        State::kFinWait2,    State::kCloseWait,   State::kClosing,
                                        State::kLastAck,     State::kTimeWait};

TEST(StateDiagram, AllowsExactlyTheDrawnEdgesPlusResetsToClosed) {
  using S = State;
  // Figure 5, plus SYN-RECEIVED -> CLOSE-WAIT on a FIN (3.10.7.4, eighth step).
  const std::set<std::pair<S, S>> drawn = {
      {S::kClosed, S::kListen},           {S::kClosed, S::kSynSent},
      {S::kListen, S::kSynReceived},      {S::kListen, S::kSynSent},
      {S::kSynSent, S::kSynReceived},     {S::kSynSent, S::kEstablished},
      {S::kSynReceived, S::kEstablished}, {S::kSynReceived, S::kFinWait1},
      {S::kSynReceived, S::kListen},      {S::kSynReceived, S::kCloseWait},
      {S::kEstablished, S::kFinWait1},    {S::kEstablished, S::kCloseWait},
      {S::kFinWait1, S::kFinWait2},       {S::kFinWait1, S::kClosing},
      {S::kFinWait1, S::kTimeWait},       {S::kFinWait2, S::kTimeWait},
      {S::kCloseWait, S::kLastAck},       {S::kClosing, S::kTimeWait},
  };
  for (State from : kAll) {
    for (State to : kAll) {
      const bool expected =
          drawn.count({from, to}) != 0 || (to == State::kClosed && from != State::kClosed);
      EXPECT_EQ(is_legal_transition(from, to), expected)
          << state_name(from) << " -> " << state_name(to);
    }
  }
}

TEST(StateDiagram, StateSetsReadAsFlags) {
  EXPECT_TRUE(in_state(State::kFinWait2, State::kFinWait1 | State::kFinWait2));
  EXPECT_FALSE(in_state(State::kListen, kSynchronized));
  EXPECT_TRUE(in_state(State::kTimeWait, kSynchronized));
  EXPECT_STREQ(state_name(State::kSynReceived), "SYN-RECEIVED");
}

}  // namespace
}  // namespace synack::stack
