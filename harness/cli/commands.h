// Subcommands of the `synack` command, one function each.
#pragma once

#include <string_view>
#include <vector>

namespace synack::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the command ran and found a problem (unreadable file)
inline constexpr int kExitUsage = 2;    // bad command line

int run_decode(const std::vector<std::string_view>& args);
int run_run(const std::vector<std::string_view>& args);
int run_musts(const std::vector<std::string_view>& args);
int run_serve(const std::vector<std::string_view>& args);
int run_corpus(const std::vector<std::string_view>& args);
int run_replay(const std::vector<std::string_view>& args);

}  // namespace synack::cli
