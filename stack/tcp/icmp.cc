// ICMP error messages for a connection (RFC 9293 3.9.2.2; RFC 1122 4.2.3.9; RFC 5927).
//
// What each message does, by the state of the connection it names:
//   Source Quench                          discarded (MUST-55; RFC 6633)
//   Destination Unreachable, code 4        discarded: no path MTU discovery here (README)
//   soft: Unreachable 0, 1, 5 (and 6-15),  remembered, never an abort (MUST-56): a later timeout
//         Time Exceeded, Parameter Problem reports it instead of ETIMEDOUT, and SO_ERROR shows
//                                          it (SHLD-25), as Linux's sk_err_soft
//   hard: Unreachable 2, 3                 SYN-SENT, SYN-RECEIVED: abort (SHLD-26); connect()
//                                          fails with ENOPROTOOPT / ECONNREFUSED; a passive
//                                          half-open connection just leaves the SYN queue.
//                                          Synchronized states: a soft error (RFC 5927 7.2:
//                                          against blind connection resets; as Linux)
// Only a message quoting a sequence number in [SND.UNA, SND.NXT) is believed (RFC 5927 4.1,
// 5.1): anything else cannot be about a segment in flight, and may be forged.
#include "stack/tcp/engine.h"

namespace synack::stack {
namespace {

enum class Kind { kIgnored, kSourceQuench, kFragNeeded, kSoft, kHard };

struct Verdict {
  Kind kind = Kind::kIgnored;
  int error = 0;
};

// The errno Linux reports for each Destination Unreachable code (net/ipv4/icmp.c,
// icmp_err_convert), so that a verdict reads the same against either stack.
int unreachable_errno(std::uint8_t code) {
  switch (code) {
    case icmp_unreachable::kNet:
      return ENETUNREACH;
    case icmp_unreachable::kHost:
      return EHOSTUNREACH;
    case icmp_unreachable::kProtocol:
      return ENOPROTOOPT;
    case icmp_unreachable::kPort:
      return ECONNREFUSED;
    case icmp_unreachable::kFragmentationNeeded:
      return EMSGSIZE;
    case icmp_unreachable::kSourceRouteFailed:
      return EOPNOTSUPP;
    case 6:   // destination network unknown
    case 9:   // destination network administratively prohibited
    case 11:  // network unreachable for the TOS
      return ENETUNREACH;
    case 7:  // destination host unknown
      return EHOSTDOWN;
    case 8:  // source host isolated
      return ENONET;
    default:  // 10, 12: host prohibited or unreachable for the TOS; 13-15 (RFC 1812 5.2.7.1)
      return EHOSTUNREACH;
  }
}

Verdict classify(const IcmpMessage& m) {
  switch (m.type) {
    case icmp_type::kSourceQuench:
      return {Kind::kSourceQuench, 0};
    case icmp_type::kDestinationUnreachable:
      if (m.code > icmp_unreachable::kPrecedenceCutoff) return {Kind::kIgnored, 0};
      if (m.code == icmp_unreachable::kFragmentationNeeded) return {Kind::kFragNeeded, 0};
      // RFC 9293 3.9.2.2 names codes 2-4 hard and 0, 1, 5 soft. The codes defined later (6-15:
      // unknown, isolated, prohibited, TOS, precedence) are treated as soft, as Linux's TCP does:
      // not aborting is the choice that cannot be turned into a blind reset (RFC 5927 7).
      if (m.code == icmp_unreachable::kProtocol || m.code == icmp_unreachable::kPort) {
        return {Kind::kHard, unreachable_errno(m.code)};
      }
      return {Kind::kSoft, unreachable_errno(m.code)};
    case icmp_type::kTimeExceeded:
      return {Kind::kSoft, EHOSTUNREACH};  // Linux's errno for it
    case icmp_type::kParameterProblem:
      return {Kind::kSoft, EPROTO};
    default:
      // Redirects are routing advice (RFC 1122 3.2.2.2) for a stack that has no routes; echo
      // and the rest are not errors.
      return {Kind::kIgnored, 0};
  }
}

}  // namespace

void Engine::icmp_input(const Ipv4Packet& ip) {
  // A fragment of an ICMP message cannot be read without reassembly, which the stack does not do.
  if (ip.fragment) {
    ++counters_.malformed;
    return;
  }
  IcmpMessage m;
  switch (parse_icmp(ip.payload, m)) {
    case IcmpStatus::kOk:
      icmp_arrives(m);
      return;
    case IcmpStatus::kMalformed:
      ++counters_.malformed;
      return;
    case IcmpStatus::kBadChecksum:
      ++counters_.bad_checksum;
      return;
  }
}

void Engine::icmp_arrives(const IcmpMessage& m) {
  ++counters_.icmp_in;
  // MUST-54: the quoted IPv4 header and the first 8 octets of the TCP header name the
  // connection. Only a quote of something this stack could have sent counts: TCP, from our
  // address, the head of a datagram.
  if (!m.is_error || m.quoted_protocol != ip_proto::kTcp || !is_local(m.quoted_src) ||
      !m.quoted_first_fragment) {
    ++counters_.icmp_ignored;
    return;
  }
  const FourTuple tuple{m.quoted_src, m.quoted_src_port, m.quoted_dst, m.quoted_dst_port};
  Tcb* t = find(tuple);
  // No connection (a cookie SYN,ACK or a RST leaves none), or TIME-WAIT, which has nothing in
  // flight to be in error: nothing to do (Linux ignores both too).
  if (t == nullptr || t->state == State::kTimeWait) {
    ++counters_.icmp_ignored;
    return;
  }
  // RFC 5927 4.1: believe the message only if the quoted sequence number is of data in flight,
  // SND.UNA =< SEG.SEQ < SND.NXT (SND.NXT being the highest sent: a timeout rewinds ours). In
  // SYN-SENT and SYN-RECEIVED that is exactly the ISS.
  const SeqNum seq(m.quoted_seq);
  if (!(t->snd_una.before_eq(seq) && seq.before(t->snd_max))) {
    ++counters_.icmp_out_of_window;
    return;
  }
  const Verdict v = classify(m);
  switch (v.kind) {
    case Kind::kIgnored:
      ++counters_.icmp_ignored;
      return;
    case Kind::kSourceQuench:
      ++counters_.icmp_source_quench;  // MUST-55: silently discarded
      return;
    case Kind::kFragNeeded:
      // Path MTU discovery (RFC 1191) is not implemented: the stack keeps its MSS. A deviation
      // (README): a path with a smaller MTU that drops our DF packets stalls the connection
      // until it times out.
      ++counters_.icmp_frag_needed;
      return;
    case Kind::kHard:
      if (t->state == State::kSynSent) {
        // SHLD-26: abort. connect() fails with the error (Linux: ECONNREFUSED for a port
        // unreachable, ENOPROTOOPT for a protocol unreachable).
        ++counters_.icmp_aborts;
        delete_tcb(*t, v.error);
        return;
      }
      if (t->state == State::kSynReceived) {
        ++counters_.icmp_aborts;
        if (t->passive_open) {
          // Like a RST in SYN-RECEIVED (MUST-11): the half-open connection leaves the
          // listener's SYN queue; there is no socket yet to tell.
          transition(*t, State::kListen);
          delete_tcb(*t, 0);
        } else {
          delete_tcb(*t, v.error);  // simultaneous open: connect() fails as in SYN-SENT
        }
        return;
      }
      // Synchronized: RFC 5927 7.2 recommends treating hard errors as soft here, so that a forged
      // ICMP message cannot reset a connection (RFC 9293 3.9.2.2 notes that implementations do
      // this; Linux does). The connection goes on, remembering the error.
      break;
    case Kind::kSoft:
      break;
  }
  // MUST-56: a soft error never aborts the connection, in any state; SHLD-25: the application
  // learns of it through SO_ERROR, or as the error of a later timeout.
  t->soft_error = v.error;
  ++counters_.icmp_soft_errors;
  settle(*t);
}

}  // namespace synack::stack
