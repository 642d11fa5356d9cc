#include "harness/target/netns.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <mutex>
#include <sched.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <system_error>
#include <unistd.h>

extern char** environ;  // NOLINT: POSIX declares it nowhere else

namespace synack::target {
namespace {

// strerror's text, thread-safely.
std::string errno_message(int err) { return std::generic_category().message(err); }

// Live namespaces of this process, readable from a signal handler: fixed slots, each a path
// and an atomic state. A slot is marked live before `ip netns add` runs, so a signal at any
// moment finds every namespace that might exist.
constexpr int kSlots = 512;
constexpr std::size_t kPathMax = 96;
struct Slot {
  std::atomic<int> state{0};  // 0 free, 1 being filled, 2 live
  std::array<char, kPathMax> path{};
};
std::array<Slot, kSlots> g_slots;  // NOLINT: the signal handler needs a static registry
std::atomic<unsigned> g_counter{0};
std::once_flag g_init;
std::mutex g_create_mutex;  // iproute2 sets up /run/netns racily when called concurrently

void remove_path(const char* path) {
  // What `ip netns del` does: detach the bind mount that keeps the namespace alive, then remove
  // the file. Both are plain syscalls: safe in a signal handler.
  ::umount2(path, MNT_DETACH);
  ::unlink(path);
}

extern "C" void cleanup_on_signal(int sig) {
  for (Slot& s : g_slots) {
    if (s.state.load() == 2) remove_path(s.path.data());
  }
  // Then die of the signal as if no handler had been there (exit status says which signal).
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void install_signal_cleanup() {
  struct sigaction sa {};
  sa.sa_handler = cleanup_on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old {};
    ::sigaction(sig, nullptr, &old);
    if (old.sa_handler == SIG_IGN) continue;  // e.g. nohup: keep ignoring
    ::sigaction(sig, &sa, nullptr);
  }
}

int claim_slot(const std::string& path) {
  for (int i = 0; i < kSlots; ++i) {
    int expected = 0;
    if (g_slots[static_cast<std::size_t>(i)].state.compare_exchange_strong(expected, 1)) {
      Slot& s = g_slots[static_cast<std::size_t>(i)];
      std::snprintf(s.path.data(), s.path.size(), "%s", path.c_str());
      s.state.store(2);
      return i;
    }
  }
  return -1;
}

void release_slot(int i) {
  if (i >= 0) g_slots[static_cast<std::size_t>(i)].state.store(0);
}

std::string find_program(const std::string& name) {
  for (const char* dir : {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"}) {
    std::string p = dir + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return {};
}

// synack-<pid>-<n>: the pid, or nullopt for a name that does not have this shape.
std::optional<pid_t> pid_of(const std::string& name) {
  const std::string prefix = kNetnsPrefix;
  if (!name.starts_with(prefix)) return std::nullopt;
  const std::string rest = name.substr(prefix.size());
  const auto dash = rest.find('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 >= rest.size()) return std::nullopt;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (i != dash && (rest[i] < '0' || rest[i] > '9')) return std::nullopt;
  }
  if (dash > 9) return std::nullopt;
  return static_cast<pid_t>(std::stol(rest.substr(0, dash)));
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, const std::string& input) {
  CommandResult r;
  const std::string program = argv.empty() ? "" : find_program(argv[0]);
  if (program.empty()) {
    r.output = (argv.empty() ? std::string("?") : argv[0]) +
               ": not found in /usr/sbin, /sbin, /usr/bin or /bin (install iproute2)";
    return r;
  }
  std::array<int, 2> in{-1, -1};
  std::array<int, 2> out{-1, -1};
  if (::pipe2(in.data(), O_CLOEXEC) != 0 || ::pipe2(out.data(), O_CLOEXEC) != 0) {
    r.output = "pipe: " + errno_message(errno);
    for (int fd : {in[0], in[1], out[0], out[1]}) {
      if (fd >= 0) ::close(fd);
    }
    return r;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, out[1], 2);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));  // NOLINT
  args.push_back(nullptr);
  pid_t pid = -1;
  const int err = posix_spawn(&pid, program.c_str(), &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(in[0]);
  ::close(out[1]);
  if (err != 0) {
    ::close(in[1]);
    ::close(out[0]);
    r.output = program + ": " + errno_message(err);
    return r;
  }
  // The input is a few lines: it fits the pipe, so writing it all first cannot deadlock.
  std::size_t at = 0;
  while (at < input.size()) {
    const ssize_t n = ::write(in[1], input.data() + at, input.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    at += static_cast<std::size_t>(n);
  }
  ::close(in[1]);
  std::array<char, 4096> buf{};
  for (;;) {
    const ssize_t n = ::read(out[0], buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    r.output.append(buf.data(), static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  while (!r.output.empty() && r.output.back() == '\n') r.output.pop_back();
  return r;
}

std::string linux_target_unavailable() {
  if (::geteuid() != 0) {
    return "the linux target needs root (it creates a network namespace and a tap device)";
  }
  if (::access("/dev/net/tun", R_OK | W_OK) != 0) {
    return "the linux target needs /dev/net/tun (" + errno_message(errno) +
           "; load the tun module or, in a container, pass the device in)";
  }
  if (find_program("ip").empty()) {
    return "the linux target needs iproute2's ip (apt-get install iproute2)";
  }
  return {};
}

std::string delete_namespace(const std::string& name) {
  const std::string path = std::string(kNetnsDir) + "/" + name;
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return "umount " + path + ": " + errno_message(errno);
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return "unlink " + path + ": " + errno_message(errno);
  }
  return {};
}

std::vector<std::string> list_synack_namespaces() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(kNetnsDir, ec)) {
    std::string n = e.path().filename().string();
    if (n.starts_with(kNetnsPrefix)) names.push_back(std::move(n));
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> remove_stale_namespaces() {
  std::vector<std::string> removed;
  for (const std::string& n : list_synack_namespaces()) {
    const auto pid = pid_of(n);
    if (!pid || *pid <= 0) continue;  // not ours in shape: leave it
    // kill(pid, 0): ESRCH means no such process. EPERM means alive (someone else's).
    if (::kill(*pid, 0) == 0 || errno != ESRCH) continue;
    if (delete_namespace(n).empty()) removed.push_back(n);
  }
  return removed;
}

wire::Result<std::unique_ptr<NetNs>, std::string> NetNs::create() {
  if (std::string why = linux_target_unavailable(); !why.empty()) return why;
  std::call_once(g_init, [] {
    remove_stale_namespaces();
    install_signal_cleanup();
  });
  const std::string name = std::string(kNetnsPrefix) + std::to_string(::getpid()) + "-" +
                           std::to_string(g_counter.fetch_add(1));
  const int slot = claim_slot(std::string(kNetnsDir) + "/" + name);
  if (slot < 0) return std::string("too many live namespaces in one process");
  std::unique_ptr<NetNs> ns(new NetNs(name, slot));  // from here on, deleted on every path
  {
    const std::lock_guard<std::mutex> lock(g_create_mutex);
    const CommandResult r = run_command({"ip", "netns", "add", name});
    if (r.status != 0) return "ip netns add " + name + ": " + r.output;
  }
  ns->fd_ = ::open(ns->path().c_str(), O_RDONLY | O_CLOEXEC);
  if (ns->fd_ < 0) return "open " + ns->path() + ": " + errno_message(errno);
  return ns;
}

NetNs::~NetNs() {
  if (fd_ >= 0) ::close(fd_);
  delete_namespace(name_);
  release_slot(slot_);
}

std::string NetNs::path() const { return std::string(kNetnsDir) + "/" + name_; }

std::string NetNs::ip_batch(const std::vector<std::string>& commands) const {
  std::string input;
  for (const std::string& c : commands) input += c + "\n";
  const CommandResult r = run_command({"ip", "-n", name_, "-batch", "-"}, input);
  if (r.status == 0) return {};
  return "ip -n " + name_ + " -batch: " + (r.output.empty() ? "failed" : r.output);
}

NetNs::Enter::Enter(const NetNs& ns) {
  original_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (original_ < 0) {
    error_ = "open /proc/thread-self/ns/net: " + errno_message(errno);
    return;
  }
  if (::setns(ns.fd_, CLONE_NEWNET) != 0) {
    error_ = "setns into " + ns.name() + ": " + errno_message(errno);
    ::close(original_);
    original_ = -1;
  }
}

NetNs::Enter::~Enter() {
  if (original_ < 0) return;
  ::setns(original_, CLONE_NEWNET);
  ::close(original_);
}

std::string NetNs::write_sysctl(const std::string& key, const std::string& value) const {
  const Enter in(*this);
  if (!in.error().empty()) return in.error();
  const std::string path = "/proc/sys/" + key;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? "absent" : path + ": " + errno_message(errno);
  const ssize_t n = ::write(fd, value.data(), value.size());
  const int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(value.size())) {
    return "write " + value + " to " + path + ": " + errno_message(err);
  }
  return {};
}

std::optional<std::string> NetNs::read_sysctl(const std::string& key) const {
  const Enter in(*this);
  if (!in.error().empty()) return std::nullopt;
  const std::string path = "/proc/sys/" + key;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::array<char, 256> buf{};
  const ssize_t n = ::read(fd, buf.data(), buf.size());
  ::close(fd);
  if (n < 0) return std::nullopt;
  std::string s(buf.data(), static_cast<std::size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace synack::target
