// A fuzz input's SessionLog (log.h) as a .pkt script and a pcap. The script states every
// segment the stack under test received (<) and sent (>) and every socket call with its result,
// at the instants they happened, so `synack run --target inproc SCRIPT` replays the session: a
// clean session passes, and a finding fails at the same segment with the same invariant.
//
// The script speaks the runner's language and follows its conventions: inbound sequence numbers
// relative to the harness's ISN (log.harness_isn, written as --harness_isn when not 0),
// acknowledgment numbers relative to the stack's ISN as the runner learns it from the stack's
// SYNs, every packet line with its flow's [sport N], and O_NONBLOCK set on every socket (the
// stack's API never blocks). A packet the language cannot state (not IPv4 TCP, a bad IP header
// checksum, IP options, raw TCP option bytes) becomes a comment saying so, and the script
// will not reproduce that step.
#pragma once

#include <string>

#include "fuzz/replay/log.h"

namespace synack::fuzz {

struct RenderedScript {
  std::string text;
  std::size_t lines = 0;         // events rendered as script lines
  std::size_t unrenderable = 0;  // packets written as comments instead
};

// `source`: what the log came from, for the script's opening comment.
RenderedScript render_pkt(const SessionLog& log, const std::string& source);

// Writes every packet of the log (raw IPv4, virtual time from 0) to `path`; "" on success, else
// the error naming the file.
std::string write_pcap(const SessionLog& log, const std::string& path);

}  // namespace synack::fuzz
