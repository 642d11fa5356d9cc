// The data path, by behaviour: segmentation and MSS; reassembly, SACK blocks and delayed ACKs;
// Nagle and silly-window avoidance; urgent data; windows (scale, a shrinking peer, zero window
// and persist); RTT estimation and the RTO; timestamps and PAWS; congestion control and loss
// recovery (NewReno and SACK). The test plays the peer; every test also runs the stack's
// white-box invariants after every segment (the fixture fails on any violation).
#include <functional>
#include <string>

#include "stack/tcp/stack_fixture.h"

namespace synack::stack::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string pattern(std::size_t n, std::size_t from = 0) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (from + i) % 26);
  return s;
}

std::vector<std::size_t> payload_sizes(const std::vector<Segment>& v) {
  std::vector<std::size_t> out;
  for (const Segment& s : v) out.push_back(s.payload.size());
  return out;
}

// An active open the test shapes: the SYN,ACK can be tweaked (options, window) and can arrive
// `rtt` after the SYN.
class DataTest : public StackTest {
 protected:
  void open(const std::function<void(Segment&)>& tweak = {}, Duration rtt = Duration{0},
            const std::function<void(SocketId)>& before_connect = {}) {
    conn = stack->socket().value();
    ASSERT_TRUE(stack->bind(conn, kLocalPort).ok());
    if (before_connect) before_connect(conn);
    ASSERT_EQ(stack->connect(conn, Endpoint{kRemoteAddr, kRemotePort}).error(), EINPROGRESS);
    syn = sent_one();
    iss = syn.seq.value();
    advance_by(rtt);
    Segment synack = seg(f::kSyn | f::kAck, kRemoteIss, iss + 1);
    if (tweak) tweak(synack);
    send(synack);
    const Segment ack = sent_one();
    ASSERT_EQ(ack.flags, f::kAck);
    ASSERT_EQ(state_of(conn), State::kEstablished);
    snd = iss + 1;
    rcv = kRemoteIss + 1;
  }
  std::vector<Segment> write(std::size_t n, std::size_t from = 0) {
    const std::string data = pattern(n, from);
    const auto r = stack->write(conn, bytes(data));
    EXPECT_TRUE(r.ok());
    if (r.ok()) {
      EXPECT_EQ(r.value(), n);
    }
    return sent();
  }
  void ack(std::uint32_t a, std::uint16_t window = kRemoteWindow) {
    send(seg(f::kAck, rcv, a, "", window));
  }
  void ack_with_sack(std::uint32_t a, std::vector<SackBlock> blocks) {
    Segment s = seg(f::kAck, rcv, a);
    s.options.sack = std::move(blocks);
    send(s);
  }
  Snapshot snap() const { return *stack->snapshot(conn); }
  // Sends data until the advertised window is closed (none of it read); returns the peer's next
  // sequence number.
  std::uint32_t fill_receive_window() {
    std::uint32_t at = rcv;
    while (snap().rcv_wnd > 0) {
      const std::uint32_t n = std::min<std::uint32_t>(snap().rcv_wnd, 536);
      send(seg(f::kAck, at, snd, pattern(n)));
      at += n;
      sent();
    }
    return at;
  }

  SocketId conn = -1;
  Segment syn;
  std::uint32_t iss = 0;
  std::uint32_t snd = 0;  // the first sequence number of our data
  std::uint32_t rcv = 0;  // the peer's next sequence number
};

SackBlock block(std::uint32_t left, std::uint32_t right) { return {SeqNum(left), SeqNum(right)}; }

// --- segmentation (RFC 9293 3.7.1, RFC 6691; MUST-15, MUST-16)

TEST_F(DataTest, WritesAreCutAtThePeersMssAndTheTailGoesWithThem) {
  open([](Segment& s) { s.options.mss = 1000; });
  const auto out = write(2500);
  EXPECT_THAT(payload_sizes(out), ElementsAre(1000, 1000, 500));
  EXPECT_EQ(out[0].flags, f::kAck);
  EXPECT_EQ(out[2].flags, f::kAck | f::kPsh);  // PSH on the segment that empties the queue
  EXPECT_EQ(out[1].seq.value(), snd + 1000);
}

TEST_F(DataTest, NoMssOptionMeans536) {
  open();
  EXPECT_EQ(snap().snd_mss, 536);
  EXPECT_THAT(payload_sizes(write(1200)), ElementsAre(536, 536, 128));
}

TEST_F(DataTest, TcpMaxsegLowersTheMssOfferedAndTheSegmentsSent) {
  open([](Segment& s) { s.options.mss = 1460; }, Duration{0},
       [this](SocketId s) { ASSERT_TRUE(stack->setsockopt(s, SocketOption::kMaxSeg, 400).ok()); });
  EXPECT_EQ(syn.options.mss, 400);
  EXPECT_THAT(payload_sizes(write(1000)), ElementsAre(400, 400, 200));
}

TEST_F(DataTest, TimestampsTakeTwelveBytesOfEverySegment) {
  config.timestamps = true;
  make_stack();
  open([](Segment& s) {
    s.options.mss = 1000;
    s.options.timestamps = Timestamps{5, 0};
  });
  EXPECT_EQ(snap().snd_mss, 988);  // RFC 6691: the MSS option excludes TCP options
  EXPECT_THAT(payload_sizes(write(2000)), ElementsAre(988, 988, 24));
}

TEST_F(DataTest, SendBufferBoundsWhatWriteAccepts) {
  open();
  ASSERT_TRUE(stack->setsockopt(conn, SocketOption::kSndBuf, 5000).ok());  // doubled: 10000
  const auto r = stack->write(conn, bytes(pattern(20000)));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 10000U);
  EXPECT_EQ(stack->write(conn, bytes("x")).error(), EAGAIN);
  EXPECT_EQ(stack->events(conn) & event::kOut, 0U);
}

// --- receiving: reassembly (SHLD-31), duplicate ACKs, SACK blocks (RFC 2018)

TEST_F(DataTest, OutOfOrderSegmentIsQueuedAndAnsweredWithAnImmediateDuplicateAck) {
  open();
  send(seg(f::kAck, rcv + 5, snd, "fghij"));
  const Segment dup = sent_one();
  EXPECT_EQ(dup.ack.value(), rcv);
  EXPECT_EQ(stack->read(conn, 100).error(), EAGAIN);
  EXPECT_EQ(snap().ooo_bytes, 5U);
  send(seg(f::kAck, rcv, snd, "abcde"));
  const Segment filled = sent_one();  // filling a gap is acknowledged at once (RFC 5681 4.2)
  EXPECT_EQ(filled.ack.value(), rcv + 10);
  EXPECT_EQ(stack->read(conn, 100).value(), bytes("abcdefghij"));
  EXPECT_EQ(snap().ooo_bytes, 0U);
}

TEST_F(DataTest, OverlappingAndDuplicateSegmentsAreTrimmed) {
  open();
  send(seg(f::kAck, rcv, snd, "abcdef"));
  send(seg(f::kAck, rcv + 3, snd, "defghi"));  // overlaps the front
  send(seg(f::kAck, rcv, snd, "abc"));         // wholly old: a duplicate
  send(seg(f::kAck, rcv + 12, snd, "mno"));    // out of order
  send(seg(f::kAck, rcv + 10, snd, "klmn"));   // overlaps the queued segment's front
  send(seg(f::kAck, rcv + 8, snd, "ijk"));     // fills the gap, overlapping on both sides
  EXPECT_EQ(stack->read(conn, 100).value(), bytes("abcdefghijklmno"));
  EXPECT_EQ(snap().rcv_nxt.value(), rcv + 15);
}

TEST_F(DataTest, SackBlocksReportTheNewestSegmentFirst) {
  config.sack = true;
  make_stack();
  open([](Segment& s) { s.options.sack_permitted = true; });
  ASSERT_TRUE(snap().sack_permitted);
  send(seg(f::kAck, rcv + 100, snd, pattern(50)));
  Segment a = sent_one();
  EXPECT_THAT(a.options.sack, ElementsAre(block(rcv + 100, rcv + 150)));
  send(seg(f::kAck, rcv + 300, snd, pattern(50)));
  a = sent_one();
  EXPECT_THAT(a.options.sack,
              ElementsAre(block(rcv + 300, rcv + 350), block(rcv + 100, rcv + 150)));
  send(seg(f::kAck, rcv + 150, snd, pattern(10)));  // extends the older block: now the newest
  a = sent_one();
  EXPECT_THAT(a.options.sack,
              ElementsAre(block(rcv + 100, rcv + 160), block(rcv + 300, rcv + 350)));
  send(seg(f::kAck, rcv, snd, pattern(100)));  // fills the first gap
  a = sent_one();
  EXPECT_EQ(a.ack.value(), rcv + 160);
  EXPECT_THAT(a.options.sack, ElementsAre(block(rcv + 300, rcv + 350)));
}

TEST_F(DataTest, NoSackBlocksUnlessBothSynsPermittedSack) {
  config.sack = true;
  make_stack();
  open();  // the peer did not send SACK-permitted
  send(seg(f::kAck, rcv + 100, snd, pattern(50)));
  EXPECT_THAT(sent_one().options.sack, IsEmpty());
}

TEST_F(DataTest, OutOfOrderFinWaitsForTheGapToFill) {
  open();
  send(seg(f::kAck | f::kFin, rcv + 3, snd, "def"));
  EXPECT_EQ(sent_one().ack.value(), rcv);
  EXPECT_EQ(state_of(conn), State::kEstablished);
  send(seg(f::kAck, rcv, snd, "abc"));
  EXPECT_EQ(sent_one().ack.value(), rcv + 7);  // the data and the FIN
  EXPECT_EQ(state_of(conn), State::kCloseWait);
  EXPECT_EQ(stack->read(conn, 100).value(), bytes("abcdef"));
  EXPECT_THAT(stack->read(conn, 100).value(), IsEmpty());  // then end of stream
}

TEST_F(DataTest, DataBeyondTheAdvertisedWindowIsNotQueued) {
  open();
  const std::uint32_t wnd = snap().rcv_wnd;
  send(seg(f::kAck, rcv + wnd, snd, "zz"));  // starts at the right edge: unacceptable
  EXPECT_EQ(sent_one().ack.value(), rcv);
  EXPECT_EQ(snap().ooo_bytes, 0U);
  send(seg(f::kAck, rcv + wnd - 1, snd, "yz"));  // straddles the edge: one byte fits
  sent();
  EXPECT_EQ(snap().ooo_bytes, 1U);
}

TEST_F(DataTest, PureAckAtTheRightEdgeOfTheWindowIsAccepted) {
  open();
  write(10);
  // A peer that has filled our window sends its ACKs at RCV.NXT + RCV.WND (see README,
  // deviations): strict RFC 9293 would drop this one.
  send(seg(f::kAck, rcv + snap().rcv_wnd, snd + 10));
  EXPECT_EQ(snap().snd_una.value(), snd + 10);
  expect_nothing_sent();
}

TEST_F(DataTest, RepliesToUnacceptablePureAcksAreRateLimited) {
  open();
  const std::uint32_t beyond = rcv + 100000;  // past the 65535-byte window
  send(seg(f::kAck, beyond, snd));
  EXPECT_EQ(sent_one().ack.value(), rcv);
  send(seg(f::kAck, beyond, snd));
  expect_nothing_sent();  // within 500 ms of the last such reply
  EXPECT_EQ(stack->counters().oow_acks_suppressed, 1U);
  send(seg(f::kAck, rcv - 10, snd, "old"));  // data always gets its duplicate ACK
  EXPECT_EQ(sent_one().ack.value(), rcv);
  advance_by(500ms);
  send(seg(f::kAck, beyond, snd));
  EXPECT_EQ(sent_one().ack.value(), rcv);
}

// --- delayed ACK (RFC 9293 3.8.6.3; MUST-40, SHLD-19; RFC 5681 4.2)

TEST_F(DataTest, OneSegmentIsAcknowledgedWhenTheDelayedAckTimerFires) {
  open();
  send(seg(f::kAck | f::kPsh, rcv, snd, "hello"));
  expect_nothing_sent();
  EXPECT_EQ(fire_next_timer(), 40ms);
  EXPECT_EQ(sent_one().ack.value(), rcv + 5);
}

TEST_F(DataTest, EverySecondFullSizedSegmentIsAcknowledgedAtOnce) {
  open();
  send(seg(f::kAck, rcv, snd, pattern(536)));
  expect_nothing_sent();
  send(seg(f::kAck, rcv + 536, snd, pattern(536)));
  EXPECT_EQ(sent_one().ack.value(), rcv + 1072);
}

TEST_F(DataTest, DataGoingOutCarriesThePendingAck) {
  open();
  send(seg(f::kAck | f::kPsh, rcv, snd, "ping"));
  const auto out = write(4);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].ack.value(), rcv + 4);
  EXPECT_FALSE(snap().delack_deadline.has_value());
}

// --- Nagle (SHLD-7, Minshall's variant) and silly window syndrome avoidance (MUST-38, MUST-39)

TEST_F(DataTest, NagleHoldsAShortSegmentWhileAnotherIsUnacknowledged) {
  open();
  EXPECT_THAT(payload_sizes(write(10)), ElementsAre(10));
  EXPECT_THAT(write(10, 10), IsEmpty());
  EXPECT_THAT(write(10, 20), IsEmpty());
  ack(snd + 10);
  const Segment next = sent_one();  // both writes together
  EXPECT_EQ(next.seq.value(), snd + 10);
  EXPECT_EQ(next.payload, bytes(pattern(20, 10)));
}

TEST_F(DataTest, NodelaySendsShortSegmentsAtOnce) {
  open();
  ASSERT_TRUE(stack->setsockopt(conn, SocketOption::kNoDelay, 1).ok());
  EXPECT_THAT(payload_sizes(write(10)), ElementsAre(10));
  EXPECT_THAT(payload_sizes(write(10, 10)), ElementsAre(10));
}

TEST_F(DataTest, NagleNeverHoldsAFullSegment) {
  open();
  EXPECT_THAT(payload_sizes(write(10)), ElementsAre(10));
  EXPECT_THAT(payload_sizes(write(600, 10)), ElementsAre(536));  // the 64-byte tail waits
  ack(snd + 10);
  EXPECT_THAT(payload_sizes(sent()), ElementsAre(64));
}

TEST_F(DataTest, ReceiverOpensItsWindowOnlyInUsefulSteps) {
  open({}, Duration{0}, [this](SocketId s) {
    ASSERT_TRUE(stack->setsockopt(s, SocketOption::kRcvBuf, 1500).ok());  // doubled: 3000
  });
  // Fill what is advertised (the first window was bigger: it only shrinks as data arrives).
  const std::uint32_t at = fill_receive_window();
  ASSERT_GE(snap().recv_queue, 3000U);
  // Reading a little frees less than min(RCV.BUFF / 2, MSS): no window update, and ACKs still
  // say zero (RFC 9293 3.8.6.2.2).
  ASSERT_EQ(stack->read(conn, 100).value().size(), 100U);
  expect_nothing_sent();
  send(seg(f::kAck, at - 1, snd, "x"));  // a duplicate byte provokes an ACK
  EXPECT_EQ(sent_one().window, 0);
  // Reading a full segment's worth opens the window, and the update goes out at once.
  ASSERT_EQ(stack->read(conn, 500).value().size(), 500U);
  const Segment update = sent_one();
  EXPECT_GE(update.window, 536);
}

// --- urgent data (RFC 9293 3.8.5; MUST-30, 31, 32, 33, 62; RFC 6093)

TEST_F(DataTest, UrgentPointerIsSignalledAndTheDataStaysInLine) {
  open();
  Segment s = seg(f::kAck | f::kUrg | f::kPsh, rcv, snd, "abcdef");
  s.urgent_pointer = 3;  // urgent data ends before sequence number rcv + 3
  send(s);
  EXPECT_NE(stack->events(conn) & event::kPri, 0U);
  EXPECT_EQ(stack->urgent_bytes(conn).value(), 3U);
  EXPECT_EQ(stack->read(conn, 2).value(), bytes("ab"));
  EXPECT_EQ(stack->urgent_bytes(conn).value(), 1U);
  EXPECT_EQ(stack->read(conn, 10).value(), bytes("cdef"));  // in line, nothing lost
  EXPECT_EQ(stack->urgent_bytes(conn).value(), 0U);
  EXPECT_EQ(stack->events(conn) & event::kPri, 0U);
}

TEST_F(DataTest, UrgentPointerMayPointBeyondTheDataReceived) {
  open();
  Segment s = seg(f::kAck | f::kUrg, rcv, snd, "ab");
  s.urgent_pointer = 1000;  // MUST-31: urgent data of any length
  send(s);
  EXPECT_EQ(stack->urgent_bytes(conn).value(), 1000U);
  EXPECT_EQ(snap().rcv_up->value(), rcv + 1000);
}

TEST_F(DataTest, UrgentIsProcessedEvenWithAZeroWindow) {
  open({}, Duration{0}, [this](SocketId s) {
    ASSERT_TRUE(stack->setsockopt(s, SocketOption::kRcvBuf, 1200).ok());  // doubled: 2400
  });
  const std::uint32_t at = fill_receive_window();
  Segment s = seg(f::kAck | f::kUrg, at, snd);  // MUST-66: URG with a zero window
  s.urgent_pointer = 7;
  send(s);
  EXPECT_EQ(snap().rcv_up->value(), at + 7);
}

// A FIN occupies a sequence number (RFC 9293 3.4), so with the window full it lies beyond it:
// the ACK it carries is processed (MUST-66), the FIN is not taken until there is room, and RCV.NXT
// never passes the advertised edge (found by session_fuzzer: the FIN went one past it).
TEST_F(DataTest, AFinBeyondAFullWindowWaitsForRoom) {
  open({}, Duration{0}, [this](SocketId s) {
    ASSERT_TRUE(stack->setsockopt(s, SocketOption::kRcvBuf, 1200).ok());  // doubled: 2400
  });
  const std::uint32_t at = fill_receive_window();
  send(seg(f::kFin | f::kAck, at, snd));
  const Segment ack = sent_one();
  EXPECT_EQ(ack.ack.value(), at);  // not at + 1: the FIN was not taken
  EXPECT_EQ(state_of(conn), State::kEstablished);
  ASSERT_TRUE(stack->read(conn, 100000).ok());  // room again
  sent();                                       // (a window update)
  send(seg(f::kFin | f::kAck, at, snd));        // the peer sends its FIN again
  EXPECT_EQ(snap().rcv_nxt.value(), at + 1);    // (its ACK may wait: the three-way close)
  EXPECT_EQ(state_of(conn), State::kCloseWait);
}

// --- windows (RFC 9293 3.8.6; RFC 7323 2; MUST-34, 36, 37)

TEST_F(DataTest, WindowScaleAppliesOnlyWhenBothSynsCarryIt) {
  config.wscale = 7;
  make_stack();
  open([](Segment& s) {
    s.options.wscale = 2;
    s.window = 1000;
  });
  EXPECT_EQ(snap().snd_wnd, 1000U);  // the window in a SYN is never scaled
  ack(snd, 1000);
  EXPECT_EQ(snap().snd_wnd, 4000U);
  EXPECT_EQ(snap().rcv_wscale, 7);
}

TEST_F(DataTest, WithoutThePeersWindowScaleNeitherSideScales) {
  config.wscale = 7;
  make_stack();
  open([](Segment& s) { s.window = 1000; });
  ack(snd, 1000);
  EXPECT_EQ(snap().snd_wnd, 1000U);
  EXPECT_EQ(snap().rcv_wscale, 0);
  EXPECT_EQ(snap().snd_wscale, 0);
}

TEST_F(DataTest, WindowShiftIsCappedAtFourteen) {
  config.wscale = 7;
  make_stack();
  open([](Segment& s) { s.options.wscale = 15; });
  EXPECT_EQ(snap().snd_wscale, 14);
}

// RFC 7323 2.4: a scaled window field counts whole units (128 bytes at shift 7) from RCV.NXT, so
// after a segment shorter than a unit the edge already advertised falls between two values.
// Rounding up on every ACK while nothing is read moved the edge right each time: the window
// never closed and the buffer took in far more than RCV.BUFF (found by pair_fuzzer: SO_RCVBUF
// 1000, MSS 100). The edge may pass the buffer's end by less than a unit, and no further.
TEST_F(DataTest, AScaledWindowClosesOnSegmentsShorterThanTheScaleUnit) {
  constexpr std::uint32_t kBuffer = 1000;
  config.wscale = 7;
  config.rcv_buf = kBuffer;
  config.delayed_ack = Duration{0};  // an ACK, and so a window, for every segment
  make_stack();
  open([](Segment& s) { s.options.wscale = 0; });
  constexpr std::uint32_t kUnit = 128;
  // The peer sends 100-byte segments up to the edge of the last window it was offered.
  std::uint32_t at = rcv;
  std::uint32_t edge = snap().rcv_adv.value();
  int segments = 0;
  for (; at != edge && segments < 100; ++segments) {
    const std::uint32_t n = std::min<std::uint32_t>(edge - at, 100);
    send(seg(f::kAck, at, snd, pattern(n)));
    at += n;
    const Segment a = sent_one();
    ASSERT_EQ(a.ack.value(), at);
    edge = a.ack.value() + (std::uint32_t{a.window} << 7);
  }
  EXPECT_EQ(at, edge) << "the window never closed";
  EXPECT_LE(snap().recv_queue, kBuffer);
  // Rounding down made the edge appear to move left by less than a unit; what a peer sent
  // under an earlier, wider window is still taken.
  const std::uint32_t promised = snap().rcv_adv.value();
  ASSERT_LT(promised - at, kUnit);
  if (promised != at) {
    send(seg(f::kAck, at, snd, pattern(promised - at)));
    EXPECT_EQ(sent_one().ack.value(), promised);
  }
  EXPECT_LE(snap().recv_queue, kBuffer + kUnit - 1);
  // Reading opens the window again.
  ASSERT_EQ(stack->read(conn, 100000).value().size(), promised - rcv);
  EXPECT_GT(sent_one().window, 0);
}

TEST_F(DataTest, APeerThatShrinksItsWindowStopsNewDataButNothingBreaks) {
  open();
  EXPECT_THAT(payload_sizes(write(1072)), ElementsAre(536, 536));
  ack(snd + 536, 100);  // right edge moves left from snd + 65535 to snd + 636 (MUST-34)
  EXPECT_THAT(write(1000, 1072), IsEmpty());
  ack(snd + 1072, 4000);
  EXPECT_THAT(payload_sizes(sent()), ElementsAre(536, 464));
  EXPECT_EQ(snap().snd_wnd, 4000U);
}

TEST_F(DataTest, ZeroWindowIsProbedWithBackoffForAsLongAsProbesAreAnswered) {
  open();
  ack(snd, 0);
  EXPECT_THAT(write(100), IsEmpty());
  Duration expected = snap().rto;
  EXPECT_EQ(expected, 200ms);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(fire_next_timer(), expected) << "probe " << i;
    const Segment probe = sent_one();
    EXPECT_EQ(probe.seq.value(), snd - 1);  // an old sequence number: the peer must answer
    EXPECT_TRUE(probe.payload.empty());
    ack(snd, 0);  // still zero
    expected = std::min<Duration>(expected * 2, 120s);
  }
  EXPECT_EQ(state_of(conn), State::kEstablished);  // MUST-37: hours later, still open
  ack(snd, 1000);                                  // the window update restarts transmission
  const Segment data = sent_one();
  EXPECT_EQ(data.seq.value(), snd);
  EXPECT_EQ(data.payload.size(), 100U);
}

TEST_F(DataTest, UnansweredZeroWindowProbesEventuallyTimeOut) {
  config.retries2 = 3;
  make_stack();
  open();
  ack(snd, 0);
  EXPECT_THAT(write(100), IsEmpty());
  for (int i = 0; i < 3; ++i) {
    fire_next_timer();
    EXPECT_EQ(sent_one().seq.value(), snd - 1);
  }
  fire_next_timer();
  EXPECT_EQ(state_of(conn), State::kClosed);
  EXPECT_EQ(stack->read(conn, 10).error(), ETIMEDOUT);
}

// --- The application's R2: TCP_USER_TIMEOUT (RFC 9293 3.8.3, MUST-21; RFC 5482)

TEST_F(DataTest, UserTimeoutEndsTheConnectionOnTimeNotAfterABackedOffRto) {
  open();  // an RTT of 0: the RTO is its 200 ms floor
  ASSERT_TRUE(stack->setsockopt(conn, SocketOption::kUserTimeout, 1000).ok());
  EXPECT_EQ(stack->getsockopt(conn, SocketOption::kUserTimeout).value(), 1000);
  const Instant sent_at = now;
  ASSERT_EQ(write(100).size(), 1U);
  // Retransmissions at 0.2 s and 0.6 s; the next would be due at 1.4 s, but it is clamped to
  // the 1 s limit, where the connection ends instead.
  EXPECT_EQ(fire_next_timer(), Duration(200ms));
  EXPECT_EQ(sent_one().seq.value(), snd);
  EXPECT_EQ(fire_next_timer(), Duration(400ms));
  EXPECT_EQ(sent_one().seq.value(), snd);
  EXPECT_EQ(fire_next_timer(), Duration(400ms));
  expect_nothing_sent();
  EXPECT_EQ(now - sent_at, Duration(1s));
  EXPECT_EQ(state_of(conn), State::kClosed);
  EXPECT_EQ(stack->read(conn, 10).error(), ETIMEDOUT);
}

TEST_F(DataTest, UserTimeoutRunsFromTheLastProgressAndOutlastsRetries2) {
  config.retries2 = 2;  // by count, the connection would give up after two retransmissions
  make_stack();
  open();
  ASSERT_TRUE(stack->setsockopt(conn, SocketOption::kUserTimeout, 20'000).ok());
  ASSERT_EQ(write(200).size(), 1U);
  advance_by(500ms);
  ack(snd + 100);  // progress: half of it acknowledged at 0.5 s
  const Instant progress_at = now;
  int retransmissions = 0;
  while (state_of(conn) != State::kClosed) {
    fire_next_timer();
    retransmissions += static_cast<int>(sent().size());
  }
  EXPECT_EQ(now - progress_at, Duration(20s));
  EXPECT_GT(retransmissions, 2);  // 1, 2, 4, 8 s backoff: four retransmissions by 15 s
  EXPECT_EQ(stack->read(conn, 10).error(), ETIMEDOUT);
}

TEST_F(DataTest, UserTimeoutIsMillisecondsAndNeverNegative) {
  open();
  EXPECT_EQ(stack->getsockopt(conn, SocketOption::kUserTimeout).value(), 0);
  EXPECT_EQ(stack->setsockopt(conn, SocketOption::kUserTimeout, -1).error(), EINVAL);
  ASSERT_TRUE(stack->setsockopt(conn, SocketOption::kUserTimeout, 0).ok());  // off again
}

// --- RTT estimation and the RTO (RFC 6298; MUST-18, MUST-19)

TEST_F(DataTest, HandshakeRttGivesTheFirstSample) {
  open({}, 100ms);
  EXPECT_EQ(snap().srtt, Duration(100ms));
  EXPECT_EQ(snap().rttvar, Duration(50ms));
  EXPECT_EQ(snap().rto, Duration(300ms));  // SRTT + 4 * RTTVAR
}

TEST_F(DataTest, RtoHasA200msFloor) {
  open({}, 10ms);
  EXPECT_EQ(snap().rto, Duration(200ms));
}

TEST_F(DataTest, LaterSamplesAreSmoothed) {
  open({}, 100ms);
  write(10);
  advance_by(200ms);
  ack(snd + 10);
  // RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 62.5 ms; SRTT = 7/8 * 100 + 1/8 * 200 = 112.5 ms.
  EXPECT_EQ(snap().rttvar, Duration(62500us));
  EXPECT_EQ(snap().srtt, Duration(112500us));
  EXPECT_EQ(snap().rto, Duration(362500us));
}

TEST_F(DataTest, KarnsAlgorithmTakesNoSampleFromARetransmittedSegment) {
  open({}, 100ms);
  write(10);
  EXPECT_EQ(fire_next_timer(), 300ms);
  sent_one();  // the retransmission
  advance_by(10ms);
  ack(snd + 10);  // ambiguous: for the first copy or the second?
  EXPECT_EQ(snap().srtt, Duration(100ms));
  // The backed-off RTO is kept until a segment is acknowledged without retransmission (RFC
  // 6298 5, Karn's algorithm), which then gives a sample and the RTO from it.
  EXPECT_EQ(snap().rto, Duration(600ms));
  write(10, 10);
  EXPECT_EQ(fire_next_timer(), 600ms);
  sent_one();
  write(10, 20);  // (held by Nagle behind the unacknowledged short segment)
  ack(snd + 20);
  sent();
  advance_by(100ms);
  ack(snd + 30);  // a 100 ms sample: RTTVAR 37.5 ms, SRTT 100 ms, RTO 250 ms
  EXPECT_EQ(snap().rto, Duration(250ms));
}

TEST_F(DataTest, RtoBacksOffExponentiallyUpToTheMaximum) {
  config.retries2 = 20;
  make_stack();
  open({}, 100ms);
  write(10);
  Duration expected = 300ms;
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(fire_next_timer(), expected) << "timeout " << i;
    EXPECT_EQ(sent_one().seq.value(), snd);
    expected = std::min<Duration>(expected * 2, 120s);
  }
  EXPECT_EQ(snap().rto, Duration(120s));
}

TEST_F(DataTest, RetransmittedSynLeavesAThreeSecondRto) {
  conn = stack->socket().value();
  ASSERT_TRUE(stack->bind(conn, kLocalPort).ok());
  ASSERT_EQ(stack->connect(conn, Endpoint{kRemoteAddr, kRemotePort}).error(), EINPROGRESS);
  const Segment first = sent_one();
  EXPECT_EQ(fire_next_timer(), 1s);
  sent_one();
  send(seg(f::kSyn | f::kAck, kRemoteIss, first.seq.value() + 1));
  sent_one();
  EXPECT_FALSE(snap().srtt.has_value());  // Karn: no sample
  EXPECT_EQ(snap().rto, Duration(3s));    // RFC 6298 5.7
}

TEST_F(DataTest, AcksAfterATimeoutCarryTheHighestSequenceNumberSent) {
  open();
  EXPECT_EQ(write(3 * 536).size(), 3U);
  fire_next_timer();  // go back N: SND.NXT rewinds to SND.UNA + one segment
  EXPECT_EQ(sent_one().seq.value(), snd);
  ASSERT_TRUE(snap().snd_nxt.before(snap().snd_max));
  send(seg(f::kAck, rcv + 5, snd, "later"));  // out of order: an immediate ACK
  const Segment a = sent_one();
  EXPECT_EQ(a.seq.value(), snd + 3 * 536);  // the peer may hold all of it already
}

TEST_F(DataTest, LastAckKeepsSendingQueuedDataAsTheWindowOpens) {
  open();
  ack(snd, 1072);  // two segments' worth
  EXPECT_THAT(payload_sizes(write(2000)), ElementsAre(536, 536));
  send(seg(f::kFin | f::kAck, rcv, snd, "", 1072));
  rcv += 1;
  ASSERT_TRUE(stack->close(conn).ok());
  ASSERT_EQ(only_connection_state(), State::kLastAck);
  sent();  // the ACK of the peer's FIN
  ack(snd + 1072, 1072);
  const auto out = sent();
  ASSERT_EQ(out.size(), 2U);
  EXPECT_EQ(out[0].seq.value(), snd + 1072);
  EXPECT_EQ(out[1].flags & f::kFin, f::kFin);  // the rest, then our FIN
  EXPECT_EQ(out[1].seq.value() + out[1].payload.size(), snd + 2000);
}

// --- timestamps (RFC 7323 3-5)

class TimestampTest : public DataTest {
 protected:
  void SetUp() override {
    DataTest::SetUp();
    config.timestamps = true;
    make_stack();
    open([](Segment& s) { s.options.timestamps = Timestamps{1000, 0}; });
  }
  Segment with_ts(Segment s, std::uint32_t val, std::uint32_t ecr = 0) {
    s.options.timestamps = Timestamps{val, ecr};
    return s;
  }
};

TEST_F(TimestampTest, EveryAckEchoesTsRecentAndTimesTheRtt) {
  const auto out = write(10);
  ASSERT_EQ(out.size(), 1U);
  ASSERT_TRUE(out[0].options.timestamps);
  EXPECT_EQ(out[0].options.timestamps->ecr, 1000U);
  advance_by(80ms);
  send(with_ts(seg(f::kAck, rcv, snd + 10), 1001, out[0].options.timestamps->val));
  // The handshake's sample was 0 ms; this one 80 ms: SRTT = 7/8 * 0 + 1/8 * 80.
  EXPECT_EQ(snap().srtt, Duration(10ms));
}

TEST_F(TimestampTest, NoSampleFromAnAckThatCoversARetransmission) {
  const auto out = write(10);
  ASSERT_EQ(out.size(), 1U);
  fire_next_timer();
  sent_one();  // the retransmission
  advance_by(10s);
  // The peer had the first copy all along and echoes its TSval: not a 10 s round trip.
  send(with_ts(seg(f::kAck, rcv, snd + 10), 1001, out[0].options.timestamps->val));
  EXPECT_EQ(snap().srtt, Duration(0ms));
}

TEST_F(TimestampTest, PawsDropsAnOldDuplicateAndAcknowledges) {
  send(with_ts(seg(f::kAck, rcv, snd, "new"), 1005));
  EXPECT_EQ(stack->read(conn, 10).value(), bytes("new"));
  sent();
  send(with_ts(seg(f::kAck, rcv + 3, snd, "old"), 900));  // TSval < TS.Recent
  const Segment a = sent_one();
  EXPECT_EQ(a.ack.value(), rcv + 3);
  EXPECT_EQ(stack->read(conn, 10).error(), EAGAIN);
  EXPECT_EQ(stack->counters().paws_rejected, 1U);
}

TEST_F(TimestampTest, PawsDoesNotApplyToRst) {
  send(with_ts(seg(f::kRst, rcv, 0), 1));
  EXPECT_EQ(state_of(conn), State::kClosed);
  EXPECT_EQ(stack->read(conn, 10).error(), ECONNRESET);
}

TEST_F(TimestampTest, TsRecentOlderThan24DaysIsNoLongerValid) {
  advance_by(std::chrono::hours(24 * 25));
  send(with_ts(seg(f::kAck, rcv, snd, "late"), 900));
  EXPECT_EQ(stack->read(conn, 10).value(), bytes("late"));
}

// --- congestion control (RFC 5681, RFC 6928) and loss recovery (RFC 6582, RFC 6675)

constexpr std::uint32_t kMss = 536;

TEST_F(DataTest, InitialWindowIsTenSegments) {
  open();
  EXPECT_EQ(snap().cwnd, 10 * kMss);
  EXPECT_EQ(write(20 * kMss).size(), 10U);
}

// RFC 5681 4.1: after more than an RTO without sending, cwnd restarts from min(IW, cwnd).
class IdleRestartTest : public DataTest {
 protected:
  // Grows cwnd to 14 segments: 4 acknowledged one by one past the initial 10, all acked.
  void grow_and_drain() {
    open();  // RTO 200 ms (RTT 0)
    ASSERT_EQ(write(14 * kMss).size(), 10U);
    for (std::uint32_t i = 1; i <= 14; ++i) {
      ack(snd + i * kMss);
      sent();
    }
    snd += 14 * kMss;
    ASSERT_EQ(snap().cwnd, 24 * kMss);
  }
};

TEST_F(IdleRestartTest, IdleLongerThanTheRtoRestartsFromTheInitialWindow) {
  grow_and_drain();
  advance_by(201ms);
  EXPECT_EQ(write(30 * kMss).size(), 10U);
  EXPECT_EQ(snap().cwnd, 10 * kMss);
  EXPECT_EQ(stack->counters().idle_restarts, 1U);
}

TEST_F(IdleRestartTest, IdleNoLongerThanTheRtoKeepsTheWindow) {
  grow_and_drain();
  advance_by(200ms);
  EXPECT_EQ(write(30 * kMss).size(), 24U);
  EXPECT_EQ(stack->counters().idle_restarts, 0U);
}

TEST_F(IdleRestartTest, CanBeTurnedOffAsLinuxSysctlDoes) {
  config.slow_start_after_idle = false;
  make_stack();
  grow_and_drain();
  advance_by(10s);
  EXPECT_EQ(write(30 * kMss).size(), 24U);
}

TEST_F(DataTest, SlowStartGrowsByAtMostOneSegmentPerAck) {
  open();
  write(30 * kMss);
  ack(snd + 2 * kMss);  // one ACK for two segments: cwnd += min(N, SMSS)
  EXPECT_EQ(snap().cwnd, 11 * kMss);
  EXPECT_EQ(sent().size(), 3U);  // two left the network, the window grew by one
  ack(snd + 3 * kMss);
  EXPECT_EQ(snap().cwnd, 12 * kMss);
  EXPECT_EQ(sent().size(), 2U);
}

TEST_F(DataTest, ThirdDuplicateAckTriggersFastRetransmit) {
  open();
  write(10 * kMss);
  ack(snd + kMss);  // the first segment arrived, the second was lost
  sent();
  ack(snd + kMss);
  ack(snd + kMss);
  EXPECT_THAT(sent(), IsEmpty());
  ack(snd + kMss);  // the third duplicate
  const Segment rtx = sent_one();
  EXPECT_EQ(rtx.seq.value(), snd + kMss);
  EXPECT_EQ(rtx.payload.size(), kMss);
  const Snapshot s = snap();
  EXPECT_TRUE(s.in_recovery);
  const std::uint32_t flight = 9 * kMss;  // ten sent, one acknowledged
  EXPECT_EQ(s.ssthresh, flight / 2);
  EXPECT_EQ(s.cwnd, s.ssthresh + 3 * kMss);
  EXPECT_EQ(stack->counters().fast_retransmits, 1U);
}

TEST_F(DataTest, NewRenoRetransmitsTheNextHoleOnAPartialAck) {
  open();
  write(10 * kMss);
  for (int i = 0; i < 3; ++i) ack(snd);  // segment 1 lost
  EXPECT_EQ(sent_one().seq.value(), snd);
  ack(snd + 3 * kMss);  // partial: segment 4 was lost too
  const auto out = sent();
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out[0].seq.value(), snd + 3 * kMss);
  EXPECT_TRUE(snap().in_recovery);
}

TEST_F(DataTest, FullAckEndsFastRecoveryWithCwndDeflated) {
  open();
  write(10 * kMss);
  for (int i = 0; i < 3; ++i) ack(snd);
  sent();
  ack(snd + 10 * kMss);  // everything up to "recover"
  const Snapshot s = snap();
  EXPECT_FALSE(s.in_recovery);
  EXPECT_EQ(s.ssthresh, 5 * kMss);
  EXPECT_EQ(s.cwnd, 2 * kMss);  // min(ssthresh, max(FlightSize, SMSS) + SMSS), nothing in flight
}

TEST_F(DataTest, CongestionAvoidanceAddsOneSegmentPerWindow) {
  open();
  write(100 * kMss);
  for (int i = 0; i < 3; ++i) ack(snd);
  sent();
  ack(snd + 10 * kMss);  // recovery over: cwnd = 1 MSS, ssthresh 5 MSS
  std::uint32_t acked = 10 * kMss;
  // Slow start up to ssthresh, then one MSS per cwnd of data acknowledged.
  while (snap().cwnd < snap().ssthresh) {
    acked += kMss;
    ack(snd + acked);
    sent();
  }
  const std::uint32_t cwnd = snap().cwnd;
  for (std::uint32_t done = 0; done + kMss < cwnd; done += kMss) {
    acked += kMss;
    ack(snd + acked);
    sent();
    EXPECT_EQ(snap().cwnd, cwnd);
  }
  acked += kMss;
  ack(snd + acked);
  EXPECT_EQ(snap().cwnd, cwnd + kMss);
}

TEST_F(DataTest, TimeoutCollapsesCwndToOneSegmentAndGoesBackN) {
  open();
  write(10 * kMss);
  fire_next_timer();
  const Segment first = sent_one();  // the loss window: one segment
  EXPECT_EQ(first.seq.value(), snd);
  EXPECT_EQ(snap().cwnd, kMss);
  EXPECT_EQ(snap().ssthresh, 5 * kMss);
  ack(snd + kMss);  // slow start again: two segments, both retransmissions
  const auto out = sent();
  ASSERT_EQ(out.size(), 2U);
  EXPECT_EQ(out[0].seq.value(), snd + kMss);
  EXPECT_EQ(out[1].seq.value(), snd + 2 * kMss);
  EXPECT_EQ(stack->counters().rto_timeouts, 1U);
}

TEST_F(DataTest, SackRecoveryRetransmitsOnlyTheLostHoles) {
  config.sack = true;
  make_stack();
  open([](Segment& s) { s.options.sack_permitted = true; });
  write(10 * kMss);
  // Segments 1 and 5 are lost; the peer SACKs 2-4 and 6-10.
  ack_with_sack(snd, {block(snd + kMss, snd + 4 * kMss)});
  ack_with_sack(snd, {block(snd + 5 * kMss, snd + 10 * kMss), block(snd + kMss, snd + 4 * kMss)});
  const auto out = sent();
  ASSERT_EQ(out.size(), 2U);
  EXPECT_EQ(out[0].seq.value(), snd);
  EXPECT_EQ(out[1].seq.value(), snd + 4 * kMss);
  EXPECT_TRUE(snap().in_recovery);
  EXPECT_EQ(snap().sacked_bytes, 8 * kMss);
  ack(snd + 10 * kMss);
  EXPECT_FALSE(snap().in_recovery);
}

// RFC 9293 3.8.6 and RFC 6675 4 (NextSeg (2)): new data goes only inside the window the peer
// offers. A partial ACK in SACK recovery sent new data before the ACK's own window was
// taken (the fifth step of RFC 9293 3.10.7.4), so against the new SND.UNA plus the old SND.WND,
// past the right edge of a peer that has read nothing (found by pair_fuzzer).
TEST_F(DataTest, SackRecoverySendsNoNewDataBeyondThePartialAcksWindow) {
  config.sack = true;
  make_stack();
  constexpr std::uint16_t kWindow = 10 * kMss;
  open([](Segment& s) {
    s.options.sack_permitted = true;
    s.window = kWindow;
  });
  ASSERT_EQ(write(std::size_t{20} * kMss).size(), 10U);  // the peer's window: ten segments
  auto sack_ack = [this](std::uint32_t a, std::vector<SackBlock> blocks, std::uint16_t window) {
    Segment s = seg(f::kAck, rcv, a, "", window);
    s.options.sack = std::move(blocks);
    send(s);
  };
  // Segments 1 and 5 are lost: recovery retransmits both.
  sack_ack(snd, {block(snd + kMss, snd + 4 * kMss)}, kWindow);
  sack_ack(snd, {block(snd + 5 * kMss, snd + 10 * kMss), block(snd + kMss, snd + 4 * kMss)},
           kWindow);
  ASSERT_EQ(sent().size(), 2U);
  ASSERT_TRUE(snap().in_recovery);
  // The retransmitted segment 1 arrives: a partial ACK. The peer reads nothing, so its window
  // shrinks by what it acknowledges and the right edge stays at snd + 10 segments.
  const std::uint32_t right_edge = snd + 10 * kMss;
  sack_ack(snd + 4 * kMss, {block(snd + 5 * kMss, snd + 10 * kMss)}, kWindow - 4 * kMss);
  for (const Segment& s : sent()) {
    EXPECT_LE(s.seq.value() + s.payload.size(), right_edge) << "data beyond the peer's window";
  }
  EXPECT_EQ(snap().snd_max.value(), right_edge);
  EXPECT_TRUE(snap().in_recovery);
  // Once the peer reads and offers more, new data goes again.
  sack_ack(snd + 4 * kMss, {block(snd + 5 * kMss, snd + 10 * kMss)}, kWindow);
  const auto more = sent();
  ASSERT_FALSE(more.empty());
  EXPECT_EQ(more.front().seq.value(), right_edge);
}

// RFC 6675 4, NextSeg rule (3) (SHOULD): with no lost hole left to retransmit and no new data
// to send, a hole below SACKed data that is not yet deemed lost is retransmitted while the pipe
// allows. Segments 2-8 and 10 are SACKed: segment 1 is lost (eight SACKed above it) and goes by
// rule (1); segment 9 is not lost (one SACKed above it), and nothing is left to write, so it goes
// by rule (3).
TEST_F(DataTest, SackRecoveryRetransmitsAHoleNotYetLostWhenNothingElseMayGo) {
  config.sack = true;
  make_stack();
  constexpr std::uint16_t kWindow = 10 * kMss;
  open([](Segment& s) {
    s.options.sack_permitted = true;
    s.window = kWindow;
  });
  ASSERT_EQ(write(std::size_t{10} * kMss).size(), 10U);
  Segment dup = seg(f::kAck, rcv, snd, "", kWindow);
  dup.options.sack = {block(snd + kMss, snd + 8 * kMss), block(snd + 9 * kMss, snd + 10 * kMss)};
  send(dup);
  ASSERT_TRUE(snap().in_recovery);
  const auto out = sent();
  ASSERT_EQ(out.size(), 2U);
  EXPECT_EQ(out[0].seq.value(), snd);             // rule (1): the lost segment 1
  EXPECT_EQ(out[1].seq.value(), snd + 8 * kMss);  // rule (3): segment 9
  EXPECT_EQ(out[1].payload.size(), std::size_t{kMss});
}

}  // namespace
}  // namespace synack::stack::testing
