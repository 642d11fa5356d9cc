// synack run: replays .pkt cases against a target and reports a verdict per case.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fnmatch.h>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness/cli/commands.h"
#include "harness/cli/known.h"
#include "harness/report/junit.h"
#include "harness/script/mutate.h"
#include "harness/script/oracle_observer.h"
#include "harness/script/parser.h"
#include "harness/script/runner.h"
#include "harness/target/inproc.h"
#include "harness/wire/pcap.h"

namespace synack::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRunUsage = R"(Usage: synack run [options] PATH...

Runs every .pkt case in the given files and directories (recursively, in name order) and prints
one line per case, then "N passed, N failed". Exit status 0 only when every case passed.

Known failures: a directory given as PATH may hold known/<target>.txt, one line per case that is
expected to fail on that target: the case's path relative to the directory, then why (a '#'
starts a comment). Such a case that fails (or cannot run) is reported KNOWN and does not fail
the run; one that passes is reported as a failure, so that the list stays true.

Options:
  --target inproc        what to test (default inproc: synack's own stack, virtual time)
  --pcap DIR             write one pcap per case (both directions) into DIR
  --junit FILE           write a JUnit XML report to FILE
  -j N                   run N cases at once (default 1)
  --filter GLOB          only cases whose path matches GLOB (fnmatch; e.g. '*rst*')
  --known FILE           read known failures from FILE (paths relative to its parent's
                         parent), in addition to each directory's known/<target>.txt
  --no-known             ignore known-failure lists
  --tolerance_usecs N    timing tolerance floor in microseconds (default 4000)
  --tolerance_percent P  timing tolerance as a share of the gap (default 12.5)
  --self-check           check that every case can fail: run each passing case's mutants
                         (one expected field of one outbound segment, one syscall result or
                         value, or one assertion comparison changed) and report any mutant
                         that still passes; exit status 1 if one does
  -v                     print every line and segment as it happens, with the time
  -h, --help             this text

Exit status: 0 all passed; 1 a case failed or could not run; 2 usage error.
)";

struct Options {
  std::string target = "inproc";
  std::string pcap_dir;
  std::string junit;
  int jobs = 1;
  std::string filter;
  std::optional<std::int64_t> tolerance_us;
  std::optional<double> tolerance_percent;
  bool verbose = false;
  std::vector<std::string> known_files;
  bool use_known = true;
  bool self_check = false;
  std::vector<std::string> paths;
};

struct Outcome {
  std::string path;
  script::CaseResult result;
  bool script_error = false;
  double wall_seconds = 0;
  std::vector<std::string> trace;
  // --self-check: how many mutants ran, and those that passed (the expectation they changed).
  int mutants = 0;
  std::vector<std::string> survivors;
};

std::string pcap_name(const std::string& path) {
  std::string n = path;
  for (char& c : n) {
    if (c == '/' || c == '\\') c = '_';
  }
  if (n.ends_with(".pkt")) n.resize(n.size() - 4);
  while (!n.empty() && (n[0] == '.' || n[0] == '_')) n.erase(0, 1);
  return n + ".pcap";
}

Outcome run_one(const std::string& path, const Options& o) {
  Outcome out;
  out.path = path;
  const auto start = std::chrono::steady_clock::now();
  auto parsed = script::parse_script_file(path);
  if (const auto* err = std::get_if<script::ScriptError>(&parsed)) {
    out.script_error = true;
    out.result.verdict = script::CaseResult::Verdict::kError;
    out.result.message = err->to_string();
  } else {
    script::RunOptions ro;
    if (o.tolerance_us) ro.tolerance_us = *o.tolerance_us;
    if (o.tolerance_percent) ro.tolerance_percent = *o.tolerance_percent;
    if (o.verbose) ro.trace = [&out](const std::string& s) { out.trace.push_back(s); };
    auto run = [&](const script::Script& s) {
      target::InprocTarget target;
      // The black-box oracle watches every segment of every case, whatever the script says.
      script::OracleObserver oracle;
      return script::run_script(s, target, ro, &oracle);
    };
    const auto& original = std::get<script::Script>(parsed);
    out.result = run(original);
    if (o.self_check && out.result.verdict == script::CaseResult::Verdict::kPass) {
      ro.trace = nullptr;
      for (const script::Mutant& m : script::mutants(original, out.result.isn_lines)) {
        ++out.mutants;
        const script::CaseResult r = run(m.script);
        // A mutant the runner calls a script error did not test the target either.
        if (r.verdict != script::CaseResult::Verdict::kFail) {
          out.survivors.push_back(m.description + (r.verdict == script::CaseResult::Verdict::kError
                                                       ? " (script error: " + r.message + ")"
                                                       : " (still passes)"));
        }
      }
    }
  }
  out.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

std::vector<std::string> collect(const Options& o, std::string& error) {
  std::vector<std::string> files;
  for (const std::string& p : o.paths) {
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
      error = p + ": no such file or directory";
      return {};
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  if (!o.filter.empty()) {
    std::erase_if(
        files, [&](const std::string& f) { return fnmatch(o.filter.c_str(), f.c_str(), 0) != 0; });
  }
  return files;
}

int usage_error(const std::string& what) {
  std::fprintf(stderr, "synack run: %s; see 'synack run --help'\n", what.c_str());
  return kExitUsage;
}

}  // namespace

int run_run(const std::vector<std::string_view>& args) {
  Options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string a(args[i]);
    auto value = [&](const char* name) -> std::optional<std::string> {
      const std::string eq = std::string(name) + "=";
      if (a.starts_with(eq)) return a.substr(eq.size());
      if (a == name && i + 1 < args.size()) return std::string(args[++i]);
      return std::nullopt;
    };
    auto number = [&](const std::string& v, const char* name) -> std::optional<double> {
      char* end = nullptr;
      const double d = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0' || d < 0) {
        usage_error(std::string(name) + " needs a non-negative number, not '" + v + "'");
        return std::nullopt;
      }
      return d;
    };
    if (a == "-h" || a == "--help") {
      std::fputs(kRunUsage, stdout);
      return kExitOk;
    }
    if (a == "-v") {
      o.verbose = true;
    } else if (auto target = value("--target")) {
      o.target = *target;
    } else if (auto dir = value("--pcap")) {
      o.pcap_dir = *dir;
    } else if (auto file = value("--junit")) {
      o.junit = *file;
    } else if (a == "--self-check") {
      o.self_check = true;
    } else if (a == "--no-known") {
      o.use_known = false;
    } else if (auto known = value("--known")) {
      o.known_files.push_back(*known);
    } else if (auto glob = value("--filter")) {
      o.filter = *glob;
    } else if (auto jobs = value("-j")) {
      auto n = number(*jobs, "-j");
      if (!n || *n < 1) return n ? usage_error("-j needs at least 1") : kExitUsage;
      o.jobs = static_cast<int>(*n);
    } else if (auto tol = value("--tolerance_usecs")) {
      auto n = number(*tol, "--tolerance_usecs");
      if (!n) return kExitUsage;
      o.tolerance_us = static_cast<std::int64_t>(*n);
    } else if (auto pct = value("--tolerance_percent")) {
      auto n = number(*pct, "--tolerance_percent");
      if (!n) return kExitUsage;
      o.tolerance_percent = *n;
    } else if (a.starts_with("-") && a.size() > 1) {
      return usage_error("unknown option '" + a + "' (or it needs a value)");
    } else {
      o.paths.push_back(a);
    }
  }
  if (o.target != "inproc") {
    return usage_error("unknown target '" + o.target + "' (this build has: inproc)");
  }
  if (o.paths.empty()) return usage_error("no case file or directory given");
  std::string error;
  const auto files = collect(o, error);
  if (!error.empty()) {
    std::fprintf(stderr, "synack run: %s\n", error.c_str());
    return kExitFailure;
  }
  if (files.empty()) {
    std::fprintf(stderr, "synack run: no .pkt cases found%s\n",
                 o.filter.empty() ? "" : " matching the filter");
    return kExitFailure;
  }
  KnownFailures known;
  if (o.use_known) {
    std::vector<std::pair<fs::path, fs::path>> lists;  // (file, root)
    for (const std::string& f : o.known_files) {
      lists.emplace_back(f, fs::path(f).parent_path().parent_path());
    }
    for (const std::string& p : o.paths) {
      std::error_code ec;
      const fs::path list = fs::path(p) / "known" / (o.target + ".txt");
      if (fs::is_directory(p, ec) && fs::is_regular_file(list, ec)) lists.emplace_back(list, p);
    }
    for (const auto& [file, root] : lists) {
      if (std::string err = load_known(file, root, known); !err.empty()) {
        std::fprintf(stderr, "synack run: %s\n", err.c_str());
        return kExitFailure;
      }
    }
  }
  if (!o.pcap_dir.empty()) {
    std::error_code ec;
    fs::create_directories(o.pcap_dir, ec);
    if (ec) {
      std::fprintf(stderr, "synack run: cannot create %s: %s\n", o.pcap_dir.c_str(),
                   ec.message().c_str());
      return kExitFailure;
    }
  }

  std::vector<Outcome> outcomes(files.size());
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < files.size(); i = next++) outcomes[i] = run_one(files[i], o);
  };
  std::vector<std::thread> pool;
  for (int j = 1; j < std::min<int>(o.jobs, static_cast<int>(files.size())); ++j) {
    pool.emplace_back(worker);
  }
  worker();
  for (auto& t : pool) t.join();

  int passed = 0;
  int failed = 0;
  int known_failed = 0;
  int mutants = 0;
  int survivors = 0;
  int checked_cases = 0;
  std::vector<report::JunitCase> junit;
  for (Outcome& out : outcomes) {
    for (const std::string& line : out.trace) std::printf("    %s\n", line.c_str());
    bool ok = out.result.verdict == script::CaseResult::Verdict::kPass;
    const auto k = known.find(case_key(out.path));
    const bool is_known = k != known.end();
    if (is_known && ok) {
      // A known failure that passes: the list is out of date, and saying so keeps it true.
      ok = false;
      out.result.message = "listed as a known failure (" + k->second.where + ": " +
                           k->second.reason + ") but it passed: remove it from the list";
    }
    const bool weak = o.self_check && ok && !out.survivors.empty();
    if (o.self_check && ok) {
      ++checked_cases;
      mutants += out.mutants;
      survivors += static_cast<int>(out.survivors.size());
    }
    if (weak) {
      // The case passes, but some of its expectations would pass against a wrong target too.
      ok = false;
      out.result.message = std::to_string(out.survivors.size()) + " of " +
                           std::to_string(out.mutants) +
                           " mutants still pass; these expectations are not checked:";
      for (const std::string& sv : out.survivors) out.result.message += "\n  " + sv;
    }
    const bool expected_failure =
        is_known && out.result.verdict != script::CaseResult::Verdict::kPass;
    if (expected_failure) {
      ++known_failed;
      out.result.message = "known failure (" + k->second.where + "): " + k->second.reason + "\n" +
                           out.result.message;
    } else {
      (ok ? passed : failed) += 1;
    }
    std::printf("%s %s (%.1f ms)\n",
                expected_failure   ? "KNOWN"
                : ok               ? "PASS"
                : out.script_error ? "ERROR"
                : weak             ? "WEAK"
                                   : "FAIL",
                out.path.c_str(), out.wall_seconds * 1e3);
    if (!ok) {
      std::string m = out.result.message;
      std::size_t at = 0;
      while ((at = m.find('\n', at)) != std::string::npos) m.insert(++at, "    ");
      std::printf("    %s\n", m.c_str());
    }
    if (!o.pcap_dir.empty() && !out.result.link.empty()) {
      const std::string file = (fs::path(o.pcap_dir) / pcap_name(out.path)).string();
      auto w = wire::PcapWriter::open(file, wire::LinkType::kRaw);
      if (!w) {
        std::fprintf(stderr, "synack run: %s\n", w.error().c_str());
        return kExitFailure;
      }
      for (const auto& e : out.result.link) w->write(e.time_us, e.packet);
      if (std::string err = w->close(); !err.empty()) {
        std::fprintf(stderr, "synack run: %s\n", err.c_str());
        return kExitFailure;
      }
    }
    using O = report::JunitCase::Outcome;
    junit.push_back({out.path, fs::path(out.path).parent_path().string(), out.wall_seconds,
                     expected_failure   ? O::kSkipped
                     : ok               ? O::kPassed
                     : out.script_error ? O::kError
                                        : O::kFailed,
                     out.result.message});
  }
  if (!o.junit.empty()) {
    std::ofstream f(o.junit);
    f << report::junit_xml("synack " + o.target, junit);
    if (!f) {
      std::fprintf(stderr, "synack run: cannot write %s\n", o.junit.c_str());
      return kExitFailure;
    }
  }
  if (o.self_check) {
    std::printf("self-check: %d of %d mutants failed (%.1f%%) across %d passing cases\n",
                mutants - survivors, mutants,
                mutants == 0 ? 100.0 : 100.0 * (mutants - survivors) / mutants, checked_cases);
  }
  if (known.empty()) {
    std::printf("%d passed, %d failed\n", passed, failed);
  } else {
    std::printf("%d passed, %d failed, %d known failures\n", passed, failed, known_failed);
  }
  return failed == 0 ? kExitOk : kExitFailure;
}

}  // namespace synack::cli
