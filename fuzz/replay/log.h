// What a fuzz input did to the built-in stack under test, in the order it happened: the record
// `synack replay` turns into a .pkt script (and a pcap) that reproduces the input through
// `synack run --target inproc`.
//
// The stack under test must look like the inproc target to the script runner, or the script
// would not reproduce: it is a stack::Stack built with seed 1 (InprocTarget's), at 192.168.0.1
// (aliases 192.168.0.3), talking to a peer at 192.168.0.2; its config differs from the default
// only by knobs the script can set (`knobs`); its application's write() data is
// script::write_byte(n) for the n-th byte asked to be written over the whole session, and the
// peer's payload byte at relative sequence number r (r = 1 for the first byte after its SYN, r
// relative to SessionLog::harness_isn) is script::pattern_byte(r), as the runner makes them
// (harness/script/patterns.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace synack::fuzz {

struct LogEvent {
  enum class Kind {
    kInbound,   // a packet given to the stack under test (Stack::input)
    kOutbound,  // a packet the stack under test sent (Stack::take_output)
    kCall,      // a socket call on the stack under test
  };
  Kind kind = Kind::kInbound;
  std::int64_t time_us = 0;  // the stack's clock: microseconds since the session started
  // kInbound, kOutbound: the IPv4 packet, byte for byte.
  std::vector<std::uint8_t> packet;
  // kCall: the call as the script language writes it, with its result, without the time, the
  // fd being the stack's SocketId (the inproc target hands those to scripts unchanged); every
  // socket the session makes is non-blocking, as the stack's API is, so the script must set
  // O_NONBLOCK right after socket(), which the renderer does. For example:
  //   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
  //   bind(3, {sin_family=AF_INET, sin_port=htons(8080), sin_addr=INADDR_ANY}, 16) = 0
  //   listen(3, 4) = 0
  //   accept(3, ..., ...) = -1 EAGAIN (Resource temporarily unavailable)
  //   connect(3, {sin_family=AF_INET, sin_port=htons(40001), sin_addr=inet_addr("192.168.0.2")},
  //   16) = -1 EINPROGRESS (Operation now in progress) write(4, ..., 1000) = 1000 read(4, ...,
  //   1000) = 17 shutdown(4, SHUT_WR) = 0 close(4) = 0 setsockopt(4, IPPROTO_TCP, TCP_NODELAY, [1],
  //   4) = 0
  std::string call;
};

struct SessionLog {
  std::vector<LogEvent> events;
  // Script knob lines for the stack config the session used ("--tcp_syncookies=1"), in order.
  std::vector<std::string> knobs;
  // The harness's ISN, as the runner's --harness_isn: the peer's payload byte at sequence
  // number s is script::pattern_byte(s - harness_isn). The session fuzzer's peer uses 0.
  std::uint32_t harness_isn = 0;
  // Empty when the input ran clean; else what it found, as the fuzz target reports it
  // ("invariant snd-una-le-snd-nxt: ..." or "oracle send-within-window: ...").
  std::string finding;
};

}  // namespace synack::fuzz
