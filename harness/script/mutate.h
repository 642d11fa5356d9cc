// Mutants of a script, for `synack run --self-check`: a suite that cannot fail is worthless, so
// every expectation a case makes must be one that a wrong target would break. Each mutant
// changes exactly one expectation: one field of one outbound segment line, one syscall's expected
// result, or one comparison of an assertion. Run against the same target, every mutant of a
// passing case must fail; one that passes names an expectation the runner does not really check.
#pragma once

#include <string>
#include <vector>

#include "harness/script/model.h"

namespace synack::script {

struct Mutant {
  Script script;
  // "file:line:col: ack 1 -> 2" and the like, for the report.
  std::string description;
};

// Every single-expectation mutant of `s`, in line order. Inbound lines, options and comments are
// not expectations and are never changed; "> none" lines and "= ..." results are left alone
// (there is nothing to alter), and so is the seq of the lines in `isn_lines` (CaseResult's: the
// SYNs that define the target's ISN, whose relative seq is 0 by definition).
std::vector<Mutant> mutants(const Script& s, const std::vector<int>& isn_lines = {});

}  // namespace synack::script
