// Runs a Script against a Target: injects inbound segments, matches every outbound one field by
// field, makes the socket calls (blocking ones block as they would on Linux), evaluates tcpi_
// assertions, and hands every segment to the observers (the oracle, reports).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "harness/script/model.h"
#include "harness/target/target.h"

namespace synack::script {

struct RunOptions {
  // Timing tolerance: max(tolerance_us, tolerance_percent of the gap since the previous event).
  std::int64_t tolerance_us = 4000;
  double tolerance_percent = 12.5;
  std::uint32_t harness_isn = 0;               // the harness's ISN: inbound seq 0 is this number
  std::uint16_t target_port = 8080;            // bind()/connect() defaults, as packetdrill
  std::uint16_t harness_port = 40000;          // the harness's port on passive opens
  std::int64_t wildcard_wait_us = 10'000'000;  // how long "*" waits
  // When non-zero, outbound TS val is checked, rebased on the target's first TS val: a script
  // value V means first + (V - first script value), one tick per this many microseconds of
  // allowed error beyond the timing tolerance (packetdrill's --tcp_ts_tick_usecs). 0: unchecked.
  std::int64_t ts_tick_us = 0;
  // Called with a line of text for every event when verbose (-v).
  std::function<void(const std::string&)> trace;
};

// A segment as it crossed the link, for pcaps and the oracle.
struct LinkEvent {
  bool to_target = false;
  std::int64_t time_us = 0;  // script time: 0 is the script's start
  target::Bytes packet;
};

// Watches a run: segments both ways and the application's bytes.
class Observer {
 public:
  virtual ~Observer() = default;
  virtual void on_segment(const LinkEvent& e) = 0;
  virtual void on_app_write(const target::ConnKey& k, const target::Bytes& data) = 0;
  virtual void on_app_read(const target::ConnKey& k, const target::Bytes& data) = 0;
  // A violation found so far, or "" (the runner stops the case at the first one).
  virtual std::string violation() = 0;
  virtual void finish(std::int64_t time_us) = 0;
};

struct CaseResult {
  enum class Verdict { kPass, kFail, kError };  // kError: the script itself is wrong
  Verdict verdict = Verdict::kPass;
  std::string message;  // why it failed: location, what, expected and actual
  std::vector<LinkEvent> link;
  std::int64_t duration_us = 0;  // script time covered
  // Outbound lines (line numbers) whose SYN taught the runner the target's ISN: their seq is the
  // origin of the relative sequence space, so it cannot be wrong (and is not a checked field).
  std::vector<int> isn_lines;
};

// How much script time a case covers, from its lines' times alone (ranges and blocking calls at
// their latest): what a real-time target needs at least, to skip the cases that take hours.
std::int64_t script_span_us(const Script& s);

CaseResult run_script(const Script& script, target::Target& target, RunOptions options,
                      Observer* observer = nullptr);

}  // namespace synack::script
