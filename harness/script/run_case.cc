#include "harness/script/run_case.h"

#include "harness/agent/client.h"
#include "harness/script/oracle_observer.h"
#include "harness/target/inproc.h"
#include "harness/target/linux.h"
#include "harness/target/netns.h"

namespace synack::script {

std::string TargetSpec::kind_name() const {
  switch (kind) {
    case Kind::kInproc:
      return "inproc";
    case Kind::kLinux:
      return "linux";
    case Kind::kTap:
      return "tap";
  }
  return "inproc";
}

wire::Result<TargetSpec, std::string> parse_target_spec(std::string_view text) {
  TargetSpec spec;
  if (text == "inproc") return spec;
  if (text == "linux") {
    spec.kind = TargetSpec::Kind::kLinux;
    return spec;
  }
  if (text.starts_with("tap:")) {
    auto tap = target::parse_tap_spec(text);
    if (!tap) return tap.error();
    spec.kind = TargetSpec::Kind::kTap;
    spec.tap = *tap;
    return spec;
  }
  return "unknown target '" + std::string(text) +
         "' (this build has: inproc, linux, tap:IFNAME[,agent=ADDR])";
}

std::string target_unavailable(const TargetSpec& spec) {
  switch (spec.kind) {
    case TargetSpec::Kind::kInproc:
      return {};
    case TargetSpec::Kind::kLinux:
      return target::linux_target_unavailable();
    case TargetSpec::Kind::kTap:
      return target::tap_unavailable();
  }
  return {};
}

wire::Result<std::unique_ptr<target::Target>, std::string> make_target(const TargetSpec& spec,
                                                                       link::TapLink* link,
                                                                       std::uint64_t seed) {
  switch (spec.kind) {
    case TargetSpec::Kind::kInproc:
      return std::unique_ptr<target::Target>(std::make_unique<target::InprocTarget>(seed));
    case TargetSpec::Kind::kLinux: {
      auto t = target::LinuxTarget::create();
      if (!t) return "cannot set up the linux target: " + t.error();
      return std::unique_ptr<target::Target>(std::move(*t));
    }
    case TargetSpec::Kind::kTap: {
      auto t =
          link ? target::TapTarget::create(spec.tap, *link) : target::TapTarget::create(spec.tap);
      if (!t) return "cannot set up the tap target: " + t.error();
      return std::unique_ptr<target::Target>(std::move(*t));
    }
  }
  return std::string("unknown target kind");
}

namespace {

// The first error the target's link reported (a failed write), for a failure's message.
std::string link_error(const target::Target& t) {
  if (const auto* l = dynamic_cast<const target::LinuxTarget*>(&t)) return l->link_error();
  if (const auto* tap = dynamic_cast<const target::TapTarget*>(&t)) return tap->link_error();
  return {};
}

}  // namespace

CaseRun run_case(const Script& script, const TargetSpec& spec, const RunOptions& options,
                 link::TapLink* link) {
  CaseRun out;
  // The black-box oracle watches every segment of every case, whatever the script says.
  oracle::OracleOptions oo;
  if (spec.kind != TargetSpec::Kind::kInproc) oo.rto_slack_percent = options.tolerance_percent;
  OracleObserver oracle(oo);
  auto target = make_target(spec, link);
  if (!target) {
    out.target_error = true;
    out.result.verdict = CaseResult::Verdict::kError;
    out.result.message = target.error();
    return out;
  }
  try {
    out.result = run_script(script, **target, options, &oracle);
  } catch (const agent::AgentError& e) {
    // A dead or silent agent ends this case, not the run: the next case reconnects.
    out.target_error = true;
    out.result = CaseResult{};
    out.result.verdict = CaseResult::Verdict::kError;
    out.result.message = e.what();
  }
  if (out.result.verdict == CaseResult::Verdict::kFail) {
    if (std::string err = link_error(**target); !err.empty()) {
      out.result.message += "\n  (tap link: " + err + ")";
    }
  }
  return out;
}

}  // namespace synack::script
