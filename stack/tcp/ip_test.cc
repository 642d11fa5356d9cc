// The IPv4 side of TCP (RFC 9293 3.9.1.9, 3.9.2, 3.9.2.1, 3.9.2.3): IPv4 options on received
// segments (MUST-50; source routes dropped), address validation (MUST-46, MUST-57, MUST-63),
// and the DS field and TTL of what the stack sends (MUST-48, MUST-49; IP_TOS and IP_TTL).
#include <random>

#include "stack/tcp/stack_fixture.h"

namespace synack::stack::testing {
namespace {

// IPv4 option types (RFC 791 3.1).
constexpr std::uint8_t kOptNop = 1;
constexpr std::uint8_t kOptRecordRoute = 7;
constexpr std::uint8_t kOptTimestamp = 68;
constexpr std::uint8_t kOptLsrr = 131;
constexpr std::uint8_t kOptSsrr = 137;

constexpr std::uint32_t kLimitedBroadcast = 0xffffffff;
constexpr std::uint32_t kAllHosts = 0xe0000001;      // 224.0.0.1
constexpr std::uint32_t kSomeGroup = 0xef010203;     // 239.1.2.3
constexpr std::uint32_t kOtherUnicast = 0xc0a80005;  // 192.168.0.5, not the stack

// A record-route option with room for `slots` addresses, none recorded yet.
std::vector<std::uint8_t> record_route(std::uint8_t type, int slots) {
  std::vector<std::uint8_t> o = {type, static_cast<std::uint8_t>(3 + 4 * slots), 4};
  o.resize(o.size() + 4 * static_cast<std::size_t>(slots), 0);
  return o;
}

// A source route through `hop` (pointer past it: the route is complete on arrival).
std::vector<std::uint8_t> source_route(std::uint8_t type, std::uint32_t hop) {
  std::vector<std::uint8_t> o = {type, 7, 8, 0, 0, 0, 0};
  wire::set32(o, 3, hop);
  return o;
}

// The raw packets the stack sent, unparsed (the fixture's sent() parses them).
std::vector<Packet> raw_output(Stack& s) { return s.take_output(); }

// --- MUST-50: IPv4 options are skipped ---------------------------------------------------

TEST_F(ListenTest, SynWithIpOptionsIsAnsweredNormally) {
  // NOPs, a Record Route and a Timestamp option: MUST-50 asks TCP to ignore IP options it does
  // not understand, and the TCP checksum (pseudo-header: addresses only) still verifies.
  std::vector<std::uint8_t> options = {kOptNop};
  const auto rr = record_route(kOptRecordRoute, 3);
  options.insert(options.end(), rr.begin(), rr.end());
  options.insert(options.end(), {kOptTimestamp, 8, 5, 0, 0, 0, 0, 0});
  send_raw(with_ip_options(emit_segment(seg(f::kSyn, kRemoteIss)), options));
  const auto out = raw_output(*stack);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0][0], 0x45) << "replies carry no IPv4 options (IHL 5)";
  Segment synack;
  ASSERT_EQ(parse_segment(out[0], synack), ParseStatus::kOk);
  EXPECT_EQ(synack.flags, f::kSyn | f::kAck);
  EXPECT_EQ(synack.ack.value(), kRemoteIss + 1);
  EXPECT_EQ(synack.dst_addr, kRemoteAddr);
  EXPECT_EQ(stack->listen_queues(listener)->syn_queue, 1U);
}

TEST_F(EstablishedTest, DataInAPacketWithFortyBytesOfIpOptionsIsDelivered) {
  // IHL 15, the largest IPv4 header.
  send_raw(with_ip_options(emit_segment(seg(f::kAck | f::kPsh, rcv, snd, "hello")),
                           record_route(kOptRecordRoute, 9)));
  EXPECT_EQ(stack->read(conn, 100).value(), bytes("hello"));
  advance_by(1s);  // the delayed ACK
  EXPECT_EQ(sent_one().ack.value(), rcv + 5);
}

TEST_F(EstablishedTest, BadTcpChecksumBehindIpOptionsIsStillDropped) {
  Packet p = emit_segment(seg(f::kAck | f::kPsh, rcv, snd, "hello"));
  p.back() ^= 0x01;
  send_raw(with_ip_options(p, {kOptNop, kOptNop, kOptNop, kOptNop}));
  EXPECT_EQ(stack->counters().bad_checksum, 1U);
  EXPECT_EQ(stack->read(conn, 100).error(), EAGAIN);
}

TEST_F(ListenTest, IpOptionWithALengthPastTheHeaderIsMalformed) {
  send_raw(with_ip_options(emit_segment(seg(f::kSyn, kRemoteIss)), {kOptRecordRoute, 9, 4, 0}));
  send_raw(with_ip_options(emit_segment(seg(f::kSyn, kRemoteIss)), {kOptRecordRoute, 1, 0, 0}));
  expect_nothing_sent();
  EXPECT_EQ(stack->counters().malformed, 2U);
  EXPECT_EQ(stack->listen_queues(listener)->syn_queue, 0U);
}

TEST_F(EstablishedTest, RandomIpv4HeadersNeverCrashOrBreakAnInvariant) {
  // Mutations anywhere in the IPv4 header and its options (IHL, lengths, option bytes), the
  // header checksum fixed afterwards most of the time so that the parser sees them; the fixture
  // fails the test on any invariant violation.
  std::mt19937 rng(11);
  const Packet base = with_ip_options(emit_segment(seg(f::kAck | f::kPsh, rcv, snd, "abc")),
                                      {kOptNop, kOptRecordRoute, 7, 4, 0, 0, 0, 0});
  for (int i = 0; i < 5000; ++i) {
    Packet p = base;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) p[rng() % 28] = static_cast<std::uint8_t>(rng());
    if (rng() % 4 != 0 && (p[0] & 0x0fU) * 4U <= p.size()) fix_ip_checksum(p);
    send_raw(p);
  }
  // Every kind of fate was met: dropped as malformed or for its checksum, and delivered.
  const StackCounters& c = stack->counters();
  EXPECT_GT(c.malformed, 0U);
  EXPECT_GT(c.bad_checksum, 0U);
  EXPECT_GT(c.invalid_address + c.not_for_us + c.source_routed, 0U);
  EXPECT_EQ(stack->read(conn, 100000).value(), bytes("abc"));
  sent();
}

// --- Source routes (MUST-51..53 not implemented: dropped, as Linux's accept_source_route=0)

TEST_F(ListenTest, LooseSourceRoutedSynIsDroppedSilently) {
  send_raw(
      with_ip_options(emit_segment(seg(f::kSyn, kRemoteIss)), source_route(kOptLsrr, kRouterAddr)));
  expect_nothing_sent();
  EXPECT_EQ(stack->counters().source_routed, 1U);
  EXPECT_EQ(stack->listen_queues(listener)->syn_queue, 0U);
}

TEST_F(EstablishedTest, StrictSourceRoutedSegmentIsDroppedSilently) {
  send_raw(with_ip_options(emit_segment(seg(f::kAck | f::kPsh, rcv, snd, "x")),
                           source_route(kOptSsrr, kRouterAddr)));
  expect_nothing_sent();
  EXPECT_EQ(stack->counters().source_routed, 1U);
  EXPECT_EQ(stack->read(conn, 10).error(), EAGAIN);
}

TEST_F(StackTest, SourceRoutedSegmentToAClosedPortGetsNoRst) {
  send_raw(with_ip_options(emit_segment(seg(f::kSyn, 5000)), source_route(kOptLsrr, kRouterAddr)));
  expect_nothing_sent();
}

// --- Address validation (RFC 9293 3.9.2.3; RFC 1122 3.2.1.3) ------------------------------

TEST_F(ListenTest, SynToTheLimitedBroadcastAddressIsDiscarded) {
  Segment s = seg(f::kSyn, kRemoteIss);
  s.dst_addr = kLimitedBroadcast;  // MUST-57
  send(s);
  expect_nothing_sent();
  EXPECT_EQ(stack->counters().invalid_address, 1U);
  EXPECT_EQ(stack->listen_queues(listener)->syn_queue, 0U);
}

TEST_F(ListenTest, SynToAMulticastAddressIsDiscarded) {
  for (const std::uint32_t group : {kAllHosts, kSomeGroup}) {
    Segment s = seg(f::kSyn, kRemoteIss);
    s.dst_addr = group;  // MUST-57
    send(s);
  }
  expect_nothing_sent();
  EXPECT_EQ(stack->counters().invalid_address, 2U);
}

TEST_F(ListenTest, SynFromAnInvalidSourceGetsNoSynAckAndNoRst) {
  // MUST-63: broadcast, multicast and "this network" (0.0.0.0/8) cannot be a peer's address.
  for (const std::uint32_t source :
       {kLimitedBroadcast, kAllHosts, kSomeGroup, std::uint32_t{0}, std::uint32_t{0x00010203}}) {
    Segment s = seg(f::kSyn, kRemoteIss);
    s.src_addr = source;
    send(s);
  }
  expect_nothing_sent();
  EXPECT_EQ(stack->counters().invalid_address, 5U);
  EXPECT_EQ(stack->listen_queues(listener)->syn_queue, 0U);
  EXPECT_THAT(stack->connections(), ::testing::IsEmpty());
}

TEST_F(StackTest, SegmentFromABroadcastSourceToAClosedPortGetsNoRst) {
  // RFC 9293 3.9.2.3: the rule holds for every segment, not only SYNs; a RST would go to
  // everyone (or no one).
  Segment s = seg(f::kAck, 5000, 777);
  s.src_addr = kLimitedBroadcast;
  send(s);
  s.src_addr = kSomeGroup;
  send(s);
  expect_nothing_sent();
}

TEST_F(EstablishedTest, SegmentForAnotherAddressDoesNotTouchTheConnection) {
  // Same ports, other destination: not this connection's (the stack has one address and does
  // not forward).
  Segment s = seg(f::kRst, rcv);
  s.dst_addr = kOtherUnicast;
  send(s);
  EXPECT_EQ(state_of(conn), State::kEstablished);
  EXPECT_EQ(stack->counters().not_for_us, 1U);
}

TEST_F(StackTest, BadIpHeaderChecksumIsDroppedBeforeAnythingElse) {
  Packet p = emit_segment(seg(f::kSyn, 5000));
  p[8] ^= 0x01;  // TTL, without fixing the header checksum
  stack->input(p, now);
  expect_nothing_sent();
  EXPECT_EQ(stack->counters().bad_checksum, 1U);
}

TEST_F(StackTest, ConnectToBroadcastOrMulticastFailsWithEnetunreach) {
  // MUST-46: an OPEN naming a broadcast or multicast address is an error (Linux: ENETUNREACH).
  const SocketId s = stack->socket().value();
  for (const std::uint32_t addr : {kLimitedBroadcast, kAllHosts, kSomeGroup}) {
    EXPECT_EQ(stack->connect(s, Endpoint{addr, kRemotePort}).error(), ENETUNREACH);
  }
  expect_nothing_sent();
  EXPECT_EQ(stack->counters().active_opens, 0U);
  // The socket is still unconnected and can connect to a unicast address.
  EXPECT_EQ(stack->connect(s, Endpoint{kRemoteAddr, kRemotePort}).error(), EINPROGRESS);
  EXPECT_EQ(sent_one().flags, f::kSyn);
}

// --- MUST-43: the local address of an OPEN ------------------------------------------------

constexpr std::uint32_t kAliasAddr = 0xc0a80003;  // 192.168.0.3, the stack's second address

class MultihomedTest : public StackTest {
 protected:
  void SetUp() override {
    StackTest::SetUp();
    config.alias_addrs = {kAliasAddr};
    make_stack();
  }
  static Segment to(std::uint32_t dst, Segment s) {
    s.dst_addr = dst;
    return s;
  }
};

TEST_F(MultihomedTest, BindToAnAddressTheHostDoesNotHaveIsEaddrnotavail) {
  const SocketId s = stack->socket().value();
  EXPECT_EQ(stack->bind(s, Endpoint{kOtherUnicast, kLocalPort}).error(), EADDRNOTAVAIL);
  EXPECT_TRUE(stack->bind(s, Endpoint{kAliasAddr, kLocalPort}).ok());
  EXPECT_EQ(stack->local_endpoint(s).value(), (Endpoint{kAliasAddr, kLocalPort}));
}

TEST_F(MultihomedTest, ListenerBoundToOneAddressIgnoresTheOther) {
  // RFC 9293 3.9.1.1: a passive OPEN with a local address awaits connections to that address.
  const SocketId l = stack->socket().value();
  ASSERT_TRUE(stack->bind(l, Endpoint{kAliasAddr, kLocalPort}).ok());
  ASSERT_TRUE(stack->listen(l, 8).ok());
  send(to(kLocalAddr, seg(f::kSyn, kRemoteIss)));
  const Segment rst = sent_one();
  EXPECT_EQ(rst.flags, f::kRst | f::kAck) << "the port is closed on the primary address";
  EXPECT_EQ(rst.src_addr, kLocalAddr);
  send(to(kAliasAddr, seg(f::kSyn, kRemoteIss)));
  const Segment synack = sent_one();
  EXPECT_EQ(synack.flags, f::kSyn | f::kAck);
  EXPECT_EQ(synack.src_addr, kAliasAddr);
  EXPECT_EQ(stack->listen_queues(l)->syn_queue, 1U);
}

TEST_F(MultihomedTest, WildcardListenerAnswersFromTheAddressTheSynWasSentTo) {
  // RFC 9293 3.9.1.1: unspecified, the connection takes the local address the request used.
  const SocketId l = stack->socket().value();
  ASSERT_TRUE(stack->bind(l, kLocalPort).ok());
  ASSERT_TRUE(stack->listen(l, 8).ok());
  send(to(kAliasAddr, seg(f::kSyn, kRemoteIss)));
  const Segment synack = sent_one();
  EXPECT_EQ(synack.src_addr, kAliasAddr);
  send(to(kAliasAddr, seg(f::kAck, kRemoteIss + 1, synack.seq.value() + 1)));
  expect_nothing_sent();
  const SocketId c = stack->accept(l).value();
  EXPECT_EQ(stack->local_endpoint(c).value(), (Endpoint{kAliasAddr, kLocalPort}));
  EXPECT_EQ(state_of(c), State::kEstablished);
}

TEST_F(MultihomedTest, ActiveOpenUsesTheBoundLocalAddress) {
  const SocketId s = stack->socket().value();
  ASSERT_TRUE(stack->bind(s, Endpoint{kAliasAddr, 0}).ok());
  EXPECT_EQ(stack->connect(s, Endpoint{kRemoteAddr, kRemotePort}).error(), EINPROGRESS);
  const Segment syn = sent_one();
  EXPECT_EQ(syn.flags, f::kSyn);
  EXPECT_EQ(syn.src_addr, kAliasAddr);
  EXPECT_EQ(stack->local_endpoint(s).value().addr, kAliasAddr);
  // An unbound socket uses the primary address.
  const SocketId u = stack->socket().value();
  EXPECT_EQ(stack->connect(u, Endpoint{kRemoteAddr, kRemotePort}).error(), EINPROGRESS);
  EXPECT_EQ(sent_one().src_addr, kLocalAddr);
}

// --- IP_TOS and IP_TTL (MUST-48, MUST-49) ---------------------------------------------------

TEST_F(SynSentTest, DefaultsAreTos0AndTtl64) {
  // The SYN of the fixture has gone; a retransmission shows the same header.
  fire_next_timer();
  const Segment syn = sent_one();
  EXPECT_EQ(syn.tos, 0);
  EXPECT_EQ(syn.ttl, 64);
  EXPECT_EQ(stack->getsockopt(conn, SocketOption::kTos).value(), 0);
  EXPECT_EQ(stack->getsockopt(conn, SocketOption::kTtl).value(), 64);
}

TEST_F(StackTest, IpTosAndIpTtlApplyToTheSyn) {
  const SocketId s = stack->socket().value();
  ASSERT_TRUE(stack->setsockopt(s, SocketOption::kTos, 0x10).ok());  // DSCP 4 (0x10 >> 2)
  ASSERT_TRUE(stack->setsockopt(s, SocketOption::kTtl, 7).ok());
  ASSERT_EQ(stack->connect(s, Endpoint{kRemoteAddr, kRemotePort}).error(), EINPROGRESS);
  const Segment syn = sent_one();
  EXPECT_EQ(syn.tos, 0x10);
  EXPECT_EQ(syn.ttl, 7);
  EXPECT_EQ(stack->snapshot(s)->tos, 0x10);
  EXPECT_EQ(stack->snapshot(s)->ttl, 7);
}

TEST_F(StackTest, IpTosKeepsItsEcnBitsClear) {
  // RFC 3168: the low two bits are ECN, TCP's own; Linux keeps them for a stream socket.
  const SocketId s = stack->socket().value();
  ASSERT_TRUE(stack->setsockopt(s, SocketOption::kTos, 0xbb).ok());
  EXPECT_EQ(stack->getsockopt(s, SocketOption::kTos).value(), 0xb8);
  ASSERT_TRUE(stack->setsockopt(s, SocketOption::kTos, 0x1fc).ok());  // one octet is taken
  EXPECT_EQ(stack->getsockopt(s, SocketOption::kTos).value(), 0xfc);
}

TEST_F(StackTest, IpTtlTakes1To255OrMinus1ForTheDefault) {
  const SocketId s = stack->socket().value();
  for (const int bad : {0, 256, -2}) {
    EXPECT_EQ(stack->setsockopt(s, SocketOption::kTtl, bad).error(), EINVAL) << bad;
  }
  ASSERT_TRUE(stack->setsockopt(s, SocketOption::kTtl, 255).ok());
  EXPECT_EQ(stack->getsockopt(s, SocketOption::kTtl).value(), 255);
  ASSERT_TRUE(stack->setsockopt(s, SocketOption::kTtl, 1).ok());
  EXPECT_EQ(stack->getsockopt(s, SocketOption::kTtl).value(), 1);
  ASSERT_TRUE(stack->setsockopt(s, SocketOption::kTtl, -1).ok());
  EXPECT_EQ(stack->getsockopt(s, SocketOption::kTtl).value(), 64);
}

TEST_F(StackTest, DefaultTtlIsConfigurable) {
  config.default_ttl = 100;  // MUST-49, stack-wide (Linux's ip_default_ttl)
  make_stack();
  const SocketId s = stack->socket().value();
  EXPECT_EQ(stack->getsockopt(s, SocketOption::kTtl).value(), 100);
  ASSERT_EQ(stack->connect(s, Endpoint{kRemoteAddr, kRemotePort}).error(), EINPROGRESS);
  EXPECT_EQ(sent_one().ttl, 100);
  send(seg(f::kSyn, 5000));  // to a closed port: the RST has the default TTL too
  EXPECT_EQ(sent_one().ttl, 100);
}

TEST_F(ListenTest, AcceptedConnectionInheritsTheListenersTosAndTtl) {
  ASSERT_TRUE(stack->setsockopt(listener, SocketOption::kTos, 0x28).ok());
  ASSERT_TRUE(stack->setsockopt(listener, SocketOption::kTtl, 9).ok());
  send(seg(f::kSyn, kRemoteIss));
  const Segment synack = sent_one();
  EXPECT_EQ(synack.tos, 0x28);
  EXPECT_EQ(synack.ttl, 9);
  send(seg(f::kAck, kRemoteIss + 1, synack.seq.value() + 1));
  const SocketId c = stack->accept(listener).value();
  EXPECT_EQ(stack->getsockopt(c, SocketOption::kTos).value(), 0x28);
  EXPECT_EQ(stack->getsockopt(c, SocketOption::kTtl).value(), 9);
  ASSERT_EQ(stack->write(c, bytes("data")).value(), 4U);
  const Segment data = sent_one();
  EXPECT_EQ(data.tos, 0x28);
  EXPECT_EQ(data.ttl, 9);
}

TEST_F(ListenTest, CookieSynAckCarriesTheListenersTosAndTtl) {
  ASSERT_TRUE(stack->setsockopt(listener, SocketOption::kTos, 0x20).ok());
  ASSERT_TRUE(stack->setsockopt(listener, SocketOption::kTtl, 12).ok());
  ASSERT_TRUE(stack->listen(listener, 1).ok());
  send(seg(f::kSyn, kRemoteIss));
  sent_one();  // fills the SYN queue
  Segment second = seg(f::kSyn, kRemoteIss);
  second.src_port = kRemotePort + 1;
  send(second);
  const Segment cookie = sent_one();
  ASSERT_EQ(stack->counters().cookies_sent, 1U);
  EXPECT_EQ(cookie.tos, 0x20);
  EXPECT_EQ(cookie.ttl, 12);
}

TEST_F(EstablishedTest, TosAndTtlCanChangeDuringTheConnection) {
  // SHLD-21: the application may change the DS field while connected.
  ASSERT_TRUE(stack->setsockopt(conn, SocketOption::kTos, 0xb8).ok());  // EF
  ASSERT_TRUE(stack->setsockopt(conn, SocketOption::kTtl, 33).ok());
  ASSERT_EQ(stack->write(conn, bytes("x")).value(), 1U);
  const Segment data = sent_one();
  EXPECT_EQ(data.tos, 0xb8);
  EXPECT_EQ(data.ttl, 33);
  send(seg(f::kAck | f::kPsh, rcv, snd + 1, "y"));  // its ACK too
  advance_by(1s);
  const Segment ack = sent_one();
  EXPECT_EQ(ack.tos, 0xb8);
  EXPECT_EQ(ack.ttl, 33);
}

TEST_F(EstablishedTest, AbortRstCarriesTheConnectionsTosAndTtl) {
  ASSERT_TRUE(stack->setsockopt(conn, SocketOption::kTos, 0x48).ok());
  ASSERT_TRUE(stack->setsockopt(conn, SocketOption::kTtl, 5).ok());
  ASSERT_TRUE(stack->abort(conn).ok());
  const Segment rst = sent_one();
  EXPECT_EQ(rst.flags, f::kRst | f::kAck);
  EXPECT_EQ(rst.tos, 0x48);
  EXPECT_EQ(rst.ttl, 5);
}

TEST_F(StackTest, RstToAClosedPortTakesTheDsFieldOfTheSegmentItAnswers) {
  // No socket to take it from: as Linux's tcp_v4_send_reset, the RST reflects the segment's DS
  // field, without its ECN bits, with the default TTL.
  Segment s = seg(f::kSyn, 5000);
  s.tos = 0x29;  // AF11 (0x28) and ECT(1)
  s.ttl = 3;
  send(s);
  const Segment rst = sent_one();
  EXPECT_EQ(rst.tos, 0x28);
  EXPECT_EQ(rst.ttl, 64);
}

}  // namespace
}  // namespace synack::stack::testing
