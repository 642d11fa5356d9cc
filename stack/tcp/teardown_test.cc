// Closing connections (RFC 9293 3.6): active, passive, simultaneous and half close, TIME-WAIT,
// and the timers that end connections whose peer went away.
#include <array>
#include <optional>

#include "stack/tcp/stack_fixture.h"

namespace synack::stack::testing {
namespace {

// Shuttles packets between two stacks until neither has anything to send.
void exchange(Stack& a, Stack& b, Instant now) {
  for (int round = 0; round < 16 && (a.pending_output() + b.pending_output()) > 0; ++round) {
    for (const Packet& p : a.take_output()) b.input(p, now);
    for (const Packet& p : b.take_output()) a.input(p, now);
  }
}

// --- ESTABLISHED

TEST_F(EstablishedTest, DataFlowsBothWaysAndIsAcknowledged) {
  ASSERT_EQ(stack->write(conn, bytes("ping")).value(), 4U);
  const Segment data = sent_one();
  EXPECT_EQ(data.flags, f::kAck | f::kPsh);
  EXPECT_EQ(data.seq.value(), snd);
  EXPECT_EQ(data.payload, bytes("ping"));
  send(seg(f::kAck | f::kPsh, rcv, snd + 4, "pong"));
  EXPECT_EQ(stack->read(conn, 10).value(), bytes("pong"));
  // A small segment's ACK is delayed (at most 40 ms), then sent on its own.
  expect_nothing_sent();
  EXPECT_EQ(fire_next_timer(), 40ms);
  const Segment ack = sent_one();
  EXPECT_EQ(ack.ack.value(), rcv + 4);
  EXPECT_EQ(stack->snapshot(conn)->snd_una.value(), snd + 4);
}

TEST_F(EstablishedTest, EveryOtherFullSizedSegmentIsAcknowledgedAtOnce) {
  const std::string full(536, 'x');  // no MSS option from the peer: 536 (RFC 9293 3.7.1)
  send(seg(f::kAck, rcv, snd, full));
  expect_nothing_sent();
  send(seg(f::kAck, rcv + 536, snd, full));
  EXPECT_EQ(sent_one().ack.value(), rcv + 1072);
}

// A connection whose receive buffer (2400 bytes) is smaller than one unscaled window.
class SmallBufferTest : public EstablishedTest {
 protected:
  void SetUp() override {
    config.rcv_buf = 2400;
    EstablishedTest::SetUp();
  }
};

TEST_F(SmallBufferTest, ReadingAFullBufferAnnouncesTheReopenedWindow) {
  // Receiver SWS avoidance (RFC 9293 3.8.6.2.2): the update goes once the window has grown by a
  // segment, not byte by byte.
  const std::string chunk(400, 'z');
  for (std::uint32_t i = 0; i < 6; ++i) send(seg(f::kAck, rcv + i * 400, snd, chunk));
  advance_by(40ms);
  const auto acks = sent();
  ASSERT_FALSE(acks.empty());
  EXPECT_EQ(acks.back().ack.value(), rcv + 2400);
  EXPECT_EQ(acks.back().window, 0);  // the buffer is full
  EXPECT_EQ(stack->read(conn, 100).value().size(), 100U);
  expect_nothing_sent();  // 100 bytes free: not worth announcing
  EXPECT_EQ(stack->read(conn, 5000).value().size(), 2300U);
  const Segment update = sent_one();
  EXPECT_EQ(update.ack.value(), rcv + 2400);
  EXPECT_EQ(update.window, 2400);
}

TEST_F(SmallBufferTest, DataBeyondTheWindowIsNotTaken) {
  const std::string too_much(3000, 'y');
  send(seg(f::kAck, rcv, snd, too_much));
  EXPECT_EQ(stack->unread_bytes(conn).value(), 2400U);
  EXPECT_EQ(stack->snapshot(conn)->rcv_nxt.value(), rcv + 2400);
}

TEST_F(EstablishedTest, ReadWithNothingThereIsEagain) {
  EXPECT_EQ(stack->read(conn, 10).error(), EAGAIN);
}

// --- active close

TEST_F(FinWait1Test, AckOfFinGoesToFinWait2) {
  send(seg(f::kAck, rcv, snd));
  EXPECT_EQ(state_of(conn), State::kFinWait2);
  EXPECT_FALSE(stack->snapshot(conn)->rtx_deadline);
}

TEST_F(FinWait1Test, FinAckGoesStraightToTimeWait) {
  send(seg(f::kFin | f::kAck, rcv, snd));
  const Segment ack = sent_one();
  EXPECT_EQ(ack.flags, f::kAck);
  EXPECT_EQ(ack.ack.value(), rcv + 1);  // the FIN consumed one sequence number
  EXPECT_EQ(state_of(conn), State::kTimeWait);
}

TEST_F(FinWait1Test, SimultaneousCloseGoesThroughClosing) {
  // The peer's FIN crosses ours: it does not acknowledge our FIN yet.
  send(seg(f::kFin | f::kAck, rcv, snd - 1));
  EXPECT_EQ(sent_one().ack.value(), rcv + 1);
  EXPECT_EQ(state_of(conn), State::kClosing);
  send(seg(f::kAck, rcv + 1, snd));
  EXPECT_EQ(state_of(conn), State::kTimeWait);
}

TEST_F(FinWait1Test, FinIsRetransmittedAndTheConnectionGivesUpAfterRetries2) {
  int fins = 0;
  while (stack->next_deadline()) {
    fire_next_timer();
    for (const Segment& s : sent()) {
      EXPECT_EQ(s.flags, f::kFin | f::kAck);
      EXPECT_EQ(s.seq.value(), snd - 1);
      ++fins;
    }
  }
  EXPECT_EQ(fins, config.retries2);
  EXPECT_TRUE(stack->connections().empty());
  EXPECT_EQ(stack->read(conn, 10).error(), ETIMEDOUT);
}

TEST_F(FinWait1Test, OrphanedFinGivesUpAfterOrphanRetries) {
  ASSERT_TRUE(stack->close(conn).ok());
  int fins = 0;
  while (stack->next_deadline()) {
    fire_next_timer();
    fins += static_cast<int>(sent().size());
  }
  EXPECT_EQ(fins, config.orphan_retries);
  EXPECT_TRUE(stack->connections().empty());
}

TEST_F(FinWait2Test, TheOtherDirectionStillDelivers) {
  // Half close (MAY-1): after shutdown(SHUT_WR) the peer's data keeps arriving.
  send(seg(f::kAck | f::kPsh, rcv, snd, "more"));
  EXPECT_EQ(stack->read(conn, 10).value(), bytes("more"));
  send(seg(f::kFin | f::kAck, rcv + 4, snd));
  sent();
  EXPECT_TRUE(stack->read(conn, 10).value().empty());  // the FIN: end of stream
  EXPECT_EQ(state_of(conn), State::kTimeWait);
}

TEST_F(FinWait2Test, OrphanTimesOutAfterFinTimeout) {
  ASSERT_TRUE(stack->close(conn).ok());
  EXPECT_EQ(only_connection_state(), State::kFinWait2);
  EXPECT_EQ(fire_next_timer(), 60s);  // tcp_fin_timeout
  expect_nothing_sent();
  EXPECT_TRUE(stack->connections().empty());
}

TEST_F(FinWait2Test, WithTheSocketOpenItWaitsForThePeer) {
  advance_by(3600s);
  EXPECT_EQ(state_of(conn), State::kFinWait2);
}

// --- TIME-WAIT

TEST_F(TimeWaitTest, LastsTwoMslThenCloses) {
  EXPECT_EQ(fire_next_timer(), 60s);  // 2*MSL, MSL 30 s (MUST-13)
  expect_nothing_sent();
  EXPECT_TRUE(stack->connections().empty());
  EXPECT_TRUE(stack->read(conn, 10).value().empty());
}

TEST_F(TimeWaitTest, RetransmittedFinIsAcknowledgedAndRestartsTheTimer) {
  advance_by(30s);
  send(seg(f::kFin | f::kAck, rcv - 1, snd));
  const Segment ack = sent_one();
  EXPECT_EQ(ack.flags, f::kAck);
  EXPECT_EQ(ack.ack.value(), rcv);
  EXPECT_EQ(stack->snapshot(conn)->time_wait_deadline, now + 60s);
}

TEST_F(TimeWaitTest, OldDuplicateDataIsAcknowledgedAndDropped) {
  send(seg(f::kAck | f::kPsh, rcv - 5, snd, "old"));
  EXPECT_EQ(sent_one().ack.value(), rcv);
  EXPECT_EQ(state_of(conn), State::kTimeWait);
  EXPECT_EQ(stack->unread_bytes(conn).value(), 0U);
}

// RFC 9293 3.10.5 ABORT in CLOSING, LAST-ACK or TIME-WAIT: "ok", delete the TCB, no RST (both
// FINs have been sent; found by session_fuzzer: SO_LINGER {1, 0} and close() reset from
// TIME-WAIT, a RST the peer's next segment had not asked for).
// Data the peer sent and this stack acknowledged stays readable when the connection then ends
// cleanly (TIME-WAIT runs out, or LAST-ACK's FIN is acknowledged) while the application still
// holds the socket, as on Linux: the peer was told it arrived (found by pair_fuzzer: read()
// returned 0 and the bytes were gone).
TEST_F(EstablishedTest, UnreadDataOutlivesACleanEnd) {
  ASSERT_TRUE(stack->shutdown(conn, Shutdown::kWrite).ok());
  EXPECT_EQ(sent_one().flags, f::kFin | f::kAck);
  send(seg(f::kFin | f::kAck | f::kPsh, rcv, snd + 1, "hello"));
  EXPECT_EQ(sent_one().ack.value(), rcv + 6);
  ASSERT_EQ(state_of(conn), State::kTimeWait);
  fire_next_timer();  // 2*MSL
  ASSERT_TRUE(stack->connections().empty());
  EXPECT_EQ(stack->unread_bytes(conn).value(), 5U);
  EXPECT_EQ(stack->read(conn, 3).value(), bytes("hel"));
  EXPECT_EQ(stack->read(conn, 100).value(), bytes("lo"));
  EXPECT_TRUE(stack->read(conn, 100).value().empty());  // then the end of the stream
}

TEST_F(TimeWaitTest, AbortDeletesItWithoutARst) {
  ASSERT_TRUE(stack->abort(conn).ok());
  expect_nothing_sent();
  EXPECT_TRUE(stack->connections().empty());
}

TEST_F(TimeWaitTest, LingerZeroCloseDeletesItWithoutARst) {
  ASSERT_TRUE(stack->setsockopt_linger(conn, true, 0).ok());
  ASSERT_TRUE(stack->close(conn).ok());
  expect_nothing_sent();
  EXPECT_TRUE(stack->connections().empty());
}

TEST_F(TimeWaitTest, RstDoesNotAssassinateIt) {
  // RFC 1337: TIME-WAIT survives a RST (RFC 9293 would close it).
  send(seg(f::kRst, rcv));
  expect_nothing_sent();
  EXPECT_EQ(state_of(conn), State::kTimeWait);
}

TEST_F(TimeWaitTest, NewSynBeyondTheOldSequenceSpaceReopensThroughAListener) {
  // MAY-2, as Linux: a SYN above RCV.NXT ends TIME-WAIT and goes to the listener.
  const SocketId l = stack->socket().value();
  ASSERT_TRUE(stack->setsockopt(l, SocketOption::kReuseAddr, 1).ok());
  // The port belongs to our TIME-WAIT connection's socket; listen on it from a fresh stack
  // arrangement instead: close the old socket first so the port is free.
  ASSERT_TRUE(stack->close(conn).ok());
  ASSERT_TRUE(stack->bind(l, kLocalPort).ok());
  ASSERT_TRUE(stack->listen(l, 4).ok());
  send(seg(f::kSyn, rcv + 100000));
  const Segment synack = sent_one();
  EXPECT_EQ(synack.flags, f::kSyn | f::kAck);
  EXPECT_EQ(synack.ack.value(), rcv + 100001);
  EXPECT_EQ(only_connection_state(), State::kSynReceived);
}

// --- passive close

TEST_F(CloseWaitTest, ReadReturnsEndOfStreamAndTheFinIsAcknowledgedWithin40ms) {
  EXPECT_TRUE(stack->read(conn, 10).value().empty());
  EXPECT_NE(stack->events(conn) & event::kRdHup, 0U);
  expect_nothing_sent();
  EXPECT_EQ(fire_next_timer(), 40ms);
  EXPECT_EQ(sent_one().ack.value(), rcv);
}

TEST_F(CloseWaitTest, WritingStillWorks) {
  ASSERT_EQ(stack->write(conn, bytes("bye")).value(), 3U);
  const Segment data = sent_one();
  EXPECT_EQ(data.payload, bytes("bye"));
  EXPECT_EQ(data.ack.value(), rcv);  // the FIN's ACK rides on the data
}

TEST_F(LastAckTest, ThreeWayCloseCombinedTheFinWithTheAck) {
  // The fixture's close() came at once: one FIN,ACK segment both acknowledged the peer's FIN
  // and carried ours. The peer's ACK ends the connection.
  EXPECT_EQ(only_connection_state(), State::kLastAck);
  send(seg(f::kAck, rcv, snd));
  expect_nothing_sent();
  EXPECT_TRUE(stack->connections().empty());
}

TEST_F(LastAckTest, LostFinIsRetransmitted) {
  // The handshake measured an RTT of zero: RTO = max(min RTO, 0 + max(G, 4 * 0)) = 200 ms.
  EXPECT_EQ(fire_next_timer(), 200ms);
  const Segment fin = sent_one();
  EXPECT_EQ(fin.flags, f::kFin | f::kAck);
  EXPECT_EQ(fin.seq.value(), snd - 1);
}

// --- two stacks

TEST_F(StackTest, SimultaneousCloseBetweenTwoStacksEndsInTimeWaitOnBoth) {
  const auto peer_stack = make_peer(9);
  Stack& peer = *peer_stack;
  const SocketId l = peer.socket().value();
  ASSERT_TRUE(peer.bind(l, kRemotePort).ok());
  ASSERT_TRUE(peer.listen(l, 4).ok());
  const SocketId c = stack->socket().value();
  stack->connect(c, Endpoint{kRemoteAddr, kRemotePort});
  exchange(*stack, peer, now);
  const SocketId s = peer.accept(l).value();
  // Both close before either FIN arrives.
  ASSERT_TRUE(stack->shutdown(c, Shutdown::kWrite).ok());
  ASSERT_TRUE(peer.shutdown(s, Shutdown::kWrite).ok());
  auto ours = stack->take_output();
  auto theirs = peer.take_output();
  for (const Packet& p : ours) peer.input(p, now);
  for (const Packet& p : theirs) stack->input(p, now);
  EXPECT_EQ(state_of(c), State::kClosing);
  EXPECT_EQ(peer.snapshot(s)->state, State::kClosing);
  exchange(*stack, peer, now);
  EXPECT_EQ(state_of(c), State::kTimeWait);
  EXPECT_EQ(peer.snapshot(s)->state, State::kTimeWait);
}

// Stack::connection(remote) picks, among the connections with one remote end, the first in
// connections() order not in TIME-WAIT, else the last: checked against that rule applied to
// connections() at each step, and against the expected local port.
TEST_F(StackTest, ConnectionToARemoteEndPrefersOneNotInTimeWait) {
  const auto peer_stack = make_peer(9);
  Stack& peer = *peer_stack;
  constexpr std::uint16_t kOurPort = 41000;
  const std::array<std::uint16_t, 2> peer_ports = {kRemotePort, kRemotePort + 1};
  std::array<SocketId, 2> ours{};
  std::array<SocketId, 2> theirs{};
  for (std::size_t i = 0; i < 2; ++i) {
    const SocketId l = peer.socket().value();
    ASSERT_TRUE(peer.bind(l, peer_ports[i]).ok());
    ASSERT_TRUE(peer.listen(l, 4).ok());
    ours[i] = stack->socket().value();
    ASSERT_TRUE(stack->setsockopt(ours[i], SocketOption::kReuseAddr, 1).ok());
    ASSERT_TRUE(stack->bind(ours[i], kOurPort).ok());
    stack->connect(ours[i], Endpoint{kRemoteAddr, peer_ports[i]});
    exchange(*stack, peer, now);
    theirs[i] = peer.accept(l).value();
  }
  const Endpoint us{kLocalAddr, kOurPort};
  auto by_rule = [&]() -> std::optional<Snapshot> {
    std::optional<Snapshot> found;
    for (const Snapshot& c : peer.connections()) {
      if (c.remote_addr != us.addr || c.remote_port != us.port) continue;
      if (!found || found->state == State::kTimeWait) found = c;
    }
    return found;
  };
  // The peer closes first, so its end goes to TIME-WAIT.
  auto peer_closes = [&](std::size_t i) {
    ASSERT_TRUE(peer.close(theirs[i]).ok());
    exchange(*stack, peer, now);
    ASSERT_TRUE(stack->close(ours[i]).ok());
    exchange(*stack, peer, now);
    ASSERT_EQ(peer.connections()[i].state, State::kTimeWait);
  };

  ASSERT_EQ(peer.connection(us)->local_port, peer_ports[0]);  // both live: the first
  EXPECT_EQ(peer.connection(us)->local_port, by_rule()->local_port);
  peer_closes(0);
  ASSERT_EQ(peer.connection(us)->local_port, peer_ports[1]);  // the live one, though later
  EXPECT_EQ(peer.connection(us)->local_port, by_rule()->local_port);
  peer_closes(1);
  ASSERT_EQ(peer.connection(us)->local_port, peer_ports[1]);  // all in TIME-WAIT: the last
  EXPECT_EQ(peer.connection(us)->local_port, by_rule()->local_port);
  EXPECT_FALSE(peer.connection(Endpoint{kLocalAddr, kOurPort + 1}));
  EXPECT_FALSE(peer.connection(Endpoint{kRemoteAddr, kOurPort}));
}

}  // namespace
}  // namespace synack::stack::testing

namespace synack::stack::testing {
namespace {

// Found by the black-box oracle (send-within-window): a retransmission resent a full MSS from
// SND.UNA, including bytes never sent because the peer's window was smaller.
TEST_F(EstablishedTest, RetransmissionResendsOnlyWhatWasSent) {
  send(seg(f::kAck, rcv, snd, "", 512));  // the peer's window shrinks to 512
  ASSERT_EQ(stack->write(conn, std::vector<std::uint8_t>(1000, 'q')).value(), 1000U);
  // Sender SWS avoidance (RFC 9293 3.8.6.2.1): 512 bytes is less than half the largest window
  // offered, so they wait for the override timeout.
  EXPECT_THAT(sent(), ::testing::IsEmpty());
  fire_next_timer();
  const Segment first = sent_one();
  EXPECT_EQ(first.payload.size(), 512U);
  fire_next_timer();  // RTO: nothing was acknowledged
  const Segment again = sent_one();
  EXPECT_EQ(again.seq.value(), snd);
  EXPECT_EQ(again.payload.size(), 512U);  // not the 536-byte MSS
}

// Found by the oracle's fuzzing (send-within-window): RFC 9293 3.10.7.4 updates the window only
// when SND.UNA =< SEG.ACK; an older ACK (still acceptable under RFC 5961) must not move it.
TEST_F(EstablishedTest, OldAckDoesNotUpdateTheWindow) {
  ASSERT_EQ(stack->write(conn, bytes("0123456789")).value(), 10U);
  sent();
  send(seg(f::kAck | f::kPsh, rcv, snd + 10, "abcde", 1000));  // all acked, window 1000
  EXPECT_EQ(stack->snapshot(conn)->snd_wnd, 1000U);
  // Later data (SND.WL1 < SEG.SEQ) carrying a stale SEG.ACK below SND.UNA: not a window update.
  send(seg(f::kAck | f::kPsh, rcv + 5, snd + 5, "fghij", 60000));
  EXPECT_EQ(stack->snapshot(conn)->snd_wnd, 1000U);
  EXPECT_EQ(stack->read(conn, 20).value(), bytes("abcdefghij"));  // the data itself is fine
}

// --- CLOSE in SYN-RECEIVED (RFC 9293 3.10.4) ---------------------------------------------

// A simultaneous open in SYN-RECEIVED: our SYN,ACK out, the peer's ACK of it not yet here.
class SimultaneousSynReceivedTest : public SynSentTest {
 protected:
  void SetUp() override {
    SynSentTest::SetUp();
    send(seg(f::kSyn, kRemoteIss));
    ASSERT_EQ(sent_one().flags, f::kSyn | f::kAck);
    ASSERT_EQ(state_of(conn), State::kSynReceived);
  }
};

TEST_F(SimultaneousSynReceivedTest, ShutdownSendsTheFinAtOnce) {
  // "If no SENDs have been issued and there is no pending data to send, then form a FIN segment
  // and send it, and enter FIN-WAIT-1 state."
  ASSERT_TRUE(stack->shutdown(conn, Shutdown::kWrite).ok());
  const Segment fin = sent_one();
  EXPECT_EQ(fin.flags, f::kFin | f::kAck);
  EXPECT_EQ(fin.seq.value(), client_iss + 1);
  EXPECT_EQ(fin.ack.value(), kRemoteIss + 1);
  EXPECT_EQ(state_of(conn), State::kFinWait1);
  // One ACK for the SYN and the FIN: synchronized and half-closed at once.
  send(seg(f::kAck, kRemoteIss + 1, client_iss + 2));
  expect_nothing_sent();
  EXPECT_EQ(state_of(conn), State::kFinWait2);
  EXPECT_EQ(stack->snapshot(conn)->snd_una.value(), client_iss + 2);
  // The peer's data still flows to us.
  send(seg(f::kAck | f::kPsh, kRemoteIss + 1, client_iss + 2, "hello"));
  EXPECT_EQ(stack->read(conn, 10).value(), bytes("hello"));
}

TEST_F(SimultaneousSynReceivedTest, TimeoutResendsTheSynAckThenTheFin) {
  ASSERT_TRUE(stack->shutdown(conn, Shutdown::kWrite).ok());
  ASSERT_EQ(sent_one().flags, f::kFin | f::kAck);
  // Nothing came back: the head of the queue, the SYN,ACK, goes again.
  fire_next_timer();
  const Segment synack = sent_one();
  EXPECT_EQ(synack.flags, f::kSyn | f::kAck);
  EXPECT_EQ(synack.seq.value(), client_iss);
  // The peer acknowledges only the SYN (the FIN was lost): the FIN is what times out next.
  send(seg(f::kAck, kRemoteIss + 1, client_iss + 1));
  expect_nothing_sent();
  EXPECT_EQ(state_of(conn), State::kFinWait1);
  fire_next_timer();
  const Segment fin = sent_one();
  EXPECT_EQ(fin.flags, f::kFin | f::kAck);
  EXPECT_EQ(fin.seq.value(), client_iss + 1);
  send(seg(f::kAck, kRemoteIss + 1, client_iss + 2));
  EXPECT_EQ(state_of(conn), State::kFinWait2);
}

TEST_F(SimultaneousSynReceivedTest, AckOfNeitherSynNorFinGetsARst) {
  // An ACK in SYN-RECEIVED must acknowledge our SYN (RFC 9293 3.10.7.4): one below it is
  // answered <SEQ=SEG.ACK><CTL=RST>, in FIN-WAIT-1 entered from SYN-RECEIVED too.
  ASSERT_TRUE(stack->shutdown(conn, Shutdown::kWrite).ok());
  ASSERT_EQ(sent_one().flags, f::kFin | f::kAck);
  send(seg(f::kAck, kRemoteIss + 1, client_iss));
  const Segment rst = sent_one();
  EXPECT_EQ(rst.flags, f::kRst);
  EXPECT_EQ(rst.seq.value(), client_iss);
  EXPECT_EQ(state_of(conn), State::kFinWait1);
}

TEST_F(SimultaneousSynReceivedTest, CloseSendsTheFinAtOnceToo) {
  ASSERT_TRUE(stack->close(conn).ok());
  const Segment fin = sent_one();
  EXPECT_EQ(fin.flags, f::kFin | f::kAck);
  EXPECT_EQ(only_connection_state(), State::kFinWait1);
  send(seg(f::kAck, kRemoteIss + 1, client_iss + 2));
  EXPECT_EQ(only_connection_state(), State::kFinWait2);
}

}  // namespace
}  // namespace synack::stack::testing
