// Resets (RFC 9293 3.5.2, 3.10.7), their generation for closed ports, their acceptance in each
// state, and the RFC 5961 defences against blind RST, SYN and data injection.
#include "stack/tcp/stack_fixture.h"

namespace synack::stack::testing {
namespace {

// --- no connection, no listener (RFC 9293 3.10.7.1)

TEST_F(StackTest, SegmentWithAckToAClosedPortGetsRstAtItsAckNumber) {
  send(seg(f::kAck | f::kPsh, 5000, 777, "data"));
  const Segment rst = sent_one();
  EXPECT_EQ(rst.flags, f::kRst);  // <SEQ=SEG.ACK><CTL=RST>
  EXPECT_EQ(rst.seq.value(), 777U);
  EXPECT_EQ(rst.src_port, kLocalPort);
  EXPECT_EQ(rst.dst_port, kRemotePort);
}

TEST_F(StackTest, SegmentWithoutAckToAClosedPortGetsRstAckCoveringIt) {
  send(seg(f::kSyn, 5000, 0, "abc"));
  const Segment rst = sent_one();
  EXPECT_EQ(rst.flags, f::kRst | f::kAck);  // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
  EXPECT_EQ(rst.seq.value(), 0U);
  EXPECT_EQ(rst.ack.value(), 5000U + 1 + 3);  // SYN and three bytes
}

TEST_F(StackTest, RstToAClosedPortIsNeverAnsweredWithRst) {
  send(seg(f::kRst, 5000));
  send(seg(f::kRst | f::kAck, 5000, 1));
  expect_nothing_sent();
}

TEST_F(StackTest, BoundButNotListeningSocketIsAClosedPort) {
  const SocketId s = stack->socket().value();
  ASSERT_TRUE(stack->bind(s, kLocalPort).ok());
  send(seg(f::kSyn, 5000));
  EXPECT_EQ(sent_one().flags, f::kRst | f::kAck);
}

TEST_F(StackTest, BadChecksumIsDroppedAndCounted) {
  Packet p = emit_segment(seg(f::kSyn, 5000));
  p[p.size() - 1] ^= 0x40;  // a byte of the TCP header: the checksum no longer verifies
  stack->input(p, now);
  expect_nothing_sent();
  EXPECT_EQ(stack->counters().bad_checksum, 1U);
}

TEST_F(StackTest, SegmentForAnotherAddressIsDropped) {
  Segment s = seg(f::kSyn, 5000);
  s.dst_addr = 0x0a000001;
  send(s);
  expect_nothing_sent();
  EXPECT_EQ(stack->counters().not_for_us, 1U);
}

// --- synchronized states: RFC 5961 section 3

TEST_F(EstablishedTest, ExactRstResetsTheConnection) {
  send(seg(f::kRst, rcv));
  expect_nothing_sent();
  EXPECT_EQ(stack->snapshot(conn), std::nullopt);
  EXPECT_EQ(stack->read(conn, 10).error(), ECONNRESET);  // MUST-12: the user is told
  EXPECT_TRUE(stack->read(conn, 10).value().empty());    // once; then end of stream
  EXPECT_EQ(stack->write(conn, bytes("x")).error(), EPIPE);
}

TEST_F(EstablishedTest, InWindowInexactRstGetsAChallengeAck) {
  send(seg(f::kRst, rcv + 100));
  const Segment ack = sent_one();
  EXPECT_EQ(ack.flags, f::kAck);  // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
  EXPECT_EQ(ack.seq.value(), snd);
  EXPECT_EQ(ack.ack.value(), rcv);
  EXPECT_EQ(state_of(conn), State::kEstablished);
  EXPECT_EQ(stack->counters().challenge_acks, 1U);
}

TEST_F(EstablishedTest, RstOutsideTheWindowIsDroppedSilently) {
  send(seg(f::kRst, rcv + 1000000));
  send(seg(f::kRst, rcv - 1));
  expect_nothing_sent();
  EXPECT_EQ(state_of(conn), State::kEstablished);
}

TEST_F(EstablishedTest, RstExactlyAtTheRightEdgeIsDroppedSilently) {
  // RFC 5961 3.2: only RCV.NXT <= SEG.SEQ < RCV.NXT + RCV.WND earns a challenge ACK. (A pure
  // ACK at the edge is accepted, see DataTest; a RST is not.)
  const std::uint32_t wnd = stack->snapshot(conn)->rcv_wnd;
  send(seg(f::kRst, rcv + wnd));
  expect_nothing_sent();
  send(seg(f::kRst, rcv + wnd - 1));
  EXPECT_EQ(sent_one().flags, f::kAck);  // the last sequence number inside: challenged
  EXPECT_EQ(state_of(conn), State::kEstablished);
}

TEST_F(EstablishedTest, SynGetsAChallengeAckWhateverItsSequenceNumber) {
  // RFC 5961 4.2.
  send(seg(f::kSyn, rcv + 5));
  EXPECT_EQ(sent_one().ack.value(), rcv);
  send(seg(f::kSyn, rcv));
  EXPECT_EQ(sent_one().ack.value(), rcv);
  EXPECT_EQ(state_of(conn), State::kEstablished);
}

// A connection on a stack that sends at most two challenge ACKs a second.
class ChallengeLimitTest : public EstablishedTest {
 protected:
  void SetUp() override {
    config.challenge_ack_limit = 2;  // StackTest::SetUp keeps it
    EstablishedTest::SetUp();
  }
};

TEST_F(ChallengeLimitTest, ChallengeAcksAreRateLimitedPerSecond) {
  // RFC 5961 section 7.
  for (int i = 0; i < 5; ++i) send(seg(f::kRst, rcv + 10));
  EXPECT_EQ(sent().size(), 2U);
  EXPECT_EQ(stack->counters().challenge_acks_suppressed, 3U);
  advance_by(1s);
  send(seg(f::kRst, rcv + 10));
  EXPECT_EQ(sent().size(), 1U);
}

TEST_F(EstablishedTest, AckOfUnsentDataIsAnsweredAndItsDataDropped) {
  // RFC 5961 5.2 / RFC 9293 3.10.7.4: SEG.ACK > SND.NXT.
  send(seg(f::kAck | f::kPsh, rcv, snd + 10, "inject"));
  const Segment ack = sent_one();
  EXPECT_EQ(ack.ack.value(), rcv);
  EXPECT_EQ(stack->unread_bytes(conn).value(), 0U);
}

TEST_F(EstablishedTest, AckTooFarBehindIsAnsweredAndItsDataDropped) {
  // RFC 5961 5.2: SEG.ACK < SND.UNA - MAX.SND.WND (the peer's window is 65535).
  send(seg(f::kAck | f::kPsh, rcv, snd - 70000, "inject"));
  EXPECT_EQ(sent_one().ack.value(), rcv);
  EXPECT_EQ(stack->unread_bytes(conn).value(), 0U);
}

TEST_F(EstablishedTest, OldAckWithinMaxSndWndIsAccepted) {
  send(seg(f::kAck | f::kPsh, rcv, snd - 1000, "fine"));
  EXPECT_EQ(stack->read(conn, 10).value(), bytes("fine"));
}

TEST_F(EstablishedTest, CloseWithUnreadDataSendsRst) {
  // RFC 9293 3.10.4 (SHLD-3) and RFC 2525 2.17: data the application never read is lost; say so.
  send(seg(f::kAck | f::kPsh, rcv, snd, "unread"));
  ASSERT_TRUE(stack->close(conn).ok());
  const Segment rst = sent_one();
  EXPECT_EQ(rst.flags, f::kRst | f::kAck);
  EXPECT_EQ(rst.seq.value(), snd);
  EXPECT_TRUE(stack->connections().empty());
}

TEST_F(EstablishedTest, LingerZeroAbortsWithRst) {
  ASSERT_TRUE(stack->setsockopt_linger(conn, true, 0).ok());
  ASSERT_TRUE(stack->close(conn).ok());
  EXPECT_EQ(sent_one().flags, f::kRst | f::kAck);
  EXPECT_TRUE(stack->connections().empty());
}

TEST_F(EstablishedTest, AbortSendsRst) {
  ASSERT_TRUE(stack->abort(conn).ok());
  const Segment rst = sent_one();
  EXPECT_EQ(rst.flags, f::kRst | f::kAck);
  EXPECT_EQ(rst.seq.value(), snd);
  EXPECT_EQ(rst.ack.value(), rcv);
}

TEST_F(FinWait1Test, ExactRstCloses) {
  send(seg(f::kRst, rcv));
  EXPECT_TRUE(stack->connections().empty());
  EXPECT_EQ(stack->read(conn, 10).error(), ECONNRESET);
}

TEST_F(FinWait2Test, DataAfterCloseIsAnsweredWithRst) {
  // RFC 9293 3.6.1 SHLD-3: once the application has closed, nothing can read new data.
  ASSERT_TRUE(stack->close(conn).ok());
  send(seg(f::kAck | f::kPsh, rcv, snd, "late"));
  const Segment rst = sent_one();
  EXPECT_EQ(rst.flags, f::kRst);  // <SEQ=SEG.ACK><CTL=RST>
  EXPECT_EQ(rst.seq.value(), snd);
  EXPECT_TRUE(stack->connections().empty());
  EXPECT_EQ(stack->counters().data_after_close_resets, 1U);
}

TEST_F(FinWait2Test, DataAfterShutdownIsStillReceived) {
  // shutdown(SHUT_WR) closes only the sending side: the application can still read.
  send(seg(f::kAck | f::kPsh, rcv, snd, "more"));
  EXPECT_EQ(stack->read(conn, 10).value(), bytes("more"));
  EXPECT_EQ(state_of(conn), State::kFinWait2);
}

TEST_F(FinWait2Test, ExactRstCloses) {
  send(seg(f::kRst, rcv));
  EXPECT_TRUE(stack->connections().empty());
}

TEST_F(CloseWaitTest, ExactRstCloses) {
  send(seg(f::kRst, rcv));
  EXPECT_TRUE(stack->connections().empty());
  EXPECT_EQ(stack->write(conn, bytes("x")).error(), ECONNRESET);
}

TEST_F(LastAckTest, ExactRstCloses) {
  send(seg(f::kRst, rcv));
  expect_nothing_sent();
  EXPECT_TRUE(stack->connections().empty());
}

TEST_F(FinWait1Test, RstInClosingCloses) {
  send(seg(f::kFin | f::kAck, rcv, snd - 1));
  sent();
  ASSERT_EQ(state_of(conn), State::kClosing);
  send(seg(f::kRst, rcv + 1));
  EXPECT_TRUE(stack->connections().empty());
}

TEST_F(EstablishedPassiveTest, InWindowRstIsChallengedOnAPassiveConnectionToo) {
  send(seg(f::kRst, kRemoteIss + 50));
  EXPECT_EQ(sent_one().flags, f::kAck);
  EXPECT_EQ(state_of(conn), State::kEstablished);
}

}  // namespace
}  // namespace synack::stack::testing
