#include "harness/agent/address.h"

#include <arpa/inet.h>
#include <charconv>
#include <cstring>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/un.h>

namespace synack::agent {
namespace {

// Whether `addr` (host order) is assigned to an interface of this network namespace.
bool is_local_interface_address(std::uint32_t addr) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return false;
  bool found = false;
  for (const ifaddrs* i = list; i != nullptr && !found; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    sockaddr_in in{};
    std::memcpy(&in, i->ifa_addr, sizeof in);
    found = ntohl(in.sin_addr.s_addr) == addr;
  }
  freeifaddrs(list);
  return found;
}

}  // namespace

std::string AgentAddress::to_string() const {
  if (kind == Kind::kUnix) return "unix:" + path;
  return format_addr(host) + ":" + std::to_string(port);
}

Parsed<AgentAddress> parse_agent_address(std::string_view text) {
  const std::string shown = "agent address '" + std::string(text) + "'";
  AgentAddress a;
  if (text.starts_with("unix:")) {
    a.kind = AgentAddress::Kind::kUnix;
    a.path = text.substr(5);
    constexpr std::size_t kMaxPath = sizeof(sockaddr_un::sun_path) - 1;
    if (a.path.empty()) return Error{shown + ": unix: needs a path (unix:/run/agent.sock)"};
    if (a.path.size() > kMaxPath) {
      return Error{shown + ": the path is " + std::to_string(a.path.size()) +
                   " bytes; a unix socket path holds at most " + std::to_string(kMaxPath)};
    }
    if (a.path.find('\0') != std::string::npos) return Error{shown + ": the path has a NUL byte"};
    return a;
  }
  a.kind = AgentAddress::Kind::kTcp;
  if (text.starts_with("[")) {
    return Error{shown + ": IPv6 is not supported; use 127.0.0.1:PORT or unix:PATH"};
  }
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return Error{shown + ": expected unix:PATH or HOST:PORT"};
  }
  const std::string_view host = text.substr(0, colon);
  const std::string_view port = text.substr(colon + 1);
  unsigned p = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || p > 65535) {
    return Error{shown + ": port '" + std::string(port) + "' is not a number from 0 to 65535"};
  }
  a.port = static_cast<std::uint16_t>(p);
  const auto addr =
      host == "localhost" ? std::optional<std::uint32_t>(0x7f000001) : parse_addr(host);
  if (!addr) {
    return Error{shown + ": host '" + std::string(host) +
                 "' is not a dotted-quad IPv4 address or localhost"};
  }
  a.host = *addr;
  const bool loopback = (a.host >> 24U) == 127;
  if (!loopback && !is_local_interface_address(a.host)) {
    return Error{shown + ": " + format_addr(a.host) +
                 " is neither a loopback address nor an address of this network namespace; the "
                 "agent protocol has no authentication and must not cross a network"};
  }
  return a;
}

}  // namespace synack::agent
