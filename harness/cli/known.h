// Known-failure lists: conformance/known/<target>.txt names, per target, the cases expected to
// fail there and why. `synack run` reports such a failure as KNOWN, and `synack musts` shows it.
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace synack::cli {

struct KnownFailure {
  std::string reason;
  std::string where;  // file:line of the entry
};
// Keyed by case_key() of the case's path.
using KnownFailures = std::map<std::string, KnownFailure>;

// The canonical form of a case's path, so "conformance/x.pkt" and "./conformance/x.pkt" match.
std::string case_key(const std::filesystem::path& p);

// Reads one list: "<case path relative to root> <reason>" per line, '#' comments, blank lines.
// Returns an error naming file:line for an entry without a reason or naming no case; "" if good.
std::string load_known(const std::filesystem::path& file, const std::filesystem::path& root,
                       KnownFailures& out);

}  // namespace synack::cli
