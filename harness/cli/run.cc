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
#include "harness/cli/schedule.h"
#include "harness/report/junit.h"
#include "harness/script/mutate.h"
#include "harness/script/parser.h"
#include "harness/script/run_case.h"
#include "harness/script/runner.h"
#include "harness/target/netns.h"
#include "harness/target/tap.h"
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
  --target NAME          what to test:
                           inproc  synack's own stack in virtual time (the default)
                           linux   the Linux kernel's TCP, real time: each case in a fresh
                                   network namespace synack-<pid>-<n> with a tap device
                                   synack0 (needs root and /dev/net/tun); every namespace is
                                   removed at the end of its case, on SIGINT/SIGTERM, and
                                   (stale ones of a killed run) on the next start
                           tap:IFNAME[,agent=unix:PATH|HOST:PORT][,mac=MAC]
                                   any stack behind the existing tap device IFNAME, real
                                   time: synack plays 192.168.0.2 (MAC 02:53:59:4e:00:02),
                                   the stack is 192.168.0.1 (and .3); socket calls, knobs
                                   and tcpi_ fields go to the stack's agent
                                   (docs/agent-protocol.md), which gets `reset` before each
                                   case. Without an agent, cases that need one are SKIPPED
                                   with that reason. mac= is the stack's MAC (else learned
                                   from its first frame; broadcast until then). Give
                                   --target tap:... once per lane (a tap and an agent of its
                                   own, e.g. one `synack serve` each) to run cases on all
                                   lanes at once. An agent that dies or stops answering
                                   makes the case an ERROR with why (needs root and
                                   /dev/net/tun)
  --pcap DIR             write one pcap per case (both directions) into DIR
  --junit FILE           write a JUnit XML report to FILE
  -j N, --jobs N         run N cases at once (default 1); on linux each in its own
                         namespace, which matters since real time is slow; on tap at
                         most one per --target tap:... lane (default: every lane). On
                         real-time targets the longest cases start first, and the
                         jobs start their first cases 0.25 s apart (not all at once)
  --max-case-seconds S   real-time targets: skip (and report SKIP) a case whose script
                         spans more than S seconds (default 200; 0: no limit). inproc
                         never skips
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

Timing on real-time targets: a segment or a blocking call may be off by max(4 ms, 12.5% of
the gap since the previous event) (--tolerance_usecs, --tolerance_percent); a miss says by how
much. The last line gives the wall time of the run.

Verdicts: PASS, FAIL, ERROR (the script, the target's setup or its agent failed), KNOWN (a
listed known failure), SKIP (the case cannot run on this target: longer than
--max-case-seconds, or it needs an agent the tap target was not given). KNOWN and SKIP are
shown with their reason and do not fail the run.

Exit status: 0 all passed (or known, or skipped); 1 a case failed or could not run; 2 usage
error, or a target that cannot run here (not root, no /dev/net/tun, no such tap device or
one that is down).
)";

struct Options {
  std::string target = "inproc";      // inproc, linux or tap
  std::vector<target::TapSpec> taps;  // tap: one per lane
  bool jobs_given = false;
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
  double max_case_seconds = 200;
  std::vector<std::string> paths;
};

struct Outcome {
  std::string path;
  script::CaseResult result;
  bool script_error = false;
  bool target_error = false;  // the target could not be set up, or its agent failed
  std::string skipped;        // why the case did not run, when it did not
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

// Why a case cannot run on a tap target without an agent, or "": socket calls, stack knobs and
// tcpi_ fields all need one.
std::string needs_agent(const script::Script& s) {
  static const std::vector<std::string> kHarnessOptions = {"tolerance_usecs", "tolerance_percent",
                                                           "tcp_ts_tick_usecs", "harness_isn"};
  for (const script::OptionSetting& opt : s.options) {
    if (std::find(kHarnessOptions.begin(), kHarnessOptions.end(), opt.name) ==
        kHarnessOptions.end()) {
      return "it sets the stack knob --" + opt.name + " (line " +
             std::to_string(opt.location.line) + ")";
    }
  }
  for (const script::Line& l : s.lines) {
    if (std::holds_alternative<script::SyscallLine>(l.event)) {
      return "it makes socket calls (line " + std::to_string(l.location.line) + ")";
    }
    if (const auto* a = std::get_if<script::AssertLine>(&l.event)) {
      for (const auto& c : a->all) {
        if (c.field.starts_with("tcpi_")) {
          return "it reads " + c.field + " (line " + std::to_string(l.location.line) + ")";
        }
      }
    }
  }
  return {};
}

// `link`: the lane's tap link on a tap target (one per lane for the whole run), else null.
Outcome run_one(const std::string& path, const Options& o, std::size_t lane, link::TapLink* link) {
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
    // The same target factory and oracle as the Python module's run_script (run_case.h).
    script::TargetSpec spec;
    if (o.target == "tap") {
      spec.kind = script::TargetSpec::Kind::kTap;
      spec.tap = o.taps[lane];
    } else {
      spec = *script::parse_target_spec(o.target);  // checked by run_run
    }
    auto run = [&](const script::Script& s) {
      script::CaseRun r = script::run_case(s, spec, ro, link);
      if (r.target_error) out.target_error = true;
      return r.result;
    };
    const auto& original = std::get<script::Script>(parsed);
    const double span = static_cast<double>(script::script_span_us(original)) / 1e6;
    if (o.target != "inproc" && o.max_case_seconds > 0 && span > o.max_case_seconds) {
      char why[160];
      std::snprintf(why, sizeof why,
                    "its script spans %.0f s of real time, more than --max-case-seconds %.0f", span,
                    o.max_case_seconds);
      out.skipped = why;
      out.wall_seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      return out;
    }
    if (o.target == "tap" && o.taps[lane].agent.empty()) {
      if (std::string why = needs_agent(original); !why.empty()) {
        out.skipped = why + " and the tap target has no agent (add ,agent=unix:PATH)";
        return out;
      }
    }
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
      if (target->starts_with("tap:")) {
        auto spec = target::parse_tap_spec(*target);
        if (!spec) return usage_error(spec.error());
        o.taps.push_back(*spec);
        if (o.target != "inproc" && o.target != "tap") {
          return usage_error("--target " + *target + " cannot be mixed with --target " + o.target);
        }
        o.target = "tap";
      } else {
        if (!o.taps.empty()) {
          return usage_error("--target " + *target + " cannot be mixed with --target tap:...");
        }
        o.target = *target;
      }
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
    } else if (auto jobs = a.starts_with("--jobs") ? value("--jobs") : value("-j")) {
      const char* flag = a.starts_with("--jobs") ? "--jobs" : "-j";
      auto n = number(*jobs, flag);
      if (!n) return kExitUsage;
      if (*n < 1) return usage_error(std::string(flag) + " needs at least 1");
      o.jobs = static_cast<int>(*n);
      o.jobs_given = true;
    } else if (auto max = value("--max-case-seconds")) {
      auto n = number(*max, "--max-case-seconds");
      if (!n) return kExitUsage;
      o.max_case_seconds = *n;
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
  if (o.target != "inproc" && o.target != "linux" && o.target != "tap") {
    return usage_error("unknown target '" + o.target +
                       "' (this build has: inproc, linux, tap:IFNAME[,agent=ADDR])");
  }
  if (o.paths.empty()) return usage_error("no case file or directory given");
  if (o.target == "tap") {
    const int lanes = static_cast<int>(o.taps.size());
    if (!o.jobs_given) o.jobs = lanes;
    if (o.jobs > lanes) {
      return usage_error("--jobs " + std::to_string(o.jobs) + " needs as many tap lanes, but " +
                         std::to_string(lanes) + " --target tap:... " +
                         (lanes == 1 ? "was" : "were") + " given");
    }
    if (std::string why = target::tap_unavailable(); !why.empty()) {
      std::fprintf(stderr, "synack run: %s\n", why.c_str());
      return kExitUsage;
    }
  }
  if (o.target == "linux") {
    if (std::string why = target::linux_target_unavailable(); !why.empty()) {
      std::fprintf(stderr, "synack run: %s\n", why.c_str());
      return kExitUsage;
    }
    // Namespaces left by a run that was killed (SIGKILL, a crash): their pid is gone.
    for (const std::string& n : target::remove_stale_namespaces()) {
      std::fprintf(stderr, "synack run: removed stale namespace %s (its process is gone)\n",
                   n.c_str());
    }
  }
  const auto run_start = std::chrono::steady_clock::now();
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

  // The order cases start in (schedule.h): by name, except that on a real-time target with
  // several jobs the longest scripts start first.
  const bool real_time = o.target != "inproc";
  std::vector<std::int64_t> span(files.size(), 0);
  if (real_time && o.jobs > 1) {
    for (std::size_t i = 0; i < files.size(); ++i) {
      const auto parsed = script::parse_script_file(files[i]);
      if (const auto* s = std::get_if<script::Script>(&parsed)) {
        span[i] = script::script_span_us(*s);
      }
    }
  }
  const std::vector<std::size_t> order = start_order(span, real_time, o.jobs);
  // Tap lanes: each link stays open for the whole run (see TapTarget::create).
  std::vector<std::unique_ptr<link::TapLink>> links;
  for (const target::TapSpec& spec : o.taps) {
    auto l = target::TapTarget::open_link(spec);
    if (!l) {
      std::fprintf(stderr, "synack run: %s\n", l.error().c_str());
      return kExitUsage;
    }
    links.push_back(std::move(*l));
  }
  std::vector<Outcome> outcomes(files.size());
  std::atomic<std::size_t> next{0};
  // Each worker is a lane: on tap, lane j uses the j-th --target tap:... (its tap and agent).
  // On a real-time target the lanes start their first cases kLaneStagger apart (schedule.h).
  const auto lanes_start = std::chrono::steady_clock::now();
  auto worker = [&](std::size_t lane) {
    std::this_thread::sleep_until(lanes_start + first_case_delay(lane, real_time));
    for (std::size_t i = next++; i < files.size(); i = next++) {
      outcomes[order[i]] =
          run_one(files[order[i]], o, lane, lane < links.size() ? links[lane].get() : nullptr);
    }
  };
  std::vector<std::thread> pool;
  for (int j = 1; j < std::min<int>(o.jobs, static_cast<int>(files.size())); ++j) {
    pool.emplace_back(worker, static_cast<std::size_t>(j));
  }
  worker(0);
  for (auto& t : pool) t.join();

  int passed = 0;
  int failed = 0;
  int known_failed = 0;
  int skipped = 0;
  int mutants = 0;
  int survivors = 0;
  int checked_cases = 0;
  std::vector<report::JunitCase> junit;
  for (Outcome& out : outcomes) {
    for (const std::string& line : out.trace) std::printf("    %s\n", line.c_str());
    if (!out.skipped.empty()) {
      ++skipped;
      std::printf("SKIP %s: %s\n", out.path.c_str(), out.skipped.c_str());
      junit.push_back({out.path, fs::path(out.path).parent_path().string(), 0,
                       report::JunitCase::Outcome::kSkipped, out.skipped});
      continue;
    }
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
                expected_failure                       ? "KNOWN"
                : ok                                   ? "PASS"
                : out.script_error || out.target_error ? "ERROR"
                : weak                                 ? "WEAK"
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
                     expected_failure                       ? O::kSkipped
                     : ok                                   ? O::kPassed
                     : out.script_error || out.target_error ? O::kError
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
  std::string summary = std::to_string(passed) + " passed, " + std::to_string(failed) + " failed";
  if (!known.empty()) summary += ", " + std::to_string(known_failed) + " known failures";
  if (skipped > 0) summary += ", " + std::to_string(skipped) + " skipped";
  std::printf("%s\n", summary.c_str());
  if (o.target != "inproc") {
    std::printf("wall time %.1f s (target %s, %d jobs)\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count(),
                o.target.c_str(), o.jobs);
  }
  return failed == 0 ? kExitOk : kExitFailure;
}

}  // namespace synack::cli
