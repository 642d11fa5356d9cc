#include "harness/cli/known.h"

#include <fstream>

namespace synack::cli {

namespace fs = std::filesystem;

std::string case_key(const fs::path& p) {
  std::error_code ec;
  const fs::path c = fs::weakly_canonical(p, ec);
  return (ec ? p : c).string();
}

std::string load_known(const fs::path& file, const fs::path& root, KnownFailures& out) {
  std::ifstream in(file);
  if (!in) return file.string() + ": cannot read";
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    const auto start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos) continue;
    const auto end = line.find_first_of(" \t", start);
    const std::string rel = line.substr(start, end == std::string::npos ? end : end - start);
    std::string reason = end == std::string::npos ? "" : line.substr(end);
    reason.erase(0, reason.find_first_not_of(" \t"));
    while (!reason.empty() && (reason.back() == ' ' || reason.back() == '\r')) reason.pop_back();
    const std::string where = file.string() + ":" + std::to_string(n);
    if (reason.empty()) {
      std::string err = where;
      err.append(": '").append(rel).append("' needs a reason after the path");
      return err;
    }
    std::error_code ec;
    if (!fs::is_regular_file(root / rel, ec)) {
      std::string err = where;
      err.append(": no case '").append(rel).append("' under ").append(root.string());
      return err;
    }
    out[case_key(root / rel)] = KnownFailure{reason, where};
  }
  return {};
}

}  // namespace synack::cli
