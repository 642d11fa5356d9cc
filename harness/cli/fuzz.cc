// synack corpus: the session fuzzer's seeds from the conformance cases.
// synack replay: a session (or pair) fuzz input as a .pkt script and a pcap.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz/replay/render.h"
#include "fuzz/session/from_script.h"
#include "fuzz/session/session.h"
#include "fuzz/session/trace.h"
#include "harness/cli/commands.h"
#include "harness/script/parser.h"

#ifdef SYNACK_HAVE_PAIR_FUZZER
#include "fuzz/pair/pair.h"
#endif

namespace synack::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCorpusUsage = R"(Usage: synack corpus [--output DIR] PATH...

Turns every .pkt case under PATH (files or directories) into a session_fuzzer input (a typed
trace: fuzz/session/trace.h) and writes it to DIR (default corpus/session_fuzzer), one file per
case named after its path. Each trace is run once through the session fuzzer's executor first:
a trace that trips an invariant or the oracle is reported and not written (exit status 1), since
the cases pass in-process and their traces should too.

What a trace cannot state (assertions, ICMP messages of kinds trace.h's Icmp::Kind lacks, IP
attributes, SACK blocks, poll and fcntl calls, socket options other than its kSockoptNames) is
left out; the summary counts those lines.

Exit status: 0 every case converted and ran clean, 1 a case did not parse or its trace found
something, 2 usage error.
)";

constexpr const char* kReplayUsage =
    R"(Usage: synack replay [--kind session|pair] [--pkt FILE] [--pcap FILE] [--trace] INPUT

Runs a session_fuzzer or pair_fuzzer input (a corpus file, or a crash- file libFuzzer wrote)
and writes what the stack under test saw as a .pkt script that reproduces it through
'synack run --target inproc FILE': every segment in (<) and out (>) and every socket call, at
the instants they happened. For an input that trips an invariant, prints the invariant and the
connection's snapshot; the script then fails at the same point.

Options:
  --kind session|pair  what INPUT is for (default: pair when its path contains "pair_fuzzer",
                       as corpus/pair_fuzzer/ does, else session)
  --pkt FILE           write the script to FILE (default: standard output)
  --pcap FILE          also write every packet, raw IPv4, virtual time
  --trace              (session) print the decoded trace, one op per line, on standard error

Exit status: 0 the input ran clean, 1 it found something (or INPUT cannot be read), 2 usage
error.
)";

bool read_file(const std::string& path, std::vector<std::uint8_t>& out) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return false;
  std::ifstream f(path, std::ios::binary);
  out.resize(size);
  f.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(size));
  return static_cast<bool>(f);
}

std::string corpus_name(const std::string& path) {
  std::string n = fs::path(path).lexically_normal().string();
  if (n.ends_with(".pkt")) n.resize(n.size() - 4);
  for (char& c : n) {
    if (c == '/' || c == '\\') c = '-';
  }
  while (n.starts_with(".") || n.starts_with("-")) n.erase(0, 1);
  return n;
}

}  // namespace

int run_corpus(const std::vector<std::string_view>& args) {
  std::string output = "corpus/session_fuzzer";
  std::vector<std::string> paths;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kCorpusUsage, stdout);
      return kExitOk;
    }
    if (a == "--output" || a == "-o") {
      if (i + 1 == args.size()) {
        std::fprintf(stderr, "synack corpus: --output needs a directory\n");
        return kExitUsage;
      }
      output = std::string(args[++i]);
    } else if (a.starts_with("-")) {
      std::fprintf(stderr, "synack corpus: unknown option '%.*s'; see 'synack corpus --help'\n",
                   static_cast<int>(a.size()), a.data());
      return kExitUsage;
    } else {
      paths.emplace_back(a);
    }
  }
  if (paths.empty()) {
    std::fprintf(stderr, "synack corpus: no PATH given; see 'synack corpus --help'\n");
    return kExitUsage;
  }
  std::vector<std::string> files;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      for (const auto& e : fs::recursive_directory_iterator(p, ec)) {
        if (e.is_regular_file() && e.path().extension() == ".pkt") {
          files.push_back(e.path().string());
        }
      }
    } else if (fs::is_regular_file(p, ec)) {
      files.push_back(p);
    } else {
      std::fprintf(stderr, "synack corpus: %s: no such file or directory\n", p.c_str());
      return kExitFailure;
    }
  }
  std::sort(files.begin(), files.end());
  std::error_code ec;
  fs::create_directories(output, ec);
  if (ec) {
    std::fprintf(stderr, "synack corpus: cannot create %s: %s\n", output.c_str(),
                 ec.message().c_str());
    return kExitFailure;
  }
  int status = kExitOk;
  std::size_t written = 0;
  std::size_t used = 0;
  std::size_t left_out = 0;
  for (const std::string& file : files) {
    auto parsed = script::parse_script_file(file);
    if (const auto* err = std::get_if<script::ScriptError>(&parsed)) {
      std::fprintf(stderr, "%s\n", err->to_string().c_str());
      status = kExitFailure;
      continue;
    }
    const auto conv = fuzz::session::trace_from_script(std::get<script::Script>(parsed));
    used += conv.lines_used;
    left_out += conv.lines_left_out;
    const std::string finding = fuzz::session::run(conv.trace);
    if (!finding.empty()) {
      std::fprintf(stderr, "%s: its trace found: %s\n", file.c_str(), finding.c_str());
      status = kExitFailure;
      continue;
    }
    const std::vector<std::uint8_t> bytes = fuzz::session::encode(conv.trace);
    const fs::path out = fs::path(output) / corpus_name(file);
    std::ofstream f(out, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
    if (!f) {
      std::fprintf(stderr, "synack corpus: cannot write %s\n", out.string().c_str());
      return kExitFailure;
    }
    ++written;
  }
  std::printf(
      "wrote %zu session traces to %s from %zu cases (%zu script lines used, %zu left out)\n",
      written, output.c_str(), files.size(), used, left_out);
  return status;
}

int run_replay(const std::vector<std::string_view>& args) {
  std::string kind;
  std::string pkt;
  std::string pcap;
  std::string input;
  bool print_trace = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    auto value = [&](std::string& into) {
      if (i + 1 == args.size()) return false;
      into = std::string(args[++i]);
      return true;
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kReplayUsage, stdout);
      return kExitOk;
    }
    if (a == "--kind" || a == "--pkt" || a == "--pcap") {
      std::string& into = a == "--kind" ? kind : a == "--pkt" ? pkt : pcap;
      if (!value(into)) {
        std::fprintf(stderr, "synack replay: %.*s needs a value; see 'synack replay --help'\n",
                     static_cast<int>(a.size()), a.data());
        return kExitUsage;
      }
    } else if (a == "--trace") {
      print_trace = true;
    } else if (a.starts_with("-")) {
      std::fprintf(stderr, "synack replay: unknown option '%.*s'; see 'synack replay --help'\n",
                   static_cast<int>(a.size()), a.data());
      return kExitUsage;
    } else if (input.empty()) {
      input = std::string(a);
    } else {
      std::fprintf(stderr, "synack replay: one INPUT at a time; see 'synack replay --help'\n");
      return kExitUsage;
    }
  }
  if (input.empty()) {
    std::fprintf(stderr, "synack replay: no INPUT given; see 'synack replay --help'\n");
    return kExitUsage;
  }
  if (kind.empty()) kind = input.find("pair_fuzzer") != std::string::npos ? "pair" : "session";
  if (kind != "session" && kind != "pair") {
    std::fprintf(stderr, "synack replay: --kind is session or pair, not '%s'\n", kind.c_str());
    return kExitUsage;
  }
  std::vector<std::uint8_t> bytes;
  if (!read_file(input, bytes)) {
    std::fprintf(stderr, "synack replay: cannot read %s\n", input.c_str());
    return kExitFailure;
  }
  fuzz::SessionLog log;
  if (kind == "session") {
    const auto trace = fuzz::session::decode(bytes.data(), bytes.size());
    if (print_trace) std::fputs(fuzz::session::describe(trace).c_str(), stderr);
    fuzz::session::run(trace, &log);
  } else {
#ifdef SYNACK_HAVE_PAIR_FUZZER
    log = fuzz::pair_log(bytes.data(), bytes.size());
#else
    std::fprintf(stderr, "synack replay: this build has no pair fuzzer\n");
    return kExitFailure;
#endif
  }
  const fuzz::RenderedScript script = fuzz::render_pkt(log, input + " (" + kind + "_fuzzer input)");
  if (pkt.empty()) {
    std::fputs(script.text.c_str(), stdout);
  } else {
    std::ofstream f(pkt, std::ios::trunc);
    f << script.text;
    if (!f) {
      std::fprintf(stderr, "synack replay: cannot write %s\n", pkt.c_str());
      return kExitFailure;
    }
  }
  if (!pcap.empty()) {
    if (std::string e = fuzz::write_pcap(log, pcap); !e.empty()) {
      std::fprintf(stderr, "synack replay: %s\n", e.c_str());
      return kExitFailure;
    }
  }
  std::fprintf(
      stderr, "%s: %zu events as script lines%s%s\n", input.c_str(), script.lines,
      script.unrenderable != 0
          ? (", " + std::to_string(script.unrenderable) + " packets as comments only").c_str()
          : "",
      pkt.empty() ? "" : (", written to " + pkt).c_str());
  if (!log.finding.empty()) {
    std::fprintf(stderr, "finding: %s\n", log.finding.c_str());
    return kExitFailure;
  }
  std::fprintf(stderr, "the input ran clean\n");
  return kExitOk;
}

}  // namespace synack::cli
