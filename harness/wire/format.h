// One-line, tcpdump-style rendering of packets, used by `synack decode`, by match diffs and by
// the oracle's messages:
//   10.0.0.2.1234 > 10.0.0.1.80: Flags [S.], seq 0, ack 1, win 65535,
//     options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0
// Differences from tcpdump, on purpose: seq is printed on every segment (tcpdump omits it on a
// bare ACK), sequence numbers are absolute, and a checksum that does not verify is flagged.
#pragma once

#include <string>
#include <vector>

#include "harness/wire/bytes.h"
#include "harness/wire/ethernet.h"
#include "harness/wire/icmp.h"
#include "harness/wire/pcap.h"
#include "harness/wire/tcp.h"

namespace synack::wire {

// "S.", "FP.", "none" (tcpdump's letters: F S R P . U E W, in that order).
std::string format_flags(std::uint8_t flags);
// "mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7"
std::string format_options(const std::vector<TcpOption>& options);
std::string format_tcp(const TcpPacket& p);
// "192.168.0.2 > 192.168.0.1: ICMP unreachable frag_needed mtu 1200, quoting
//  192.168.0.1.8080 > 192.168.0.2.40000 seq 1001, length 36"
std::string format_icmp(const IcmpPacket& p);
std::string format_arp(const ArpPacket& a);
// Any IPv4 packet: TCP and ICMP in full, other protocols in brief, and a parse error as
// "[malformed: <what> at byte N: <detail>]" after whatever addresses could be read.
std::string format_ipv4(ByteSpan packet);
// A frame of the given link type, down to the IPv4 or ARP packet it carries.
std::string format_frame(LinkType type, ByteSpan frame);

// Lowercase hex digits, two per byte, no separators.
std::string hex_string(ByteSpan b);

// The TCP checksum the packet should carry (the emitter's value with tcp.checksum cleared).
std::uint16_t correct_tcp_checksum(const TcpPacket& p);

}  // namespace synack::wire
