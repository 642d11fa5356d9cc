// Planted bugs: semantic bugs the stack can be built with on purpose, to prove that the session
// fuzzer's oracles have teeth (fuzz/planted_test.sh shows it finds each one from the committed
// corpus). Only a build with SYNACK_PLANTED_BUGS defined (CMake: the session_fuzzer_planted
// target of the fuzz preset) has them; there, the environment variable SYNACK_PLANT names the
// one that is on (read once). Every other build compiles each check to `false`.
#pragma once

#include <string_view>

namespace synack::stack::planted {

enum class Bug {
  kNone,
  // The receiver takes one byte beyond its window (RFC 9293 3.10.7.4 trims to the window):
  // the white-box "RCV.NXT <= advertised right edge" catches it.
  kWindowOffByOne,
  // An ACK of one more than SND.MAX is taken (RFC 5961 5.2 ignores it): "SND.UNA <= SND.NXT".
  kAckBeyondSndMax,
  // Any in-window RST resets (RFC 5961 3.2 wants a challenge ACK unless SEG.SEQ = RCV.NXT):
  // the black-box challenge-ack invariant catches what follows.
  kRstAnywhereInWindow,
  // A retransmission carries the bytes one position on from the ones it repeats: the
  // black-box retransmission-same-bytes invariant.
  kRetransmitShiftedBytes,
};

// "window-off-by-one", "ack-beyond-snd-max", "rst-anywhere-in-window",
// "retransmit-shifted-bytes"; kNone for anything else.
constexpr Bug bug_named(std::string_view name) {
  if (name == "window-off-by-one") return Bug::kWindowOffByOne;
  if (name == "ack-beyond-snd-max") return Bug::kAckBeyondSndMax;
  if (name == "rst-anywhere-in-window") return Bug::kRstAnywhereInWindow;
  if (name == "retransmit-shifted-bytes") return Bug::kRetransmitShiftedBytes;
  return Bug::kNone;
}

#ifdef SYNACK_PLANTED_BUGS
Bug active();  // from $SYNACK_PLANT
inline bool on(Bug b) { return active() == b; }
#else
constexpr bool on(Bug) { return false; }
#endif

}  // namespace synack::stack::planted
