// JUnit XML, the report format CI systems read: one <testcase> per script, a <failure> with the
// message for each one that failed, <error> for a script that does not parse or run.
#pragma once

#include <string>
#include <vector>

namespace synack::report {

struct JunitCase {
  std::string name;       // the script's path
  std::string classname;  // its directory, so CI groups cases by area
  double seconds = 0;
  enum class Outcome { kPassed, kFailed, kError, kSkipped } outcome = Outcome::kPassed;
  std::string message;  // first line: the attribute; whole text: the element body
};

std::string junit_xml(const std::string& suite, const std::vector<JunitCase>& cases);
// Escapes &, <, >, " and ' and drops characters XML 1.0 cannot carry.
std::string xml_escape(const std::string& s);

}  // namespace synack::report
