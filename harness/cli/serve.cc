// synack serve: the built-in stack on a tap device, answering the agent protocol.
#include "harness/serve/serve.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "harness/agent/address.h"
#include "harness/cli/commands.h"
#include "harness/target/tap.h"

namespace synack::cli {
namespace {

constexpr const char* kServeUsage =
    R"(Usage: synack serve --tap IFNAME --agent unix:PATH|HOST:PORT [--seed N]

Runs synack's own TCP/IP stack, in real time, attached to the tap device IFNAME (created if it
does not exist; an existing one, say a port of a bridge, is attached to), and answers the agent
control protocol (docs/agent-protocol.md) at the given address, so that

  synack run --target tap:OTHER_TAP,agent=unix:PATH conformance/

on the other side of the link tests the tap path end to end with no kernel TCP in the loop.

The stack has the addresses 192.168.0.1 and 192.168.0.3 (as the inproc target) and the MAC
02:53:59:4e:00:01; it answers ARP requests for both addresses, and sends its packets to the MAC
of the last host that sent it an IPv4 or ARP frame (broadcast until then). Its clock is
CLOCK_MONOTONIC. The agent's `reset` gives it a fresh stack, and `option` sets a knob as a
script's --name=value line does.

Options:
  --tap IFNAME     the tap device (at most 15 characters)
  --agent ADDR     where the agent listens: unix:PATH (a stale socket file is replaced), or
                   HOST:PORT with HOST a loopback address or one of this namespace's own
  --seed N         the stack's random seed (ISNs, ...), also after each reset (default 1)
  -h, --help       this text

Runs until SIGINT or SIGTERM, then removes the unix socket file and exits 0; exits 1 if the tap
device goes away (deleted, or its namespace removed).

Exit status: 0 after a signal; 1 when the tap or the agent address cannot be set up, or the tap
goes away; 2 on a
usage error, or when not root or without /dev/net/tun.
)";

int usage_error(const std::string& what) {
  std::fprintf(stderr, "synack serve: %s; see 'synack serve --help'\n", what.c_str());
  return kExitUsage;
}

}  // namespace

int run_serve(const std::vector<std::string_view>& args) {
  serve::ServeConfig config;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string a(args[i]);
    auto value = [&](const char* name) -> std::optional<std::string> {
      const std::string eq = std::string(name) + "=";
      if (a.starts_with(eq)) return a.substr(eq.size());
      if (a == name && i + 1 < args.size()) return std::string(args[++i]);
      return std::nullopt;
    };
    if (a == "-h" || a == "--help") {
      std::fputs(kServeUsage, stdout);
      return kExitOk;
    }
    if (auto tap = value("--tap")) {
      config.ifname = *tap;
    } else if (auto agent = value("--agent")) {
      config.agent = *agent;
    } else if (auto seed = value("--seed")) {
      char* end = nullptr;
      errno = 0;
      const unsigned long long n = std::strtoull(seed->c_str(), &end, 10);
      if (seed->empty() || *end != '\0' || errno != 0 || (*seed)[0] == '-') {
        return usage_error("--seed needs a non-negative integer, not '" + *seed + "'");
      }
      config.seed = n;
    } else if (a.starts_with("-")) {
      return usage_error("unknown option '" + a + "' (or it needs a value)");
    } else {
      return usage_error("unexpected argument '" + a + "'");
    }
  }
  if (config.ifname.empty()) return usage_error("--tap IFNAME is required");
  if (config.ifname.size() >= 16) {
    return usage_error("tap device name '" + config.ifname + "' is longer than 15 characters");
  }
  if (config.agent.empty()) return usage_error("--agent unix:PATH or HOST:PORT is required");
  if (auto where = agent::parse_agent_address(config.agent); !where) {
    return usage_error("--agent " + where.error().message);
  }
  if (std::string why = target::tap_unavailable(); !why.empty()) {
    std::fprintf(stderr, "synack serve: %s\n", why.c_str());
    return kExitUsage;
  }

  boost::asio::io_context io;
  // Signals first, so that one arriving while the tap opens still ends the loop cleanly.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  auto server = serve::TapServer::create(io, config);
  if (!server) {
    std::fprintf(stderr, "synack serve: %s\n", server.error().c_str());
    return kExitFailure;
  }
  int caught = 0;
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (!ec) caught = signo;
    io.stop();
  });
  std::printf("synack serve: stack 192.168.0.1 (alias 192.168.0.3) on tap %s, agent at %s\n",
              config.ifname.c_str(), (*server)->agent_address().c_str());
  std::fflush(stdout);
  io.run();
  const serve::ServeCounters c = (*server)->counters();
  const std::string failure = (*server)->failure();
  server->reset();  // closes the tap, removes the unix socket file
  if (!failure.empty()) {
    std::fprintf(stderr, "synack serve: %s; exiting\n", failure.c_str());
    return kExitFailure;
  }
  std::printf(
      "synack serve: %s; %llu packets in, %llu out, %llu ARP replies, %llu frames ignored\n",
      caught == SIGINT ? "SIGINT" : "SIGTERM", static_cast<unsigned long long>(c.packets_in),
      static_cast<unsigned long long>(c.packets_out),
      static_cast<unsigned long long>(c.arp_replies), static_cast<unsigned long long>(c.ignored));
  return kExitOk;
}

}  // namespace synack::cli
