// TapLink: the harness's end of an Ethernet link to a stack over a Linux tap device.
//
// The harness plays one IPv4 host on the link (its own MAC and address). It writes IPv4 packets
// inside Ethernet frames to the stack's MAC, answers ARP requests for its own address (RFC 826),
// and hands back the IPv4 packets the stack sends, each stamped on CLOCK_MONOTONIC in
// microseconds when it was read off the device. Everything else (IPv6, ARP not for us, other
// ethertypes, frames that do not parse) is counted and dropped.
//
// Used by the linux target (a tap inside a namespace synack made), and meant for a tap:IFNAME
// target and `synack serve` as well: it knows nothing of namespaces, scripts or targets. The
// device is opened (created when absent, as TUNSETIFF does) in the network namespace of the
// calling thread. Waiting uses Boost.Asio (a posix::stream_descriptor on the tap fd and a
// steady_timer for the deadline); one TapLink is used by one thread at a time.
//
// Frames are built and parsed with harness/wire only: the link must not share code with any
// stack it carries.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "harness/wire/bytes.h"
#include "harness/wire/ethernet.h"
#include "harness/wire/ipv4.h"
#include "harness/wire/result.h"

namespace synack::link {

struct TapConfig {
  std::string ifname;     // the tap device, e.g. "synack0" (at most IFNAMSIZ - 1 bytes)
  wire::MacAddr own_mac;  // the harness's MAC: the source of every frame written
  wire::Ipv4Addr own_ip;  // the harness's address: ARP requests for it are answered
  // The stack's MAC, where IPv4 packets go. When absent it is learned from the source of the
  // first IPv4 or ARP frame the stack sends; until then packets go to the broadcast address.
  std::optional<wire::MacAddr> peer_mac;
};

// An IPv4 packet the stack sent, without its Ethernet header (and any padding).
struct Received {
  wire::Bytes packet;
  std::int64_t time_us = 0;  // CLOCK_MONOTONIC, microseconds, when it was read off the device
};

// What the link did with frames that were not handed back.
struct TapCounters {
  std::uint64_t frames_in = 0;    // every frame read
  std::uint64_t arp_replies = 0;  // ARP requests for own_ip answered
  std::uint64_t ignored = 0;      // IPv6, other ethertypes, ARP not for us, not for our MAC
  std::uint64_t malformed = 0;    // short frames, bad IPv4 headers, unsupported ARP
  std::uint64_t frames_out = 0;   // frames written (IPv4 and ARP replies)
};

// The largest frame a tap hands over with offloads off: the MTU (at most 64 KiB) plus a header.
inline constexpr std::size_t kMaxTapFrame = 65536 + wire::kEthernetHeader;

// Opens (or creates) tap device `ifname` in the calling thread's network namespace: TUNSETIFF
// with IFF_TAP | IFF_NO_PI, then TUNSETOFFLOAD 0 (no TSO, no checksum offload: every segment
// arrives whole with a real checksum). Returns the fd (non-blocking, close-on-exec) or an error
// naming the device and the call that failed. TapLink::open and `synack serve` both use it.
wire::Result<int, std::string> open_tap_fd(const std::string& ifname);

class TapLink {
 public:
  // Opens (or creates) the tap device `config.ifname` in the calling thread's network
  // namespace: TUNSETIFF with IFF_TAP | IFF_NO_PI, then TUNSETOFFLOAD 0 (no TSO, no checksum
  // offload: every segment arrives whole with a real checksum). The device is not brought up
  // and gets no address here: that is the caller's business. An error names the device and the
  // call that failed ("open /dev/net/tun: Permission denied (needs root or CAP_NET_ADMIN)").
  static wire::Result<std::unique_ptr<TapLink>, std::string> open(const TapConfig& config);

  ~TapLink();
  TapLink(const TapLink&) = delete;
  TapLink& operator=(const TapLink&) = delete;

  // Writes one IPv4 packet to the stack, inside an Ethernet frame (own_mac -> peer_mac).
  // Returns "" or why the write failed.
  std::string send(wire::ByteSpan ipv4_packet);

  // The next IPv4 packet from the stack, waiting until `deadline_us` (CLOCK_MONOTONIC) at most;
  // nullopt when none came by then. ARP requests that arrive meanwhile are answered.
  std::optional<Received> receive(std::int64_t deadline_us);

  // Reads every frame already waiting, without blocking (answering ARP, stamping packets), so
  // that packets are timestamped close to when they were sent even while the caller is busy.
  void drain();

  const TapCounters& counters() const { return counters_; }
  const std::string& ifname() const { return config_.ifname; }
  std::optional<wire::MacAddr> peer_mac() const { return config_.peer_mac; }
  int fd() const;

  // CLOCK_MONOTONIC in microseconds: the clock of every timestamp and deadline here.
  static std::int64_t now_us();

 private:
  struct Io;  // Boost.Asio objects, kept out of this header
  TapLink(TapConfig config, int fd);
  void handle_frame(wire::ByteSpan frame, std::int64_t time_us);
  std::string write_frame(const wire::Bytes& frame);

  TapConfig config_;
  std::unique_ptr<Io> io_;
  std::deque<Received> queue_;
  TapCounters counters_;
  // drain()'s, allocated once: drain runs on every inject, socket call and wait, and a fresh
  // 64 KiB zeroed buffer each time was a tenth of the harness's CPU under ASan (new pages).
  wire::Bytes read_buffer_;
};

}  // namespace synack::link
