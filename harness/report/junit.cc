#include "harness/report/junit.h"

#include <cstdio>

namespace synack::report {

std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 allows tab, newline and carriage return among the control characters.
        if (c >= 0x20 || ch == '\t' || ch == '\n' || ch == '\r') out += ch;
        break;
    }
  }
  return out;
}

std::string junit_xml(const std::string& suite, const std::vector<JunitCase>& cases) {
  int failures = 0;
  int errors = 0;
  int skipped = 0;
  double total = 0;
  for (const auto& c : cases) {
    failures += c.outcome == JunitCase::Outcome::kFailed ? 1 : 0;
    errors += c.outcome == JunitCase::Outcome::kError ? 1 : 0;
    skipped += c.outcome == JunitCase::Outcome::kSkipped ? 1 : 0;
    total += c.seconds;
  }
  auto secs = [](double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6f", s);
    return std::string(buf);
  };
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x += "<testsuites>\n  <testsuite name=\"" + xml_escape(suite) + "\" tests=\"" +
       std::to_string(cases.size()) + "\" failures=\"" + std::to_string(failures) + "\" errors=\"" +
       std::to_string(errors) + "\" skipped=\"" + std::to_string(skipped) + "\" time=\"" +
       secs(total) + "\">\n";
  for (const auto& c : cases) {
    x += "    <testcase name=\"" + xml_escape(c.name) + "\" classname=\"" +
         xml_escape(c.classname) + "\" time=\"" + secs(c.seconds) + "\"";
    if (c.outcome == JunitCase::Outcome::kPassed) {
      x += "/>\n";
      continue;
    }
    const std::string first = c.message.substr(0, c.message.find('\n'));
    const char* tag = c.outcome == JunitCase::Outcome::kFailed  ? "failure"
                      : c.outcome == JunitCase::Outcome::kError ? "error"
                                                                : "skipped";
    x += ">\n      <" + std::string(tag) + " message=\"" + xml_escape(first) + "\">" +
         xml_escape(c.message) + "</" + tag + ">\n    </testcase>\n";
  }
  x += "  </testsuite>\n</testsuites>\n";
  return x;
}

}  // namespace synack::report
