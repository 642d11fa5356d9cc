// script_fuzzer: the .pkt parser takes any bytes and gives either a Script or a ScriptError
// whose file:line:column lies inside the text; it never crashes, hangs or allocates without
// bound (libFuzzer's -timeout and -rss_limit_mb catch the last two).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "harness/script/parser.h"

namespace {

using synack::script::Location;
using synack::script::ParseResult;
using synack::script::Script;
using synack::script::ScriptError;

constexpr const char* kPath = "fuzz.pkt";

[[noreturn]] void fail(const std::string& what, std::string_view text) {
  std::fprintf(stderr, "script_fuzzer: %s\ninput (%zu bytes):\n%.*s\n", what.c_str(), text.size(),
               static_cast<int>(std::min<std::size_t>(text.size(), 2000)), text.data());
  std::abort();
}

// A location names this script, a line from 1 to one past the last (an error at end of input),
// and a column from 1 to one past the longest line. A multi-line %{ }% block is parsed as one
// logical line, so its columns are bounded by the whole text rather than by its first line.
void check_location(const Location& at, std::string_view text, const std::string& context) {
  const auto lines = static_cast<long>(std::count(text.begin(), text.end(), '\n')) + 1;
  if (at.file != kPath) fail(context + ": location names '" + at.file + "'", text);
  if (at.line < 1 || at.line > lines + 1) {
    fail(context + ": line " + std::to_string(at.line) + " outside 1.." + std::to_string(lines + 1),
         text);
  }
  if (at.column < 1 || static_cast<std::size_t>(at.column) > text.size() + 1) {
    fail(context + ": column " + std::to_string(at.column) + " outside 1.." +
             std::to_string(text.size() + 1),
         text);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const ParseResult result = synack::script::parse_script(text, kPath);
  if (const auto* error = std::get_if<ScriptError>(&result)) {
    check_location(error->location, text, "error '" + error->message + "'");
    if (error->message.empty()) fail("an error without a message", text);
    return 0;
  }
  const auto& script = std::get<Script>(result);
  if (script.path != kPath) fail("the script names '" + script.path + "'", text);
  int previous = 0;
  for (const auto& line : script.lines) {
    check_location(line.location, text, "parsed line");
    // Lines come out in the order they were written, one event per line.
    if (line.location.line <= previous) fail("parsed lines out of order", text);
    previous = line.location.line;
  }
  for (const auto& option : script.options) check_location(option.location, text, "option");
  return 0;
}
