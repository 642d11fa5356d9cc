// The `synack` command.
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "harness/cli/commands.h"
#include "harness/cli/version.h"

namespace {

constexpr const char* kUsage = R"(synack: TCP conformance and fuzzing harness

Usage:
  synack run [--target inproc|linux|tap:IF[,agent=ADDR]] [--pcap DIR] [--junit FILE] [-j N]
             [--filter GLOB] [-v] PATH...
  synack run --self-check PATH...
  synack musts [--check] [--output FILE] DIR
  synack serve --tap IFNAME --agent unix:PATH|HOST:PORT [--seed N]
  synack decode [--time=relative|absolute|none] FILE...
  synack corpus [--output DIR] PATH...
  synack replay [--kind session|pair] [--pkt FILE] [--pcap FILE] INPUT
  synack help [COMMAND]
  synack --help | -h
  synack --version

Commands:
  run      Run .pkt conformance cases against a target; one verdict per case.
  musts    Write DIR/MUSTS.md, the table from each RFC 9293 MUST to its cases and verdicts.
  serve    Run synack's own stack on a tap device, answering the agent protocol, for
           'synack run --target tap:...' on the other side of the link.
  decode   Print every packet of a pcap or pcapng capture on one line, tcpdump style.
  corpus   Turn .pkt cases into session_fuzzer seeds (corpus/session_fuzzer).
  replay   Turn a session_fuzzer or pair_fuzzer input into a .pkt script (and a pcap) that
           reproduces it through 'synack run --target inproc'.

Run 'synack help COMMAND' for a command's options.

Exit status: 0 on success, 1 when a case fails or a file cannot be read, 2 on a usage error.
)";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fputs(kUsage, stderr);
    return synack::cli::kExitUsage;
  }
  const std::string_view cmd = args.front();
  const std::vector<std::string_view> rest(args.begin() + 1, args.end());
  if (cmd == "--help" || cmd == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (cmd == "help") {
    if (rest.empty()) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (rest.front() == "decode") return synack::cli::run_decode({"--help"});
    if (rest.front() == "run") return synack::cli::run_run({"--help"});
    if (rest.front() == "musts") return synack::cli::run_musts({"--help"});
    if (rest.front() == "serve") return synack::cli::run_serve({"--help"});
    if (rest.front() == "corpus") return synack::cli::run_corpus({"--help"});
    if (rest.front() == "replay") return synack::cli::run_replay({"--help"});
    std::fprintf(stderr, "synack: no command '%.*s'; see 'synack --help'\n",
                 static_cast<int>(rest.front().size()), rest.front().data());
    return synack::cli::kExitUsage;
  }
  if (cmd == "--version") {
    std::printf("synack %s\n", SYNACK_VERSION);
    return 0;
  }
  if (cmd == "decode") return synack::cli::run_decode(rest);
  if (cmd == "run") return synack::cli::run_run(rest);
  if (cmd == "musts") return synack::cli::run_musts(rest);
  if (cmd == "serve") return synack::cli::run_serve(rest);
  if (cmd == "corpus") return synack::cli::run_corpus(rest);
  if (cmd == "replay") return synack::cli::run_replay(rest);
  std::fprintf(stderr, "synack: no command '%.*s'; see 'synack --help'\n",
               static_cast<int>(cmd.size()), cmd.data());
  return synack::cli::kExitUsage;
}
