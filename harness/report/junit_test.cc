#include "harness/report/junit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace synack::report {
namespace {

using ::testing::HasSubstr;

TEST(Junit, CountsOutcomesAndEscapesMessages) {
  const std::string x = junit_xml(
      "synack",
      {{"a.pkt", "handshake", 0.5, JunitCase::Outcome::kPassed, ""},
       {"b.pkt", "rst", 0.25, JunitCase::Outcome::kFailed, "b.pkt:3:1: ack <1> & \"2\"\nmore"},
       {"c.pkt", "rst", 0, JunitCase::Outcome::kError, "c.pkt:1:1: bad"}});
  EXPECT_THAT(x,
              HasSubstr("tests=\"3\" failures=\"1\" errors=\"1\" skipped=\"0\" time=\"0.750000\""));
  EXPECT_THAT(x, HasSubstr("<testcase name=\"a.pkt\" classname=\"handshake\" time=\"0.500000\"/>"));
  EXPECT_THAT(x, HasSubstr("<failure message=\"b.pkt:3:1: ack &lt;1&gt; &amp; &quot;2&quot;\">"));
  EXPECT_THAT(x, HasSubstr("&quot;2&quot;\nmore</failure>"));
  EXPECT_THAT(x, HasSubstr("<error message=\"c.pkt:1:1: bad\">"));
}

TEST(Junit, DropsCharactersXmlCannotCarry) {
  EXPECT_EQ(xml_escape(std::string("a\x01"
                                   "b\tc",
                                   5)),
            "ab\tc");
}

}  // namespace
}  // namespace synack::report
