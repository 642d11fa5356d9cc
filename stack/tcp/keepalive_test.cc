// Keepalive on an established connection (RFC 9293 3.8.4, RFC 1122 4.2.3.6): off by default, a
// two-hour default idle time, probes of SEG.SEQ = SND.NXT - 1 without data, any segment from the
// peer restarting the idle time, and the connection dropped after the last unanswered probe.
#include "stack/tcp/stack_fixture.h"

namespace synack::stack::testing {
namespace {

using ::testing::ElementsAre;

TEST_F(EstablishedTest, KeepaliveIsOffWithTwoHoursIdle75sInterval9ProbesByDefault) {
  // MUST-27: off by default. MUST-28: the idle time defaults to no less than two hours. Linux's
  // interval and count.
  EXPECT_EQ(stack->getsockopt(conn, SocketOption::kKeepAlive).value(), 0);
  EXPECT_EQ(stack->getsockopt(conn, SocketOption::kKeepIdle).value(), 7200);
  EXPECT_EQ(stack->getsockopt(conn, SocketOption::kKeepInterval).value(), 75);
  EXPECT_EQ(stack->getsockopt(conn, SocketOption::kKeepCount).value(), 9);
  EXPECT_FALSE(stack->snapshot(conn)->keepalive_deadline);
}

// Keep-alives run in ESTABLISHED, CLOSE-WAIT and a held FIN-WAIT-1/2; a simultaneous close
// takes FIN-WAIT-1 to CLOSING, where the FIN's retransmissions speak for the connection and the
// keep-alive timer must stop (found by session_fuzzer: the timer kept running in CLOSING).
TEST_F(EstablishedTest, KeepaliveStopsWhenASimultaneousCloseReachesClosing) {
  ASSERT_TRUE(stack->setsockopt(conn, SocketOption::kKeepAlive, 1).ok());
  ASSERT_TRUE(stack->shutdown(conn, Shutdown::kWrite).ok());
  EXPECT_EQ(sent_one().flags, f::kFin | f::kAck);
  ASSERT_EQ(state_of(conn), State::kFinWait1);
  EXPECT_TRUE(stack->snapshot(conn)->keepalive_deadline);
  send(seg(f::kFin | f::kAck, rcv, snd));  // the peer's FIN, not acknowledging ours
  EXPECT_EQ(sent_one().flags, f::kAck);
  ASSERT_EQ(state_of(conn), State::kClosing);
  EXPECT_FALSE(stack->snapshot(conn)->keepalive_deadline);
}

TEST_F(EstablishedTest, KeepaliveOffSendsNothingForHours) {
  advance_by(3h);
  expect_nothing_sent();
  EXPECT_FALSE(stack->next_deadline());
  EXPECT_FALSE(stack->snapshot(conn)->keepalive_deadline);
  EXPECT_EQ(state_of(conn), State::kEstablished);
}

TEST_F(EstablishedTest, KeepaliveOnWithDefaultsProbesAfterTwoHours) {
  ASSERT_TRUE(stack->setsockopt(conn, SocketOption::kKeepAlive, 1).ok());
  EXPECT_EQ(fire_next_timer(), 7200s);
  EXPECT_EQ(sent_one().seq.value(), snd - 1);
  EXPECT_EQ(fire_next_timer(), 75s);
  EXPECT_EQ(sent_one().seq.value(), snd - 1);
}

TEST_F(EstablishedTest, InvalidKeepaliveValuesAreEinval) {
  // Linux's bounds: 1 .. 32767 seconds (MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL), 1 .. 127 probes.
  for (const int bad : {0, -1, 32768}) {
    EXPECT_EQ(stack->setsockopt(conn, SocketOption::kKeepIdle, bad).error(), EINVAL) << bad;
    EXPECT_EQ(stack->setsockopt(conn, SocketOption::kKeepInterval, bad).error(), EINVAL) << bad;
  }
  for (const int bad : {0, -1, 128}) {
    EXPECT_EQ(stack->setsockopt(conn, SocketOption::kKeepCount, bad).error(), EINVAL) << bad;
  }
  // Nothing changed.
  EXPECT_EQ(stack->getsockopt(conn, SocketOption::kKeepIdle).value(), 7200);
  EXPECT_EQ(stack->getsockopt(conn, SocketOption::kKeepInterval).value(), 75);
  EXPECT_EQ(stack->getsockopt(conn, SocketOption::kKeepCount).value(), 9);
  // The bounds themselves are accepted.
  EXPECT_TRUE(stack->setsockopt(conn, SocketOption::kKeepIdle, 32767).ok());
  EXPECT_TRUE(stack->setsockopt(conn, SocketOption::kKeepInterval, 1).ok());
  EXPECT_TRUE(stack->setsockopt(conn, SocketOption::kKeepCount, 127).ok());
  EXPECT_EQ(stack->getsockopt(conn, SocketOption::kKeepIdle).value(), 32767);
  EXPECT_EQ(stack->getsockopt(conn, SocketOption::kKeepInterval).value(), 1);
  EXPECT_EQ(stack->getsockopt(conn, SocketOption::kKeepCount).value(), 127);
}

// SO_KEEPALIVE on, TCP_KEEPIDLE 60 s, TCP_KEEPINTVL 10 s, TCP_KEEPCNT 3.
class KeepaliveTest : public EstablishedTest {
 protected:
  void SetUp() override {
    EstablishedTest::SetUp();
    ASSERT_TRUE(stack->setsockopt(conn, SocketOption::kKeepAlive, 1).ok());
    ASSERT_TRUE(stack->setsockopt(conn, SocketOption::kKeepIdle, 60).ok());
    ASSERT_TRUE(stack->setsockopt(conn, SocketOption::kKeepInterval, 10).ok());
    ASSERT_TRUE(stack->setsockopt(conn, SocketOption::kKeepCount, 3).ok());
    expect_nothing_sent();
  }

  // A keepalive probe: SEG.SEQ = SND.NXT - 1, no data, the ACK bit (SHLD-12, MUST-29).
  void expect_probe(const Segment& s) {
    EXPECT_EQ(s.flags, f::kAck);
    EXPECT_EQ(s.seq.value(), snd - 1);
    EXPECT_EQ(s.ack.value(), rcv);
    EXPECT_TRUE(s.payload.empty());
  }

  // Lets every probe go unanswered until the connection gives up; the gaps between timers.
  std::vector<Duration> let_keepalive_time_out() {
    std::vector<Duration> gaps;
    for (int i = 0; i < 3; ++i) {
      gaps.push_back(fire_next_timer());
      expect_probe(sent_one());
    }
    gaps.push_back(fire_next_timer());
    return gaps;
  }
};

TEST_F(KeepaliveTest, OptionsReadBack) {
  EXPECT_EQ(stack->getsockopt(conn, SocketOption::kKeepAlive).value(), 1);
  EXPECT_EQ(stack->getsockopt(conn, SocketOption::kKeepIdle).value(), 60);
  EXPECT_EQ(stack->getsockopt(conn, SocketOption::kKeepInterval).value(), 10);
  EXPECT_EQ(stack->getsockopt(conn, SocketOption::kKeepCount).value(), 3);
}

TEST_F(KeepaliveTest, FirstProbeIsSndNxtMinusOneWithoutDataAfterTheIdleTime) {
  // RFC 9293 3.8.4: SEG.SEQ = SND.NXT - 1 with no data (SHLD-12), which the peer's TCP must
  // answer with an ACK because it is outside its window.
  EXPECT_EQ(fire_next_timer(), 60s);
  expect_probe(sent_one());
  const auto snap = stack->snapshot(conn);
  EXPECT_EQ(snap->state, State::kEstablished);
  EXPECT_EQ(snap->snd_nxt.value(), snd);  // the probe takes no sequence space
  EXPECT_EQ(snap->keepalive_probes_sent, 1);
  EXPECT_FALSE(snap->rtx_deadline);  // nor is it retransmitted as data would be
}

TEST_F(KeepaliveTest, AnsweredProbeRestartsTheIdleTime) {
  EXPECT_EQ(fire_next_timer(), 60s);
  expect_probe(sent_one());
  advance_by(2s);
  send(seg(f::kAck, rcv, snd));  // the peer's ACK of the probe
  expect_nothing_sent();
  EXPECT_EQ(stack->snapshot(conn)->keepalive_probes_sent, 0);
  EXPECT_EQ(fire_next_timer(), 60s);  // the idle time again, not the probe interval
  expect_probe(sent_one());
}

TEST_F(KeepaliveTest, IdleTimeCountsFromTheLastSegmentReceived) {
  advance_by(30s);
  send(seg(f::kAck | f::kPsh, rcv, snd, "ping"));
  rcv += 4;
  EXPECT_EQ(stack->snapshot(conn)->keepalive_deadline, Instant{90s});
  advance_by(59s);
  const auto acks = sent();  // the delayed ACK of the data, and no probe
  ASSERT_EQ(acks.size(), 1U);
  EXPECT_EQ(acks[0].seq.value(), snd);
  EXPECT_EQ(acks[0].ack.value(), rcv);
  EXPECT_EQ(fire_next_timer(), 1s);  // 60 s after the data came
  expect_probe(sent_one());
}

TEST_F(KeepaliveTest, UnansweredProbesComeEveryIntervalThenTheConnectionIsReset) {
  // RFC 1122 4.2.3.6: after KEEPCNT unanswered probes the connection is dropped; like Linux,
  // the stack says so with <SEQ=SND.NXT><CTL=RST> (plus its ACK).
  EXPECT_THAT(let_keepalive_time_out(), ElementsAre(60s, 10s, 10s, 10s));
  const Segment rst = sent_one();
  EXPECT_EQ(rst.flags, f::kRst | f::kAck);
  EXPECT_EQ(rst.seq.value(), snd);
  EXPECT_EQ(state_of(conn), State::kClosed);
  EXPECT_TRUE(stack->connections().empty());
  EXPECT_FALSE(stack->next_deadline());
  EXPECT_EQ(stack->counters().keepalive_timeouts, 1U);
  EXPECT_EQ(stack->counters().resets_sent, 1U);
  EXPECT_EQ(stack->read(conn, 10).error(), ETIMEDOUT);
  EXPECT_EQ(stack->read(conn, 10).value(), bytes(""));  // the error is reported once
}

TEST_F(KeepaliveTest, TimeoutIsReportedThroughSoError) {
  let_keepalive_time_out();
  EXPECT_EQ(sent_one().flags, f::kRst | f::kAck);
  EXPECT_NE(stack->events(conn) & event::kErr, 0U);
  EXPECT_EQ(stack->getsockopt(conn, SocketOption::kError).value(), ETIMEDOUT);
  EXPECT_EQ(stack->getsockopt(conn, SocketOption::kError).value(), 0);
  EXPECT_EQ(stack->write(conn, bytes("x")).error(), EPIPE);
}

TEST_F(KeepaliveTest, LateAnswerBeforeTheLastIntervalEndsSavesTheConnection) {
  fire_next_timer();
  expect_probe(sent_one());
  fire_next_timer();
  expect_probe(sent_one());
  fire_next_timer();
  expect_probe(sent_one());
  advance_by(9s);
  send(seg(f::kAck, rcv, snd));
  EXPECT_EQ(fire_next_timer(), 60s);
  expect_probe(sent_one());
  EXPECT_EQ(state_of(conn), State::kEstablished);
}

TEST_F(KeepaliveTest, NoProbeWhileSentDataIsOutstanding) {
  // RFC 9293 3.8.4 (MUST-26): probes only when no sent data is outstanding; meanwhile the
  // retransmission timer watches the peer.
  ASSERT_TRUE(stack->write(conn, bytes("x")).ok());
  EXPECT_EQ(sent_one().payload, bytes("x"));
  while (now < Instant{100s}) {
    fire_next_timer();
    for (const Segment& s : sent()) {
      EXPECT_EQ(s.seq.value(), snd) << "a keepalive probe at " << now.count() << " us";
      EXPECT_EQ(s.payload, bytes("x"));
    }
  }
  EXPECT_EQ(stack->snapshot(conn)->keepalive_probes_sent, 0);
  send(seg(f::kAck, rcv, snd + 1));  // acknowledged at last: keepalive resumes
  EXPECT_EQ(fire_next_timer(), 60s);
  const Segment probe = sent_one();
  EXPECT_EQ(probe.seq.value(), snd);  // the new SND.NXT - 1
  EXPECT_TRUE(probe.payload.empty());
}

TEST_F(KeepaliveTest, OneAdvancePastTheLastProbeTimesTheConnectionOut) {
  // stack.h: advance(now) "fires every timer due at or before now". Probes are due at 60, 70
  // and 80 s and the end at 90 s, so one advance() to 100 s must do all of it.
  advance_by(100s);
  const auto out = sent();
  ASSERT_EQ(out.size(), 4U);
  for (std::size_t i = 0; i < 3; ++i) expect_probe(out[i]);
  EXPECT_EQ(out[3].flags, f::kRst | f::kAck);
  EXPECT_EQ(state_of(conn), State::kClosed);
}

TEST_F(KeepaliveTest, TurningKeepaliveOffStopsTheTimer) {
  ASSERT_TRUE(stack->setsockopt(conn, SocketOption::kKeepAlive, 0).ok());
  EXPECT_FALSE(stack->next_deadline());
  advance_by(1h);
  expect_nothing_sent();
}

}  // namespace
}  // namespace synack::stack::testing
