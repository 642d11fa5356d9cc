// ICMP error messages (RFC 9293 3.9.2.2; RFC 1122 4.2.3.9; RFC 5927): which connection a message
// names, when it is believed, and what each kind does in each state.
#include <random>

#include "stack/tcp/stack_fixture.h"

namespace synack::stack::testing {
namespace {

namespace type = icmp_type;
namespace unreachable = icmp_unreachable;

// The quote of a segment the stack sent on the fixture's connection with sequence number `seq`:
// its IPv4 header and first 8 TCP octets (ports and sequence number) are all a quote has.
Packet quote_for(std::uint32_t seq) {
  Segment s;
  s.src_addr = kLocalAddr;
  s.dst_addr = kRemoteAddr;
  s.src_port = kLocalPort;
  s.dst_port = kRemotePort;
  s.seq = SeqNum(seq);
  s.flags = f::kAck;
  return quote_of(emit_segment(s));
}

class IcmpTest {
 protected:
  static Packet error(std::uint8_t t, std::uint8_t code, std::uint32_t seq) {
    return icmp_packet(t, code, quote_for(seq));
  }
};

// Five bytes in flight: SND.UNA = snd, SND.NXT = snd + 5. `data_packet` is what went out.
class InFlightTest : public EstablishedTest, public IcmpTest {
 protected:
  void SetUp() override {
    EstablishedTest::SetUp();
    ASSERT_EQ(stack->write(conn, bytes("hello")).value(), 5U);
    auto out = stack->take_output();
    ASSERT_EQ(out.size(), 1U);
    data_packet = out.front();
  }
  // Retransmits until the connection gives up; returns how many timers fired.
  int run_until_gone() {
    int fired = 0;
    while (stack->snapshot(conn) && fired < 100) {
      fire_next_timer();
      ++fired;
    }
    sent();  // the retransmissions
    return fired;
  }
  Packet data_packet;
};

class IcmpSynSentTest : public SynSentTest, public IcmpTest {};
class IcmpSynReceivedTest : public SynReceivedTest, public IcmpTest {};

// --- demultiplexing and validation (MUST-54; RFC 5927 4.1) -------------------------------

TEST_F(InFlightTest, SoftErrorQuotingTheSegmentIsRecordedAndTheConnectionGoesOn) {
  send_raw(icmp_packet(type::kDestinationUnreachable, unreachable::kHost, quote_of(data_packet)));
  expect_nothing_sent();
  EXPECT_EQ(state_of(conn), State::kEstablished);  // MUST-56
  EXPECT_EQ(stack->snapshot(conn)->soft_error, EHOSTUNREACH);
  EXPECT_EQ(stack->counters().icmp_in, 1U);
  EXPECT_EQ(stack->counters().icmp_soft_errors, 1U);
  // The data still flows: the peer acknowledges it and sends its own.
  send(seg(f::kAck | f::kPsh, rcv, snd + 5, "world"));
  EXPECT_EQ(stack->read(conn, 10).value(), bytes("world"));
}

TEST_F(InFlightTest, WholeOriginalDatagramInTheQuoteIsAcceptedToo) {
  // RFC 1812 4.3.2.3: routers may quote more than 8 octets.
  send_raw(icmp_packet(type::kTimeExceeded, 0, data_packet));
  EXPECT_EQ(stack->snapshot(conn)->soft_error, EHOSTUNREACH);
}

TEST_F(InFlightTest, QuotedHeaderWithIpOptionsIsFollowedToItsTcpHeader) {
  const Packet with_options = with_ip_options(data_packet, {1, 1, 1, 1, 1, 1, 1, 1});
  send_raw(icmp_packet(type::kParameterProblem, 0, quote_of(with_options)));
  EXPECT_EQ(stack->snapshot(conn)->soft_error, EPROTO);
}

TEST_F(InFlightTest, QuotedSequenceNumberMustBeInFlight) {
  // RFC 5927 4.1: only SND.UNA =< SEG.SEQ < SND.NXT; a blind attacker has to guess it.
  for (const std::uint32_t seq : {snd - 1, snd + 5, snd + 100000, snd - 100000}) {
    send_raw(error(type::kDestinationUnreachable, unreachable::kPort, seq));
  }
  EXPECT_EQ(stack->counters().icmp_out_of_window, 4U);
  EXPECT_EQ(stack->snapshot(conn)->soft_error, 0);
  // Inside: the last byte in flight.
  send_raw(error(type::kDestinationUnreachable, unreachable::kNet, snd + 4));
  EXPECT_EQ(stack->snapshot(conn)->soft_error, ENETUNREACH);
}

TEST_F(EstablishedTest, NothingInFlightMeansEveryIcmpErrorIsOutOfWindow) {
  send_raw(icmp_packet(type::kDestinationUnreachable, unreachable::kPort, quote_for(snd)));
  send_raw(icmp_packet(type::kDestinationUnreachable, unreachable::kPort, quote_for(snd - 1)));
  EXPECT_EQ(stack->counters().icmp_out_of_window, 2U);
  EXPECT_EQ(stack->snapshot(conn)->soft_error, 0);
  EXPECT_EQ(state_of(conn), State::kEstablished);
}

TEST_F(InFlightTest, QuoteNamingNoConnectionIsIgnored) {
  Packet other = quote_of(data_packet);
  other[21] ^= 0x01;  // the quoted destination port
  send_raw(icmp_packet(type::kDestinationUnreachable, unreachable::kPort, other));
  Packet not_ours = quote_of(data_packet);
  not_ours[15] ^= 0x01;  // the quoted source address: not a datagram we sent
  send_raw(icmp_packet(type::kDestinationUnreachable, unreachable::kPort, not_ours));
  Packet udp = quote_of(data_packet);
  udp[9] = 17;  // the quoted protocol
  send_raw(icmp_packet(type::kDestinationUnreachable, unreachable::kPort, udp));
  Packet later_fragment = quote_of(data_packet);
  later_fragment[7] = 0x10;  // fragment offset 16 octets: the quote is not its TCP header
  send_raw(icmp_packet(type::kDestinationUnreachable, unreachable::kPort, later_fragment));
  EXPECT_EQ(stack->counters().icmp_ignored, 4U);
  EXPECT_EQ(stack->snapshot(conn)->soft_error, 0);
  expect_nothing_sent();
}

TEST_F(InFlightTest, IcmpWithABadChecksumIsDropped) {
  Packet p = icmp_packet(type::kDestinationUnreachable, unreachable::kHost, quote_of(data_packet));
  p.back() ^= 0x01;  // in the quote, covered by the ICMP checksum
  send_raw(p);
  EXPECT_EQ(stack->counters().bad_checksum, 1U);
  EXPECT_EQ(stack->counters().icmp_in, 0U);
  EXPECT_EQ(stack->snapshot(conn)->soft_error, 0);
}

TEST_F(InFlightTest, MalformedIcmpIsDroppedAndCounted) {
  const Packet quote = quote_of(data_packet);
  const std::vector<Packet> bad = {
      icmp_packet(type::kDestinationUnreachable, 1, {}),                          // no quote
      icmp_packet(type::kDestinationUnreachable, 1, std::span(quote).first(20)),  // no TCP octets
      icmp_packet(type::kDestinationUnreachable, 1, std::span(quote).first(27)),  // 7 of 8
  };
  for (const Packet& p : bad) send_raw(p);
  Packet short_icmp = icmp_packet(type::kEchoRequest, 0, {});
  short_icmp.resize(24);  // 4 octets of ICMP
  wire::set16(short_icmp, 2, 24);
  fix_ip_checksum(short_icmp);
  send_raw(short_icmp);
  Packet ihl4 = quote;
  ihl4[0] = 0x44;  // quoted IHL below 5
  send_raw(icmp_packet(type::kDestinationUnreachable, 1, ihl4));
  Packet v6 = quote;
  v6[0] = 0x65;
  send_raw(icmp_packet(type::kDestinationUnreachable, 1, v6));
  EXPECT_EQ(stack->counters().malformed, 6U);
  EXPECT_EQ(stack->snapshot(conn)->soft_error, 0);
}

TEST_F(InFlightTest, FragmentedIcmpIsDropped) {
  Packet p = icmp_packet(type::kDestinationUnreachable, unreachable::kHost, quote_of(data_packet));
  p[6] = 0x20;  // more fragments
  fix_ip_checksum(p);
  send_raw(p);
  EXPECT_EQ(stack->counters().malformed, 1U);
  EXPECT_EQ(stack->snapshot(conn)->soft_error, 0);
}

TEST_F(InFlightTest, IcmpForAnotherAddressOrFromABroadcastSourceIsDropped) {
  send_raw(icmp_packet(type::kDestinationUnreachable, unreachable::kHost, quote_of(data_packet), 0,
                       kRouterAddr, 0xc0a80005));
  send_raw(icmp_packet(type::kDestinationUnreachable, unreachable::kHost, quote_of(data_packet), 0,
                       0xffffffff));
  EXPECT_EQ(stack->counters().not_for_us, 1U);
  EXPECT_EQ(stack->counters().invalid_address, 1U);
  EXPECT_EQ(stack->snapshot(conn)->soft_error, 0);
}

TEST_F(InFlightTest, RandomIcmpNeverCrashesOrBreaksAnInvariant) {
  // Mutations of a valid error message (the checksum fixed afterwards half of the time, so the
  // parser sees both kinds); the fixture fails the test on any invariant violation.
  std::mt19937 rng(7);
  const Packet base =
      icmp_packet(type::kDestinationUnreachable, unreachable::kPort, quote_of(data_packet));
  for (int i = 0; i < 5000; ++i) {
    Packet p = base;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = 20 + rng() % (p.size() - 20);
      p[at] = static_cast<std::uint8_t>(rng());
    }
    p.resize(20 + rng() % (p.size() - 19));
    wire::set16(p, 2, static_cast<std::uint16_t>(p.size()));
    fix_ip_checksum(p);
    if (p.size() >= 24 && rng() % 2 == 0) {
      wire::set16(p, 22, 0);
      wire::set16(p, 22, internet_checksum(std::span(p).subspan(20)));
    }
    send_raw(p);
  }
  // Whatever survived, the connection is still there (no hard error can abort it here).
  EXPECT_EQ(state_of(conn), State::kEstablished);
  EXPECT_EQ(stack->counters().icmp_aborts, 0U);
  const StackCounters& c = stack->counters();
  EXPECT_GT(c.icmp_in, 0U);
  EXPECT_GT(c.icmp_soft_errors, 0U);  // some mutations still name the connection
  EXPECT_GT(c.malformed, 0U);
  EXPECT_GT(c.bad_checksum, 0U);
  sent();
}

// --- the kinds of message ---------------------------------------------------------------

TEST_F(InFlightTest, SourceQuenchIsSilentlyDiscarded) {
  // MUST-55 (RFC 6633): no change to the connection, its windows or its error.
  const auto before = stack->snapshot(conn);
  send_raw(icmp_packet(type::kSourceQuench, 0, quote_of(data_packet)));
  expect_nothing_sent();
  const auto after = stack->snapshot(conn);
  EXPECT_EQ(after->soft_error, 0);
  EXPECT_EQ(after->cwnd, before->cwnd);
  EXPECT_EQ(after->ssthresh, before->ssthresh);
  EXPECT_EQ(stack->counters().icmp_source_quench, 1U);
}

TEST_F(InFlightTest, FragmentationNeededIsIgnoredWithoutPathMtuDiscovery) {
  send_raw(icmp_packet(type::kDestinationUnreachable, unreachable::kFragmentationNeeded,
                       quote_of(data_packet), /*next-hop MTU*/ 576));
  EXPECT_EQ(stack->counters().icmp_frag_needed, 1U);
  EXPECT_EQ(stack->snapshot(conn)->soft_error, 0);
  EXPECT_EQ(stack->snapshot(conn)->snd_mss, 536);  // the peer sent no MSS option; unchanged
}

TEST_F(InFlightTest, EachSoftErrorRecordsLinuxsErrno) {
  const struct {
    std::uint8_t type;
    std::uint8_t code;
    int error;
  } cases[] = {
      {type::kDestinationUnreachable, unreachable::kNet, ENETUNREACH},
      {type::kDestinationUnreachable, unreachable::kHost, EHOSTUNREACH},
      {type::kDestinationUnreachable, unreachable::kSourceRouteFailed, EOPNOTSUPP},
      {type::kDestinationUnreachable, 13, EHOSTUNREACH},  // communication prohibited
      {type::kTimeExceeded, 0, EHOSTUNREACH},
      {type::kTimeExceeded, 1, EHOSTUNREACH},
      {type::kParameterProblem, 0, EPROTO},
  };
  for (const auto& c : cases) {
    send_raw(icmp_packet(c.type, c.code, quote_of(data_packet)));
    EXPECT_EQ(stack->snapshot(conn)->soft_error, c.error) << int{c.type} << "/" << int{c.code};
    EXPECT_EQ(state_of(conn), State::kEstablished);
  }
  EXPECT_EQ(stack->counters().icmp_soft_errors, std::size(cases));
}

TEST_F(InFlightTest, OtherTypesAndUndefinedCodesAreIgnored) {
  send_raw(icmp_packet(type::kRedirect, 1, quote_of(data_packet), kRouterAddr));
  send_raw(icmp_packet(type::kDestinationUnreachable, 16, quote_of(data_packet)));
  send_raw(icmp_packet(type::kEchoRequest, 0, bytes("ping")));
  send_raw(icmp_packet(type::kEchoReply, 0, bytes("pong")));
  expect_nothing_sent();
  EXPECT_EQ(stack->counters().icmp_ignored, 4U);
  EXPECT_EQ(stack->snapshot(conn)->soft_error, 0);
}

TEST_F(InFlightTest, HardErrorInEstablishedIsOnlyASoftError) {
  // RFC 5927 7.2 (and Linux): a port or protocol unreachable does not reset a synchronized
  // connection; it is remembered like a soft error.
  send_raw(icmp_packet(type::kDestinationUnreachable, unreachable::kPort, quote_of(data_packet)));
  EXPECT_EQ(state_of(conn), State::kEstablished);
  EXPECT_EQ(stack->snapshot(conn)->soft_error, ECONNREFUSED);
  send_raw(
      icmp_packet(type::kDestinationUnreachable, unreachable::kProtocol, quote_of(data_packet)));
  EXPECT_EQ(stack->snapshot(conn)->soft_error, ENOPROTOOPT);
  EXPECT_EQ(stack->counters().icmp_aborts, 0U);
}

// --- telling the application (SHLD-25) ----------------------------------------------------

TEST_F(InFlightTest, SoErrorReportsTheSoftErrorOnce) {
  send_raw(icmp_packet(type::kDestinationUnreachable, unreachable::kHost, quote_of(data_packet)));
  EXPECT_EQ(stack->events(conn) & event::kErr, 0U);  // not a pending error: no POLLERR
  EXPECT_EQ(stack->getsockopt(conn, SocketOption::kError).value(), EHOSTUNREACH);
  EXPECT_EQ(stack->getsockopt(conn, SocketOption::kError).value(), 0);
  EXPECT_EQ(stack->snapshot(conn)->soft_error, 0);
}

TEST_F(InFlightTest, TimeoutReportsTheSoftErrorInsteadOfEtimedout) {
  send_raw(icmp_packet(type::kDestinationUnreachable, unreachable::kNet, quote_of(data_packet)));
  EXPECT_EQ(run_until_gone(), 16);  // tcp_retries2 = 15 retransmissions, then the last RTO
  EXPECT_EQ(stack->read(conn, 10).error(), ENETUNREACH);
  EXPECT_EQ(stack->counters().timeouts, 1U);
}

TEST_F(InFlightTest, AnAcceptableAckClearsTheSoftError) {
  send_raw(icmp_packet(type::kDestinationUnreachable, unreachable::kHost, quote_of(data_packet)));
  send(seg(f::kAck, rcv, snd + 5));  // the path works after all
  EXPECT_EQ(stack->snapshot(conn)->soft_error, 0);
  ASSERT_EQ(stack->write(conn, bytes("again")).value(), 5U);
  sent();
  run_until_gone();
  EXPECT_EQ(stack->read(conn, 10).error(), ETIMEDOUT);
}

TEST_F(InFlightTest, SoftErrorOnAnOrphanIsHarmless) {
  send_raw(icmp_packet(type::kDestinationUnreachable, unreachable::kHost, quote_of(data_packet)));
  ASSERT_TRUE(stack->close(conn).ok());
  sent();
  for (int i = 0; i < 40 && !stack->connections().empty(); ++i) fire_next_timer();
  EXPECT_THAT(stack->connections(), ::testing::IsEmpty());
}

// --- SYN-SENT -------------------------------------------------------------------------------

TEST_F(IcmpSynSentTest, PortUnreachableAbortsTheConnect) {
  send_raw(error(type::kDestinationUnreachable, unreachable::kPort, client_iss));
  expect_nothing_sent();  // no RST: there is no one to send it to
  EXPECT_EQ(stack->snapshot(conn), std::nullopt);
  EXPECT_EQ(stack->events(conn) & event::kErr, event::kErr);
  EXPECT_EQ(stack->getsockopt(conn, SocketOption::kError).value(), ECONNREFUSED);
  EXPECT_EQ(stack->counters().icmp_aborts, 1U);
  EXPECT_EQ(stack->next_deadline(), std::nullopt);  // no SYN retransmission pending
}

TEST_F(IcmpSynSentTest, ProtocolUnreachableAbortsWithEnoprotoopt) {
  send_raw(error(type::kDestinationUnreachable, unreachable::kProtocol, client_iss));
  EXPECT_EQ(stack->connect(conn, Endpoint{kRemoteAddr, kRemotePort}).error(), ENOPROTOOPT);
}

TEST_F(IcmpSynSentTest, HardErrorQuotingAnotherSequenceNumberIsIgnored) {
  send_raw(error(type::kDestinationUnreachable, unreachable::kPort, client_iss + 1));
  send_raw(error(type::kDestinationUnreachable, unreachable::kPort, client_iss - 1));
  EXPECT_EQ(state_of(conn), State::kSynSent);
  EXPECT_EQ(stack->counters().icmp_out_of_window, 2U);
}

TEST_F(IcmpSynSentTest, SoftErrorDoesNotAbortTheConnect) {
  // MUST-56 (Linux differs here: it aborts SYN-SENT on these too, RFC 5461): the SYN is retried
  // and, if nothing answers, connect() fails with the ICMP error rather than ETIMEDOUT.
  send_raw(error(type::kDestinationUnreachable, unreachable::kHost, client_iss));
  EXPECT_EQ(state_of(conn), State::kSynSent);
  EXPECT_EQ(fire_next_timer(), 1s);
  EXPECT_EQ(sent_one().flags, f::kSyn);
  while (stack->snapshot(conn)) fire_next_timer();
  sent();
  EXPECT_EQ(stack->connect(conn, Endpoint{kRemoteAddr, kRemotePort}).error(), EHOSTUNREACH);
}

TEST_F(IcmpSynSentTest, SynAckAfterASoftErrorClearsIt) {
  send_raw(error(type::kTimeExceeded, 0, client_iss));
  ASSERT_EQ(stack->snapshot(conn)->soft_error, EHOSTUNREACH);
  send(seg(f::kSyn | f::kAck, kRemoteIss, client_iss + 1));
  EXPECT_EQ(state_of(conn), State::kEstablished);
  EXPECT_EQ(stack->snapshot(conn)->soft_error, 0);
  EXPECT_EQ(stack->getsockopt(conn, SocketOption::kError).value(), 0);
}

TEST_F(IcmpSynSentTest, HardErrorInSimultaneousOpenAbortsTheConnect) {
  send(seg(f::kSyn, kRemoteIss));  // SYN-SENT -> SYN-RECEIVED; our SYN,ACK reuses the ISS
  ASSERT_EQ(sent_one().flags, f::kSyn | f::kAck);
  ASSERT_EQ(state_of(conn), State::kSynReceived);
  send_raw(error(type::kDestinationUnreachable, unreachable::kPort, client_iss));
  EXPECT_EQ(stack->snapshot(conn), std::nullopt);
  EXPECT_EQ(stack->getsockopt(conn, SocketOption::kError).value(), ECONNREFUSED);
}

// --- SYN-RECEIVED (passive) -----------------------------------------------------------------

TEST_F(IcmpSynReceivedTest, HardErrorRemovesTheHalfOpenConnection) {
  send_raw(error(type::kDestinationUnreachable, unreachable::kPort, server_iss));
  expect_nothing_sent();
  EXPECT_EQ(stack->listen_queues(listener)->syn_queue, 0U);
  EXPECT_THAT(stack->connections(), ::testing::IsEmpty());
  // The listener itself is untouched.
  send(seg(f::kSyn, kRemoteIss + 5000));
  EXPECT_EQ(sent_one().flags, f::kSyn | f::kAck);
}

TEST_F(IcmpSynReceivedTest, SoftErrorKeepsTheHalfOpenConnection) {
  send_raw(error(type::kDestinationUnreachable, unreachable::kHost, server_iss));
  EXPECT_EQ(stack->listen_queues(listener)->syn_queue, 1U);
  EXPECT_EQ(fire_next_timer(), 1s);
  EXPECT_EQ(sent_one().flags, f::kSyn | f::kAck);  // the SYN,ACK is retried as usual
  // The handshake completes; the accepted connection starts without the old error.
  send(seg(f::kAck, kRemoteIss + 1, server_iss + 1));
  const SocketId c = stack->accept(listener).value();
  EXPECT_EQ(stack->getsockopt(c, SocketOption::kError).value(), 0);
}

TEST_F(IcmpSynReceivedTest, ErrorAboutACookieSynAckIsIgnored) {
  ASSERT_TRUE(stack->listen(listener, 1).ok());  // the SYN queue is full: cookies
  Segment second = seg(f::kSyn, kRemoteIss);
  second.src_port = kRemotePort + 1;
  send(second);
  const Segment cookie = sent_one();
  Segment quoted = second;
  std::swap(quoted.src_addr, quoted.dst_addr);
  std::swap(quoted.src_port, quoted.dst_port);
  quoted.seq = cookie.seq;
  send_raw(icmp_packet(type::kDestinationUnreachable, unreachable::kPort,
                       quote_of(emit_segment(quoted))));
  EXPECT_EQ(stack->counters().icmp_ignored, 1U);  // no state was kept for it
  EXPECT_EQ(stack->listen_queues(listener)->syn_queue, 1U);
}

// --- TIME-WAIT ------------------------------------------------------------------------------

TEST_F(TimeWaitTest, IcmpIsIgnoredInTimeWait) {
  send_raw(icmp_packet(type::kDestinationUnreachable, unreachable::kPort, quote_for(snd - 1)));
  EXPECT_EQ(stack->counters().icmp_ignored, 1U);
  EXPECT_EQ(state_of(conn), State::kTimeWait);
}

}  // namespace
}  // namespace synack::stack::testing
