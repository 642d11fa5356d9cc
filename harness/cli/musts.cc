// synack musts: the traceability table from RFC 9293's MUSTs to the conformance cases.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "harness/cli/commands.h"
#include "harness/cli/known.h"
#include "harness/script/oracle_observer.h"
#include "harness/script/parser.h"
#include "harness/script/runner.h"
#include "harness/target/inproc.h"

namespace synack::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kMustsUsage = R"(Usage: synack musts [--check] [--output FILE] DIR

Writes DIR/MUSTS.md: each RFC 9293 MUST (DIR/requirements/rfc9293.tsv, extracted from the RFC's
Appendix B by scripts/extract-requirements.py), the cases under DIR whose opening comment cites
it ("MUST-13"), and each case's verdict on every target that can run here (inproc), with known
failures (DIR/known/<target>.txt) marked as such. A MUST without a case must be listed in
DIR/requirements/unchecked.txt ("MUST-n reason" per line: why it cannot be observed from outside
the stack, or why the stack deliberately does not implement it) and appears with that reason.
SHOULD and MAY ids cited by cases get a table of their own, and every RFC named a list of cases.

Options:
  --check        write nothing; exit 1 if DIR/MUSTS.md differs from what would be written
  --output FILE  write FILE instead of DIR/MUSTS.md
  -h, --help     this text

Exit status: 0 done (or up to date); 1 a MUST has no case and no unchecked.txt entry, a MUST has
both, a case cites an id RFC 9293 does not have, a case fails without being a known failure, a
file cannot be read, or (--check) MUSTS.md is stale; 2 usage error.
)";

struct Requirement {
  std::string id;  // MUST-13
  std::string level;
  std::string sections;
  std::string text;
};

struct Case {
  std::string rel;  // relative to DIR, '/' separated
  std::set<std::string> ids;
  std::set<int> rfcs;   // every RFC the opening comment names
  std::string verdict;  // pass, FAIL, known, ERROR
  // On linux, as CI holds it (CTest conformance_linux): known, pass, or not run (longer than
  // the real-time cut); "" without a known/linux.txt.
  std::string linux_verdict;
};

// `synack run`'s default --max-case-seconds: longer cases are not run on real-time targets.
constexpr std::int64_t kRealTimeCutUs = 200'000'000;

int id_number(const std::string& id) { return std::stoi(id.substr(id.find('-') + 1)); }

// Orders MUST-2 before MUST-10, and MUSTs before SHLDs before MAYs.
bool id_less(const std::string& a, const std::string& b) {
  auto kind = [](const std::string& id) {
    static const std::vector<std::string> kKinds = {"MUST", "SHLD", "MAY", "REC"};
    const auto it = std::find(kKinds.begin(), kKinds.end(), id.substr(0, id.find('-')));
    return it - kKinds.begin();
  };
  if (kind(a) != kind(b)) return kind(a) < kind(b);
  return id_number(a) < id_number(b);
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, '\t')) out.push_back(cell);
  return out;
}

// The ids and RFCs cited in a case's opening comment: the `//` lines before its first other line.
void read_citations(const fs::path& file, std::vector<std::string>& errors,
                    const std::map<std::string, Requirement>& known_ids, Case& c) {
  static const std::regex kId(R"(\b(MUST|SHLD|MAY|REC)-([0-9]+)\b)");
  static const std::regex kRfc(R"(\bRFC ?([0-9]{3,4})\b)");
  std::set<std::string>& ids = c.ids;
  std::ifstream in(file);
  if (!in) {
    errors.push_back(file.string() + ": cannot read");
    return;
  }
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    const auto start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos) continue;
    if (line.compare(start, 2, "//") != 0) break;
    for (std::sregex_iterator it(line.begin(), line.end(), kId), end; it != end; ++it) {
      const std::string id = it->str();
      if (known_ids.count(id) == 0) {
        errors.push_back(file.string() + ":" + std::to_string(n) + ": " + id +
                         " is not a requirement id of RFC 9293 (see requirements/rfc9293.tsv)");
      } else {
        ids.insert(id);
      }
    }
    for (std::sregex_iterator it(line.begin(), line.end(), kRfc), end; it != end; ++it) {
      c.rfcs.insert(std::stoi((*it)[1].str()));
    }
  }
  if (c.rfcs.empty()) {
    errors.push_back(file.string() +
                     ":1: the opening comment names no RFC; every case opens with the RFC and "
                     "section it checks (and the RFC 9293 MUST-n where there is one)");
  }
}

std::string verdict_of(const fs::path& file, const script::ParseResult& parsed,
                       const KnownFailures& known) {
  bool pass = false;
  if (const auto* s = std::get_if<script::Script>(&parsed)) {
    target::InprocTarget target;
    script::OracleObserver oracle;
    pass =
        script::run_script(*s, target, {}, &oracle).verdict == script::CaseResult::Verdict::kPass;
  }
  const bool listed = known.count(case_key(file)) != 0;
  if (listed) return pass ? "FAIL (listed as known, but passes)" : "known";
  if (std::holds_alternative<script::ScriptError>(parsed)) return "ERROR";
  return pass ? "pass" : "FAIL";
}

// The linux verdict CI holds a case to: listed in known/linux.txt, or too long for a real-time
// run, or else it must pass (conformance_linux fails otherwise).
std::string linux_verdict_of(const fs::path& file, const script::ParseResult& parsed,
                             const KnownFailures& known) {
  if (known.count(case_key(file)) != 0) return "known";
  if (const auto* s = std::get_if<script::Script>(&parsed)) {
    const std::int64_t span = script::script_span_us(*s);
    if (span > kRealTimeCutUs) return "not run, " + std::to_string(span / 1'000'000) + " s";
  }
  return "pass";
}

std::string md_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

// "| id | level | sections | text | " of a table row, the cases column left to the caller.
void requirement_cells(std::ostream& md, const Requirement& r) {
  md << "| " << r.id << " | " << r.level << " | " << (r.sections.empty() ? "B" : r.sections)
     << " | " << md_escape(r.text) << " | ";
}

// Each case as a link with its verdict, separated by line breaks.
void case_cells(std::ostream& md, const std::vector<const Case*>& cases) {
  const char* sep = "";
  for (const Case* c : cases) {
    md << sep << "[" << c->rel << "](" << c->rel << ") (";
    if (c->linux_verdict.empty()) {
      md << c->verdict << ")";
    } else {
      md << "inproc " << c->verdict << ", linux " << c->linux_verdict << ")";
    }
    sep = "<br>";
  }
}

}  // namespace

int run_musts(const std::vector<std::string_view>& args) {
  bool check = false;
  std::string output;
  std::string dir;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string a(args[i]);
    if (a == "-h" || a == "--help") {
      std::fputs(kMustsUsage, stdout);
      return kExitOk;
    }
    if (a == "--check") {
      check = true;
    } else if (a == "--output" && i + 1 < args.size()) {
      output = std::string(args[++i]);
    } else if (a.starts_with("--output=")) {
      output = a.substr(9);
    } else if (a.starts_with("-") && a.size() > 1) {
      std::fprintf(stderr,
                   "synack musts: unknown option '%s' (or it needs a value); see "
                   "'synack musts --help'\n",
                   a.c_str());
      return kExitUsage;
    } else if (dir.empty()) {
      dir = a;
    } else {
      std::fprintf(stderr, "synack musts: one directory only; see 'synack musts --help'\n");
      return kExitUsage;
    }
  }
  if (dir.empty()) {
    std::fprintf(stderr, "synack musts: no directory given; see 'synack musts --help'\n");
    return kExitUsage;
  }
  const fs::path root(dir);
  if (output.empty()) output = (root / "MUSTS.md").string();
  std::vector<std::string> errors;

  // The requirement ids.
  std::map<std::string, Requirement> reqs;
  {
    const fs::path tsv = root / "requirements" / "rfc9293.tsv";
    std::ifstream in(tsv);
    if (!in) {
      std::fprintf(stderr, "synack musts: %s: cannot read\n", tsv.string().c_str());
      return kExitFailure;
    }
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      if (line.empty() || line[0] == '#') continue;
      const auto cells = split_tabs(line);
      if (cells.size() != 4) {
        std::fprintf(stderr, "synack musts: %s:%d: expected 4 tab-separated fields\n",
                     tsv.string().c_str(), n);
        return kExitFailure;
      }
      reqs[cells[0]] = Requirement{cells[0], cells[1], cells[2], cells[3]};
    }
  }

  // MUSTs without a case, and why (not observable from outside, or deliberately not done).
  std::map<std::string, std::string> unchecked;
  {
    const fs::path file = root / "requirements" / "unchecked.txt";
    std::ifstream in(file);
    std::string line;
    for (int n = 1; in && std::getline(in, line); ++n) {
      if (line.empty() || line[0] == '#') continue;
      const auto sp = line.find(' ');
      const std::string id = line.substr(0, sp);
      std::string why = sp == std::string::npos ? "" : line.substr(sp + 1);
      why.erase(0, why.find_first_not_of(' '));
      const std::string where = file.string() + ":" + std::to_string(n);
      if (reqs.count(id) == 0 || !id.starts_with("MUST-")) {
        std::string err = where;
        errors.push_back(err.append(": '").append(id).append("' is not a MUST id of RFC 9293"));
      } else if (why.empty()) {
        std::string err = where;
        errors.push_back(err.append(": ").append(id).append(" needs the reason it has no case"));
      } else {
        unchecked[id] = why;
      }
    }
  }

  // The cases, what they cite, and their verdicts.
  KnownFailures known;
  const fs::path known_list = root / "known" / "inproc.txt";
  std::error_code ec;
  if (fs::is_regular_file(known_list, ec)) {
    if (std::string err = load_known(known_list, root, known); !err.empty()) {
      errors.push_back(err);
    }
  }
  KnownFailures linux_known;
  const fs::path linux_list = root / "known" / "linux.txt";
  const bool have_linux = fs::is_regular_file(linux_list, ec);
  if (have_linux) {
    if (std::string err = load_known(linux_list, root, linux_known); !err.empty()) {
      errors.push_back(err);
    }
  }
  std::vector<Case> cases;
  for (const auto& e : fs::recursive_directory_iterator(root, ec)) {
    if (!e.is_regular_file() || e.path().extension() != ".pkt") continue;
    Case c;
    c.rel = fs::relative(e.path(), root).generic_string();
    read_citations(e.path(), errors, reqs, c);
    const script::ParseResult parsed = script::parse_script_file(e.path().string());
    c.verdict = verdict_of(e.path(), parsed, known);
    if (have_linux) c.linux_verdict = linux_verdict_of(e.path(), parsed, linux_known);
    if (c.verdict.starts_with("FAIL") || c.verdict == "ERROR") {
      errors.push_back(e.path().string() + ": " + c.verdict + " on inproc (run 'synack run " +
                       e.path().string() + "' for why)");
    }
    cases.push_back(std::move(c));
  }
  std::sort(cases.begin(), cases.end(), [](const Case& a, const Case& b) { return a.rel < b.rel; });

  std::map<std::string, std::vector<const Case*>> by_id;
  for (const Case& c : cases) {
    for (const std::string& id : c.ids) by_id[id].push_back(&c);
  }
  std::vector<std::string> musts;
  for (const auto& [id, r] : reqs) {
    if (id.starts_with("MUST-")) musts.push_back(id);
  }
  std::sort(musts.begin(), musts.end(), id_less);
  int covered = 0;
  std::vector<std::string> uncovered;
  for (const std::string& id : musts) {
    const bool has_cases = by_id.count(id) != 0;
    if (has_cases && unchecked.count(id) != 0) {
      errors.push_back(id + " has cases and an unchecked.txt entry: drop one");
    }
    if (has_cases) ++covered;
    if (!has_cases && unchecked.count(id) == 0) uncovered.push_back(id);
  }
  for (const std::string& id : uncovered) {
    errors.push_back(id + " (" + reqs[id].text + ") has no case and no unchecked.txt entry");
  }

  std::ostringstream md;
  md << "# RFC 9293 MUSTs and the cases that check them\n\n"
     << "Generated by `synack musts conformance/` from each case's opening comment, "
        "`requirements/rfc9293.tsv` (RFC 9293 Appendix B) and `requirements/unchecked.txt`; "
        "do not edit by hand. CI runs `synack musts --check conformance/`, which fails when "
        "this file is stale, when a MUST has neither a case nor a reason it cannot be tested, "
        "or when a case fails on the built-in stack without being a known failure.\n\n"
     << "Verdicts: `inproc` is the built-in stack, run when this file is made; *known* means "
        "the case is listed in `known/<target>.txt` with the reason. `linux` is the verdict CI "
        "holds the case to on the Linux target (CTest `conformance_linux` fails when a case "
        "fails without being listed in `known/linux.txt`, or passes while listed); *not run* "
        "marks cases whose script spans more than the 200 s that `synack run` allows a "
        "real-time case by default (`--max-case-seconds 0` runs them).\n\n"
     << "**" << musts.size() << " MUSTs: " << covered << " checked by " << cases.size()
     << " cases in all, " << unchecked.size()
     << " without a case for the reason given (`requirements/unchecked.txt`), " << uncovered.size()
     << " not covered.**\n\n"
     << "| MUST | level | RFC 9293 | requirement | cases (verdicts) |\n"
     << "|---|---|---|---|---|\n";
  for (const std::string& id : musts) {
    requirement_cells(md, reqs[id]);
    if (auto it = by_id.find(id); it != by_id.end()) {
      case_cells(md, it->second);
    } else if (auto u = unchecked.find(id); u != unchecked.end()) {
      md << "no case: " << md_escape(u->second);
    } else {
      md << "**not covered**";
    }
    md << " |\n";
  }
  md << "\n## SHOULDs and MAYs cited by cases\n\n"
     << "| id | level | RFC 9293 | requirement | cases (verdicts) |\n"
     << "|---|---|---|---|---|\n";
  std::vector<std::string> others;
  for (const auto& [id, cs] : by_id) {
    if (!id.starts_with("MUST-")) others.push_back(id);
  }
  std::sort(others.begin(), others.end(), id_less);
  for (const std::string& id : others) {
    requirement_cells(md, reqs[id]);
    case_cells(md, by_id[id]);
    md << " |\n";
  }
  std::map<int, std::vector<const Case*>> by_rfc;
  for (const Case& c : cases) {
    for (int rfc : c.rfcs) by_rfc[rfc].push_back(&c);
  }
  md << "\n## Cases by RFC\n\n"
     << "Every case opens with the RFC (and section) it checks; these are the RFCs named.\n\n"
     << "| RFC | cases |\n|---|---|\n";
  for (const auto& [rfc, cs] : by_rfc) {
    md << "| RFC " << rfc << " | " << cs.size() << ": ";
    bool first = true;
    for (const Case* c : cs) {
      md << (first ? "" : ", ") << "[" << fs::path(c->rel).stem().string() << "](" << c->rel << ")";
      first = false;
    }
    md << " |\n";
  }
  const std::string text = md.str();

  for (const std::string& e : errors) std::fprintf(stderr, "synack musts: %s\n", e.c_str());
  if (check) {
    std::string have;
    if (std::FILE* f = std::fopen(output.c_str(), "rb")) {
      char buf[4096];
      for (std::size_t n = 0; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) have.append(buf, n);
      std::fclose(f);
    }
    if (have != text) {
      std::fprintf(stderr,
                   "synack musts: %s is stale: run 'synack musts %s' and commit the result\n",
                   output.c_str(), dir.c_str());
      return kExitFailure;
    }
    std::printf(
        "%s is up to date: %zu MUSTs, %d checked, %zu without a case (reasons given), %zu not "
        "covered\n",
        output.c_str(), musts.size(), covered, unchecked.size(), uncovered.size());
  } else {
    std::ofstream out(output, std::ios::binary);
    out << text;
    if (!out) {
      std::fprintf(stderr, "synack musts: cannot write %s\n", output.c_str());
      return kExitFailure;
    }
    std::printf(
        "wrote %s: %zu MUSTs, %d checked, %zu without a case (reasons given), %zu not covered\n",
        output.c_str(), musts.size(), covered, unchecked.size(), uncovered.size());
  }
  return errors.empty() ? kExitOk : kExitFailure;
}

}  // namespace synack::cli
