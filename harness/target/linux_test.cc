// The linux target and its namespaces (label root: skipped with the reason when not root or
// without /dev/net/tun). The child-process tests start `synack run --target linux` and signal it
// by the PID they got from fork (never by name).
#include "harness/target/linux.h"

#include <array>
#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <signal.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/script/parser.h"
#include "harness/script/runner.h"

namespace synack::target {
namespace {

using ::testing::HasSubstr;

#define SKIP_UNLESS_LINUX_TARGET_CAN_RUN()                                               \
  do {                                                                                   \
    if (std::string why = linux_target_unavailable(); !why.empty()) GTEST_SKIP() << why; \
  } while (0)

// The namespaces whose name says `pid` made them.
std::vector<std::string> namespaces_of(pid_t pid) {
  std::vector<std::string> out;
  const std::string prefix = std::string(kNetnsPrefix) + std::to_string(pid) + "-";
  for (const std::string& n : list_synack_namespaces()) {
    if (n.starts_with(prefix)) out.push_back(n);
  }
  return out;
}

constexpr const char* kHandshake = R"(// a passive open
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0  bind(3, ..., ...) = 0
+0  listen(3, 1) = 0
+0  < S 0:0(0) win 65535 <mss 1460>
+0  > S. 0:0(0) ack 1 <mss 1460>
+.01 < . 1:1(0) ack 1 win 65535
+0  accept(3, ..., ...) = 4
+0  %{ assert tcpi_state == TCP_ESTABLISHED }%
)";

script::CaseResult run_on_linux(const std::string& text) {
  auto parsed = script::parse_script(text, "t.pkt");
  if (auto* e = std::get_if<script::ScriptError>(&parsed)) {
    ADD_FAILURE() << e->to_string();
    return {};
  }
  auto t = LinuxTarget::create();
  if (!t) {
    ADD_FAILURE() << t.error();
    return {};
  }
  return script::run_script(std::get<script::Script>(parsed), **t, {});
}

TEST(LinuxTarget, ThreeWayHandshakePasses) {
  SKIP_UNLESS_LINUX_TARGET_CAN_RUN();
  const script::CaseResult r = run_on_linux(kHandshake);
  EXPECT_EQ(r.verdict, script::CaseResult::Verdict::kPass) << r.message;
  EXPECT_EQ(r.link.size(), 3U);
}

TEST(LinuxTarget, WrongExpectationFailsNamingTheField) {
  SKIP_UNLESS_LINUX_TARGET_CAN_RUN();
  std::string text = kHandshake;
  text.replace(text.find("> S. 0:0(0) ack 1"), 17, "> S. 0:0(0) ack 2");
  const script::CaseResult r = run_on_linux(text);
  EXPECT_EQ(r.verdict, script::CaseResult::Verdict::kFail);
  EXPECT_THAT(r.message,
              HasSubstr("t.pkt:7:1: outbound segment differs: ack (expected 2, actual 1)"));
}

TEST(LinuxTarget, LateSegmentSaysByHowMuch) {
  SKIP_UNLESS_LINUX_TARGET_CAN_RUN();
  // Linux retransmits the SYN,ACK after its 1 s initial RTO, not after 0.5 s.
  std::string text = kHandshake;
  text.resize(text.find("+.01 <"));
  text += "+0.5 > S. 0:0(0) ack 1 <mss 1460>\n";
  const script::CaseResult r = run_on_linux(text);
  EXPECT_EQ(r.verdict, script::CaseResult::Verdict::kFail);
  EXPECT_THAT(r.message,
              ::testing::ContainsRegex("expected segment did not arrive by 0\\.56[0-9]+ \\(script "
                                       "time\\); the next segment came 0\\.4[0-9]+ s later than "
                                       "that, at 1\\.0[0-9]+: .*Flags \\[S\\.\\]"));
}

TEST(LinuxTarget, TimeWaitIsReportedFromTheKernelsTable) {
  SKIP_UNLESS_LINUX_TARGET_CAN_RUN();
  // The fd's own TCP_INFO reads TCP_CLOSE once the connection is a timewait mini-socket; the
  // target reports the connection's state (sock_diag), as the scripts mean it.
  const script::CaseResult r =
      run_on_linux(std::string(kHandshake) + R"(+.01 shutdown(4, SHUT_WR) = 0
+0  > F. 1:1(0) ack 1
+.01 < F. 1:1(0) ack 2 win 65535
+0  > . 2:2(0) ack 2
+0  %{ assert tcpi_state == TCP_TIME_WAIT }%
)");
  EXPECT_EQ(r.verdict, script::CaseResult::Verdict::kPass) << r.message;
}

TEST(LinuxTarget, RefusedBlockingConnectReportsEconnrefused) {
  SKIP_UNLESS_LINUX_TARGET_CAN_RUN();
  // Linux sets POLLOUT as well as POLLERR on a refused connect; the target finishes the
  // connect() as a blocking caller would and reports its error.
  const script::CaseResult r = run_on_linux(R"(0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0...0.05 connect(3, ..., ...) = -1 ECONNREFUSED (Connection refused)
+0  > S 0:0(0) <...>
+.05 < R. 0:0(0) ack 1 win 0
)");
  EXPECT_EQ(r.verdict, script::CaseResult::Verdict::kPass) << r.message;
}

TEST(LinuxTarget, KnobsAreNamespaceSysctls) {
  SKIP_UNLESS_LINUX_TARGET_CAN_RUN();
  auto t = LinuxTarget::create();
  ASSERT_TRUE(t) << t.error();
  LinuxTarget& l = **t;
  EXPECT_EQ(l.set_option("tcp_syncookies", "2"), OptionStatus::kApplied);
  EXPECT_EQ(l.netns().read_sysctl("net/ipv4/tcp_syncookies"), "2");
  EXPECT_EQ(l.set_option("tcp_syn_retries", "0"), OptionStatus::kBadValue);
  EXPECT_EQ(l.set_option("tcp_syn_retries", "x"), OptionStatus::kBadValue);
  EXPECT_EQ(l.set_option("tcp_slow_start_after_idle", "0"), OptionStatus::kApplied);
  EXPECT_EQ(l.netns().read_sysctl("net/ipv4/tcp_slow_start_after_idle"), "0");
  EXPECT_EQ(l.set_option("tcp_msl", "5"), OptionStatus::kUnsupported);
  EXPECT_EQ(l.set_option("tcp_delack_ms", "40"), OptionStatus::kUnsupported);
  EXPECT_EQ(l.set_option("mss", "1000"), OptionStatus::kUnsupported);
  EXPECT_EQ(l.netns().read_sysctl("net/ipv4/tcp_congestion_control"), "reno");
  // On this kernel the challenge ACK limit is per namespace; setting it must not touch the host.
  std::ifstream host_file("/proc/sys/net/ipv4/tcp_challenge_ack_limit");
  std::string host_before;
  host_file >> host_before;
  const OptionStatus s = l.set_option("tcp_challenge_ack_limit", "3");
  if (s == OptionStatus::kApplied) {
    EXPECT_EQ(l.netns().read_sysctl("net/ipv4/tcp_challenge_ack_limit"), "3");
  } else {
    EXPECT_EQ(s, OptionStatus::kUnsupported);
  }
  std::ifstream again("/proc/sys/net/ipv4/tcp_challenge_ack_limit");
  std::string host_after;
  again >> host_after;
  EXPECT_EQ(host_before, host_after);
}

TEST(LinuxTarget, FdsItDidNotMakeAreEbadf) {
  SKIP_UNLESS_LINUX_TARGET_CAN_RUN();
  auto t = LinuxTarget::create();
  ASSERT_TRUE(t) << t.error();
  SockCall c;
  c.op = SockCall::Op::kClose;
  c.fd = 1;  // stdout: never closed on a script's behalf
  const SockResult r = (*t)->call(c);
  EXPECT_EQ(r.ret, -1);
  EXPECT_EQ(r.err, EBADF);
  EXPECT_NE(::fcntl(1, F_GETFD), -1);
}

TEST(Netns, CreatedByNameAndRemovedOnDestruction) {
  SKIP_UNLESS_LINUX_TARGET_CAN_RUN();
  std::string name;
  {
    auto ns = NetNs::create();
    ASSERT_TRUE(ns) << ns.error();
    name = (*ns)->name();
    EXPECT_THAT(name, ::testing::MatchesRegex("synack-[0-9]+-[0-9]+"));
    EXPECT_THAT(namespaces_of(::getpid()), ::testing::Contains(name));
  }
  EXPECT_THAT(namespaces_of(::getpid()), ::testing::Not(::testing::Contains(name)));
}

TEST(Netns, StaleOnlyWhenItsProcessIsGone) {
  SKIP_UNLESS_LINUX_TARGET_CAN_RUN();
  // A pid that certainly was alive and is no longer: a child we reaped.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  // (Numbers no run gives its namespaces, so a name cannot already exist.)
  const std::string dead = std::string(kNetnsPrefix) + std::to_string(child) + "-99998";
  const std::string alive = std::string(kNetnsPrefix) + std::to_string(::getpid()) + "-99999";
  for (const std::string& name : {dead, alive}) {
    const CommandResult r = run_command({"ip", "netns", "add", name});
    ASSERT_EQ(r.status, 0) << "ip netns add " << name << ": " << r.output;
  }
  // Another synack process (a test running beside this one) may sweep `dead` first: each run
  // sweeps when it makes its first namespace. So: gone afterwards, whoever removed it.
  const auto removed = remove_stale_namespaces();
  EXPECT_THAT(removed, ::testing::Not(::testing::Contains(alive)));
  EXPECT_THAT(list_synack_namespaces(), ::testing::Not(::testing::Contains(dead)));
  EXPECT_THAT(list_synack_namespaces(), ::testing::Contains(alive));
  EXPECT_EQ(delete_namespace(alive), "");
}

// --- synack run as a child process

class SynackRun : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = linux_target_unavailable(); !why.empty()) GTEST_SKIP() << why;
    dir_ = std::filesystem::temp_directory_path() /
           ("synack-linux-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (child_ > 0) {
      ::kill(child_, SIGKILL);
      ::waitpid(child_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string write_case(const std::string& name, const std::string& text) {
    const auto p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  // Starts `synack run --target linux FILE` with output to a file; returns its pid.
  pid_t start(const std::string& file) {
    const std::string out = (dir_ / "out.txt").string();
    child_ = ::fork();
    if (child_ == 0) {
      const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execl(SYNACK_BINARY, "synack", "run", "--target", "linux", file.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    return child_;
  }
  // Waits for the child; returns its wait status.
  int wait() {
    int status = 0;
    ::waitpid(child_, &status, 0);
    child_ = -1;
    return status;
  }
  bool wait_for_namespace(pid_t pid) {
    for (int i = 0; i < 500; ++i) {
      if (!namespaces_of(pid).empty()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  std::string output() const {
    std::ifstream f(dir_ / "out.txt");
    std::string all;
    for (std::string line; std::getline(f, line);) all += line + "\n";
    return all;
  }

  std::filesystem::path dir_;
  pid_t child_ = -1;
};

// Long enough to be signalled while it runs.
constexpr const char* kSlowCase = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+30 > none\n";

TEST_F(SynackRun, PassingCaseLeavesNoNamespace) {
  const pid_t pid = start(write_case("pass.pkt", kHandshake));
  const int status = wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output();
  EXPECT_THAT(namespaces_of(pid), ::testing::IsEmpty());
}

TEST_F(SynackRun, FailingCaseLeavesNoNamespace) {
  std::string text = kHandshake;
  text.replace(text.find("ack 1 <mss"), 5, "ack 9");
  const pid_t pid = start(write_case("fail.pkt", text));
  const int status = wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << output();
  EXPECT_THAT(output(), HasSubstr("FAIL"));
  EXPECT_THAT(namespaces_of(pid), ::testing::IsEmpty());
}

TEST_F(SynackRun, SigtermRemovesTheNamespaceThenKillsTheRun) {
  const pid_t pid = start(write_case("slow.pkt", kSlowCase));
  ASSERT_TRUE(wait_for_namespace(pid)) << output();
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  const int status = wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << output();
  EXPECT_THAT(namespaces_of(pid), ::testing::IsEmpty());
}

TEST_F(SynackRun, SigintToo) {
  const pid_t pid = start(write_case("slow.pkt", kSlowCase));
  ASSERT_TRUE(wait_for_namespace(pid)) << output();
  ASSERT_EQ(::kill(pid, SIGINT), 0);
  const int status = wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT) << output();
  EXPECT_THAT(namespaces_of(pid), ::testing::IsEmpty());
}

TEST_F(SynackRun, NamespaceLeftBySigkillIsRemovedByTheNextRun) {
  const pid_t pid = start(write_case("slow.pkt", kSlowCase));
  ASSERT_TRUE(wait_for_namespace(pid)) << output();
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  wait();
  const auto left = namespaces_of(pid);
  ASSERT_EQ(left.size(), 1U) << "SIGKILL cannot be caught: its namespace stays until next time";
  const pid_t next = start(write_case("pass.pkt", kHandshake));
  const int status = wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output();
  EXPECT_THAT(output(), HasSubstr("removed stale namespace " + left[0]));
  EXPECT_THAT(namespaces_of(pid), ::testing::IsEmpty());
  EXPECT_THAT(namespaces_of(next), ::testing::IsEmpty());
}

TEST(SynackRunUnprivileged, NotRootIsAOneLineErrorWithExitStatus2) {
  // As root, drop to nobody in the child; otherwise run as we are.
  std::array<int, 2> pipe_fds{};
  ASSERT_EQ(::pipe(pipe_fds.data()), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(pipe_fds[1], 2);
    ::dup2(pipe_fds[1], 1);
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(126);
    ::execl(SYNACK_BINARY, "synack", "run", "--target", "linux", "/nonexistent.pkt",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  std::string out;
  std::array<char, 512> buf{};
  for (ssize_t n; (n = ::read(pipe_fds[0], buf.data(), buf.size())) > 0;) {
    out.append(buf.data(), static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2) << out;
  EXPECT_EQ(out,
            "synack run: the linux target needs root (it creates a network namespace and a "
            "tap device)\n");
}

}  // namespace
}  // namespace synack::target
