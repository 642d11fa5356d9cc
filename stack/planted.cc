#include "stack/planted.h"

#ifdef SYNACK_PLANTED_BUGS
#include <cstdlib>

namespace synack::stack::planted {

Bug active() {
  // Read once, before any thread of a fuzz target could change the environment (they run none).
  static const Bug kBug = [] {
    const char* name = std::getenv("SYNACK_PLANT");  // NOLINT(concurrency-mt-unsafe)
    return name == nullptr ? Bug::kNone : bug_named(name);
  }();
  return kBug;
}

}  // namespace synack::stack::planted
#endif
