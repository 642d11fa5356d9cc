// A conformance case as a session trace: the seed that starts fuzzing from every state the
// suite reaches (`synack corpus`). The harness's segments keep their sequence numbers as offsets
// from the harness's ISN and their acknowledgment numbers as offsets from the stack's (the
// anchors a script uses), time advances exactly to each line's time, and the socket calls map
// onto the trace's calls (fds by order of creation). What a trace cannot say is left out and
// counted: assertions, ICMP lines, IP attributes, SACK blocks, and calls like poll or getsockopt
// that only observe. Flows are numbered in order of first use: the script's default flow is 0,
// each [sport N] the next free one (up to kFlows).
#pragma once

#include <string>

#include "fuzz/session/trace.h"
#include "harness/script/model.h"

namespace synack::fuzz::session {

struct Conversion {
  Trace trace;
  std::size_t lines_used = 0;
  std::size_t lines_left_out = 0;  // lines a trace cannot state
};

Conversion trace_from_script(const script::Script& s);

}  // namespace synack::fuzz::session
