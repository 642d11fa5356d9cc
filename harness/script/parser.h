// Parses packetdrill-style .pkt text into a Script (model.h). Errors name file:line:column and
// what was expected there.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "harness/script/model.h"

namespace synack::script {

struct ScriptError {
  Location location;
  std::string message;  // "expected a sequence number like 1:1(0), got 'x'"
  std::string to_string() const { return location.to_string() + ": error: " + message; }
};

using ParseResult = std::variant<Script, ScriptError>;

// `path` names the script in locations; nothing is read from disk.
ParseResult parse_script(std::string_view text, const std::string& path);

// Reads and parses a file; an unreadable file is a ScriptError at line 0.
ParseResult parse_script_file(const std::string& path);

}  // namespace synack::script
