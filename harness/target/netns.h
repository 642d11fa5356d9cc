// Named network namespaces that synack creates and removes: `synack-<pid>-<n>`, <pid> this
// process, <n> a counter, so the name alone says who made it and whether that process lives.
//
// Created with Debian's iproute2 (`ip netns add NAME`): the namespace is then an ordinary named
// one, listed by `ip netns list`, usable with `ip -n NAME` and `ip netns exec` for debugging, and
// iproute2 sets up /run/netns's mount propagation as every other tool expects. Removed directly
// with the two syscalls `ip netns del` makes (umount2(MNT_DETACH) and unlink of
// /run/netns/NAME): they are async-signal-safe, so the SIGINT/SIGTERM handler can remove every
// live namespace of this process before re-raising the signal. Only names this process made are
// removed, and stale ones only when their <pid> is no longer alive: never anything else.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/wire/result.h"

namespace synack::target {

inline constexpr const char* kNetnsPrefix = "synack-";
inline constexpr const char* kNetnsDir = "/run/netns";

class NetNs {
 public:
  // Creates a fresh namespace `synack-<pid>-<n>`. The first call in a process also removes stale
  // namespaces (see remove_stale_namespaces) and installs the SIGINT/SIGTERM cleanup. Errors say
  // what failed and what is needed ("ip netns add synack-12-0: ... (needs root)").
  static wire::Result<std::unique_ptr<NetNs>, std::string> create();

  // Deletes the namespace (by its exact name).
  ~NetNs();
  NetNs(const NetNs&) = delete;
  NetNs& operator=(const NetNs&) = delete;

  const std::string& name() const { return name_; }
  std::string path() const;  // /run/netns/NAME

  // Runs `ip -n NAME -batch -` with these commands, one per line ("link set lo up"). Returns ""
  // or the command and what ip printed.
  std::string ip_batch(const std::vector<std::string>& commands) const;

  // Moves the calling thread into the namespace for the guard's lifetime (setns), and back into
  // the one it was in. Sockets and tap devices created meanwhile belong to the namespace, and
  // /proc/sys/net opened meanwhile is the namespace's.
  class Enter {
   public:
    explicit Enter(const NetNs& ns);
    ~Enter();
    Enter(const Enter&) = delete;
    Enter& operator=(const Enter&) = delete;
    // "" when the thread is inside; else why setns failed (the guard then does nothing).
    const std::string& error() const { return error_; }

   private:
    int original_ = -1;
    std::string error_;
  };

  // Writes /proc/sys/<key> inside the namespace ("net/ipv4/tcp_sack", "0"). Returns "" on
  // success, "absent" when the namespace has no such file (a sysctl that is global on this
  // kernel, or unknown), else the error.
  std::string write_sysctl(const std::string& key, const std::string& value) const;
  std::optional<std::string> read_sysctl(const std::string& key) const;

 private:
  explicit NetNs(std::string name, int slot) : name_(std::move(name)), slot_(slot) {}
  std::string name_;
  int slot_;
  int fd_ = -1;  // open /run/netns/NAME, for setns
};

// Namespaces named synack-<pid>-<n> whose <pid> is not a live process (a run killed by SIGKILL
// or a crash) are removed; one whose pid lives is never touched. Returns the names removed.
std::vector<std::string> remove_stale_namespaces();

// The synack-* namespaces that exist now (names under /run/netns), for tests and diagnostics.
std::vector<std::string> list_synack_namespaces();

// Removes /run/netns/NAME the way `ip netns del` does. Returns "" or the error.
std::string delete_namespace(const std::string& name);

// Why a linux target cannot run here, or "" when it can: root (CAP_SYS_ADMIN and
// CAP_NET_ADMIN, checked as euid 0), /dev/net/tun, and iproute2's ip.
std::string linux_target_unavailable();

// Runs argv (argv[0] found in /usr/sbin, /sbin, /usr/bin, /bin) with `input` on stdin; returns
// its exit status (or -1 when it could not start) and what it printed on stdout and stderr.
struct CommandResult {
  int status = -1;
  std::string output;
};
CommandResult run_command(const std::vector<std::string>& argv, const std::string& input = "");

}  // namespace synack::target
