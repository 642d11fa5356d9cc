// Runs a session trace (trace.h) against a fresh built-in stack, checking after every segment in
// and out and every call: the stack's white-box invariants (its invariant handler) and the
// harness's black-box oracle (harness/oracle), fed every segment both ways and the
// application's writes and reads. The first violation ends the run and is its finding.
//
// The stack is built the way the inproc target builds it (seed 1, 192.168.0.1 and .3, the
// trace's knobs applied through the same apply_stack_option), the harness side builds packets
// the way the script runner does (harness_isn 0, pattern payload bytes, TS ecr echoing the
// stack's last TSval on the flow, the runner's ISN and port learning), and every socket is
// non-blocking: so the SessionLog a run records renders into a .pkt script that the runner
// replays to the same segments (fuzz/replay/render.h).
#pragma once

#include <cstdint>
#include <string>

#include "fuzz/replay/log.h"
#include "fuzz/session/trace.h"

namespace synack::fuzz::session {

struct RunStats {
  std::size_t segments_in = 0;
  std::size_t segments_out = 0;
  std::size_t calls = 0;
  std::int64_t end_time_us = 0;
};

// The finding ("invariant <name>: <snapshot>" or "oracle <violation>"), or "" for a clean run.
// With `log`, records the session (and the knobs and finding) for synack replay.
std::string run(const Trace& trace, SessionLog* log = nullptr, RunStats* stats = nullptr);

// The script knob lines ("--tcp_sack=0") for a trace's config, in a fixed order.
std::vector<std::string> knob_lines(const Config& c);

}  // namespace synack::fuzz::session
