// The known-findings lists the fuzz targets read from the environment (SYNACK_SESSION_KNOWN,
// SYNACK_PAIR_KNOWN): findings reported and not fixed yet, '|'-separated, so that short runs
// look past them and still catch everything else.
#pragma once

#include <cstdlib>
#include <string>
#include <vector>

namespace synack::fuzz {

// The entries of the '|'-separated list in the environment variable `name` (empty ones dropped).
inline std::vector<std::string> known_findings_from_env(const char* name) {
  std::vector<std::string> out;
  const char* env = std::getenv(name);  // NOLINT(concurrency-mt-unsafe)
  std::string rest = env != nullptr ? env : "";
  while (!rest.empty()) {
    const std::size_t bar = rest.find('|');
    if (bar != 0) out.push_back(rest.substr(0, bar));
    if (bar == std::string::npos) break;
    rest.erase(0, bar + 1);
  }
  return out;
}

}  // namespace synack::fuzz
