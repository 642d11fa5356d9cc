#include "stack/planted.h"

#ifdef SYNACK_PLANTED_BUGS
#include <cstdlib>

namespace synack::stack::planted {

Bug active() {
  static const Bug bug = [] {
    const char* name = std::getenv("SYNACK_PLANT");
    return name == nullptr ? Bug::kNone : bug_named(name);
  }();
  return bug;
}

}  // namespace synack::stack::planted
#endif
