// Targets by name, and one case run the way `synack run` runs it. Shared by the CLI
// (harness/cli/run.cc) and the Python module (python/synack_module.cc), so that a .pkt case
// driven from Python gets exactly the targets, oracle and error handling of `synack run`.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "harness/link/tap.h"
#include "harness/script/model.h"
#include "harness/script/runner.h"
#include "harness/target/tap.h"
#include "harness/target/target.h"
#include "harness/wire/result.h"

namespace synack::script {

// A --target value: "inproc", "linux" or "tap:IFNAME[,agent=ADDR][,mac=MAC]".
struct TargetSpec {
  enum class Kind { kInproc, kLinux, kTap };
  Kind kind = Kind::kInproc;
  target::TapSpec tap;  // kTap only

  // "inproc", "linux" or "tap": the name known/<name>.txt lists are kept under.
  std::string kind_name() const;
};

// Parses a --target value; the error says what is wrong and lists the targets there are.
wire::Result<TargetSpec, std::string> parse_target_spec(std::string_view text);

// Why `spec` cannot run on this machine (not root, no /dev/net/tun, ...), or "" when it can.
std::string target_unavailable(const TargetSpec& spec);

// A fresh target for one case. inproc: a new stack seeded with `seed`. linux: a new namespace.
// tap: attached to `link` when given (one per lane for a whole run, see TapTarget::create),
// else to a link of its own. The error names the target and the step that failed.
wire::Result<std::unique_ptr<target::Target>, std::string> make_target(
    const TargetSpec& spec, link::TapLink* link = nullptr, std::uint64_t seed = 1);

struct CaseRun {
  CaseResult result;
  bool target_error = false;  // the target could not be set up, or its agent failed
};

// Runs `script` on a fresh target made from `spec`, with the black-box oracle watching every
// segment (on real-time targets retransmission intervals get the timing tolerance too). A
// target that cannot be made, or an agent that fails mid-case, is a kError verdict with why;
// a failure on a target whose link reported an error says so.
CaseRun run_case(const Script& script, const TargetSpec& spec, const RunOptions& options,
                 link::TapLink* link = nullptr);

}  // namespace synack::script
