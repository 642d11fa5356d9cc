// Listen queues (RFC 9293 3.10.7.2, RFC 4987): the SYN queue and the accept queue bounded by the
// backlog, SYN cookies once the SYN queue is full, accept-queue overflow, closing a listener, and
// the port rules of bind() and listen(). (The SYN flood itself is syn_flood_test.cc.)
#include "stack/tcp/stack_fixture.h"

namespace synack::stack::testing {
namespace {

constexpr int kBacklog = 4;

// A SYN from `port`: the template plus another source port.
Segment syn_from(std::uint16_t port, std::uint32_t iss = kRemoteIss) {
  Segment s = peer_segment(f::kSyn, iss);
  s.src_port = port;
  return s;
}

// Moves the clock to `until` one timer at a time, as time passing would: each timer fires at its
// own deadline and what it re-arms runs from there.
void run_until(Stack& stack, Instant& now, Instant until) {
  while (const auto d = stack.next_deadline()) {
    if (*d > until) break;
    now = *d;
    stack.advance(now);
  }
  now = until;
  stack.advance(now);
}

// --- The SYN queue

TEST_F(ListenTest, SynQueueIsBoundedByTheBacklogWhenCookiesAreOff) {
  // RFC 4987 3.1: without cookies, a SYN beyond a full SYN queue is dropped, leaving no state.
  config.syncookies = false;
  make_stack();
  listen_on_port(kBacklog);
  for (int i = 0; i < kBacklog; ++i) {
    const auto port = static_cast<std::uint16_t>(kRemotePort + i);
    send(syn_from(port));
    const Segment synack = sent_one();
    EXPECT_EQ(synack.flags, f::kSyn | f::kAck);
    EXPECT_EQ(synack.dst_port, port);
  }
  auto q = stack->listen_queues(listener);
  EXPECT_EQ(q->syn_queue, std::size_t{kBacklog});
  EXPECT_EQ(q->accept_queue, 0U);
  EXPECT_EQ(q->limit, std::size_t{kBacklog});

  send(syn_from(kRemotePort + kBacklog));
  expect_nothing_sent();
  EXPECT_EQ(stack->counters().syn_queue_drops, 1U);
  EXPECT_EQ(stack->counters().cookies_sent, 0U);
  EXPECT_EQ(stack->listen_queues(listener)->syn_queue, std::size_t{kBacklog});
  EXPECT_EQ(stack->connections().size(), std::size_t{kBacklog});
}

TEST_F(ListenTest, BacklogIsCappedAtMaxBacklogAndIsAtLeastOne) {
  ASSERT_TRUE(stack->listen(listener, 1'000'000).ok());  // listen() again changes the backlog
  EXPECT_EQ(stack->listen_queues(listener)->limit, std::size_t(config.max_backlog));
  ASSERT_TRUE(stack->listen(listener, 0).ok());
  EXPECT_EQ(stack->listen_queues(listener)->limit, 1U);
}

// --- SYN cookies (RFC 4987 3.6)

// A listener with backlog kBacklog whose SYN queue is full of half-open connections from ports
// kRemotePort + 1 ... + kBacklog. Window scaling, SACK and timestamps are on, so that their
// absence from a cookie SYN,ACK means something.
class SynQueueFullTest : public ListenTest {
 protected:
  void SetUp() override {
    StackTest::SetUp();
    config.timestamps = true;
    config.sack = true;
    config.wscale = 7;
    make_stack();
    listen_on_port(kBacklog);
    for (int i = 1; i <= kBacklog; ++i) {
      send(syn_from(static_cast<std::uint16_t>(kRemotePort + i)));
      ASSERT_EQ(sent_one().flags, f::kSyn | f::kAck);
    }
    ASSERT_EQ(stack->listen_queues(listener)->syn_queue, std::size_t{kBacklog});
  }

  // A SYN from kRemotePort (or `port`) offering every option; returns the stack's SYN,ACK.
  Segment cookie_synack(std::uint16_t mss = 1460, std::uint16_t port = kRemotePort) {
    Segment syn = syn_from(port);
    syn.options.mss = mss;
    syn.options.wscale = 7;
    syn.options.sack_permitted = true;
    syn.options.timestamps = Timestamps{77, 0};
    send(syn);
    return sent_one();
  }

  // The client's third segment: SEG.SEQ = its ISN + 1, SEG.ACK = cookie + 1.
  Segment cookie_ack(std::uint32_t cookie, std::string_view payload = {},
                     std::uint16_t port = kRemotePort) {
    Segment ack = seg(f::kAck, kRemoteIss + 1, cookie + 1, payload);
    ack.src_port = port;
    return ack;
  }

  // A whole cookie handshake from `port` with the peer's MSS `mss`; the accepted socket.
  SocketId cookie_handshake(std::uint16_t port, std::uint16_t mss) {
    const Segment synack = cookie_synack(mss, port);
    send(cookie_ack(synack.seq.value(), {}, port));
    auto c = stack->accept(listener);
    EXPECT_TRUE(c.ok());
    return c.ok() ? c.value() : -1;
  }
};

TEST_F(SynQueueFullTest, SynBeyondAFullQueueGetsACookieSynAckWithOnlyAnMss) {
  const Segment synack = cookie_synack();
  EXPECT_EQ(synack.flags, f::kSyn | f::kAck);
  EXPECT_EQ(synack.ack.value(), kRemoteIss + 1);
  EXPECT_EQ(synack.dst_port, kRemotePort);
  EXPECT_EQ(synack.options.mss, 1460);
  // Nowhere to keep what they negotiate: window scale, SACK and timestamps are not offered.
  EXPECT_FALSE(synack.options.wscale);
  EXPECT_FALSE(synack.options.sack_permitted);
  EXPECT_FALSE(synack.options.timestamps);
  // The cookie's layout (isn.h): t mod 32 on top (the first 64-second period here), then the
  // index of the MSS in kCookieMssTable (1460 is the last entry).
  const std::uint32_t cookie = synack.seq.value();
  EXPECT_EQ(cookie >> 27, 0U);
  EXPECT_EQ((cookie >> 24) & 0x7, 7U);
  // No state: no connection, the SYN queue unchanged.
  EXPECT_EQ(stack->connections().size(), std::size_t{kBacklog});
  EXPECT_EQ(stack->listen_queues(listener)->syn_queue, std::size_t{kBacklog});
  EXPECT_EQ(stack->counters().cookies_sent, 1U);
  EXPECT_EQ(stack->counters().syn_queue_drops, 0U);
}

TEST_F(SynQueueFullTest, CookieAckCompletesAConnectionThatCanBeAcceptedAndReadFrom) {
  const Segment synack = cookie_synack();
  send(cookie_ack(synack.seq.value(), "hello"));
  EXPECT_EQ(stack->counters().cookies_valid, 1U);
  EXPECT_EQ(stack->counters().cookies_invalid, 0U);
  EXPECT_EQ(stack->connections().size(), std::size_t{kBacklog} + 1);
  auto q = stack->listen_queues(listener);
  EXPECT_EQ(q->accept_queue, 1U);
  EXPECT_EQ(q->syn_queue, std::size_t{kBacklog});
  EXPECT_NE(stack->events(listener) & event::kIn, 0U);

  Endpoint peer;
  auto c = stack->accept(listener, &peer);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(peer, (Endpoint{kRemoteAddr, kRemotePort}));
  const auto snap = stack->snapshot(c.value());
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->state, State::kEstablished);
  EXPECT_TRUE(snap->passive_open);
  EXPECT_EQ(snap->iss.value(), synack.seq.value());
  EXPECT_EQ(snap->snd_una.value(), synack.seq.value() + 1);
  // The text on the third segment is delivered, not dropped for want of a receive window.
  auto data = stack->read(c.value(), 100);
  ASSERT_TRUE(data.ok()) << "errno " << data.error();
  EXPECT_EQ(data.value(), bytes("hello"));
  EXPECT_EQ(stack->snapshot(c.value())->rcv_nxt.value(), kRemoteIss + 1 + 5);
}

TEST_F(SynQueueFullTest, CookieConnectionNegotiatesNoWindowScaleSackOrTimestamps) {
  // RFC 7323 2.2: windows are scaled only when both SYNs carried the option; the cookie SYN,ACK
  // did not, so the window the stack advertises on this connection is never shifted.
  const Segment synack = cookie_synack();
  send(cookie_ack(synack.seq.value()));
  auto c = stack->accept(listener);
  ASSERT_TRUE(c.ok());
  const auto snap = stack->snapshot(c.value());
  EXPECT_EQ(snap->rcv_wscale, 0);
  EXPECT_EQ(snap->snd_wscale, 0);
  EXPECT_FALSE(snap->timestamps);
  EXPECT_FALSE(snap->sack_permitted);
  ASSERT_TRUE(stack->write(c.value(), bytes("hi")).ok());
  const Segment data = sent_one();
  EXPECT_EQ(data.payload, bytes("hi"));
  EXPECT_EQ(data.seq.value(), synack.seq.value() + 1);
  EXPECT_EQ(data.window, 65535);  // min(rcv_buf, 65535), unscaled
  EXPECT_FALSE(data.options.timestamps);
}

TEST_F(SynQueueFullTest, AckWithAWrongCookieIsAnsweredWithRstAtItsAckNumber) {
  // RFC 9293 3.10.7.2, second: an ACK in LISTEN gets <SEQ=SEG.ACK><CTL=RST>.
  const std::uint32_t cookie = cookie_synack().seq.value();
  Segment ack = seg(f::kAck, kRemoteIss + 1, cookie + 2);
  send(ack);
  const Segment rst = sent_one();
  EXPECT_EQ(rst.flags, f::kRst);
  EXPECT_EQ(rst.seq.value(), cookie + 2);
  EXPECT_EQ(rst.dst_port, kRemotePort);
  EXPECT_EQ(stack->counters().cookies_invalid, 1U);
  EXPECT_EQ(stack->counters().cookies_valid, 0U);
  EXPECT_EQ(stack->connections().size(), std::size_t{kBacklog});
  EXPECT_EQ(stack->listen_queues(listener)->accept_queue, 0U);
}

TEST_F(SynQueueFullTest, RightCookieWithAnotherClientIsnIsRejected) {
  // The cookie authenticates the client's ISN: SEG.SEQ - 1 must be the SYN's sequence number.
  const std::uint32_t cookie = cookie_synack().seq.value();
  send(seg(f::kAck, kRemoteIss + 2, cookie + 1));
  const Segment rst = sent_one();
  EXPECT_EQ(rst.flags, f::kRst);
  EXPECT_EQ(rst.seq.value(), cookie + 1);
  EXPECT_EQ(stack->counters().cookies_invalid, 1U);
  EXPECT_EQ(stack->connections().size(), std::size_t{kBacklog});
}

TEST_F(SynQueueFullTest, RightCookieFromAnotherPortIsRejected) {
  const std::uint32_t cookie = cookie_synack().seq.value();
  send(cookie_ack(cookie, {}, kRemotePort + 100));
  EXPECT_EQ(sent_one().flags, f::kRst);
  EXPECT_EQ(stack->counters().cookies_invalid, 1U);
  EXPECT_EQ(stack->connections().size(), std::size_t{kBacklog});
}

// A listener checks cookies only within two minutes of sending one (Linux's
// tcp_synq_no_recent_overflow): a new listener on the port answers the ACK of a cookie the
// closed one sent with <SEQ=SEG.ACK><CTL=RST> (RFC 9293 3.10.7.2), and opens nothing.
TEST_F(SynQueueFullTest, AListenerThatSentNoCookieLatelyChecksNone) {
  const std::uint32_t cookie = cookie_synack().seq.value();
  ASSERT_TRUE(stack->close(listener).ok());
  (void)sent();
  listen_on_port(kBacklog);
  send(cookie_ack(cookie));
  const Segment rst = sent_one();
  EXPECT_EQ(rst.flags, f::kRst);
  EXPECT_EQ(rst.seq.value(), cookie + 1);
  EXPECT_EQ(stack->counters().cookies_valid, 0U);
  EXPECT_EQ(stack->listen_queues(listener)->accept_queue, 0U);
  EXPECT_TRUE(stack->connections().empty());
}

// Two minutes after it last sent one, a listener checks no cookie: the ACK of a cookie it sent
// at 0 s gets a RST at 121 s, though the cookie's own age (the previous 64-second period, see
// CookieFromThePreviousPeriodIsAccepted) would still pass.
TEST_F(SynQueueFullTest, ACookieIsCheckedOnlyForTwoMinutesAfterTheLastOneSent) {
  const std::uint32_t cookie = cookie_synack().seq.value();
  run_until(*stack, now, Instant{121s});
  sent();  // the half-open connections' SYN,ACK retransmissions, then their end at 63 s
  send(cookie_ack(cookie));
  const Segment rst = sent_one();
  EXPECT_EQ(rst.flags, f::kRst);
  EXPECT_EQ(rst.seq.value(), cookie + 1);
  EXPECT_EQ(stack->counters().cookies_valid, 0U);
  EXPECT_EQ(stack->counters().cookies_invalid, 0U);  // not checked
  EXPECT_EQ(stack->accept(listener).error(), EAGAIN);
}

TEST_F(SynQueueFullTest, CookieMssBoundsTheConnectionsSendMss) {
  // RFC 4987 3.6: the cookie keeps the largest table MSS not above the peer's (RFC 9293 3.7.1,
  // MUST-16: never send more than the peer's MSS); below the table, 536.
  EXPECT_EQ(stack->snapshot(cookie_handshake(kRemotePort, 1400))->snd_mss, 1400);
  EXPECT_EQ(stack->snapshot(cookie_handshake(kRemotePort + 100, 1000))->snd_mss, 536);
  EXPECT_EQ(stack->snapshot(cookie_handshake(kRemotePort + 101, 1459))->snd_mss, 1452);
  EXPECT_EQ(stack->snapshot(cookie_handshake(kRemotePort + 102, 9000))->snd_mss, 1460);
}

TEST_F(SynQueueFullTest, CookieFromThePreviousPeriodIsAccepted) {
  const std::uint32_t cookie = cookie_synack().seq.value();
  run_until(*stack, now, Instant{100s});  // the next 64-second period
  sent();  // the half-open connections' SYN,ACK retransmissions, then their end at 63 s
  send(cookie_ack(cookie));
  expect_nothing_sent();
  EXPECT_EQ(stack->counters().cookies_valid, 1U);
  EXPECT_TRUE(stack->accept(listener).ok());
}

TEST_F(SynQueueFullTest, CookieOlderThanTwoPeriodsIsRejected) {
  const std::uint32_t cookie = cookie_synack().seq.value();
  run_until(*stack, now, Instant{125s});
  sent();
  // The SYN queue full again, and a cookie sent: the listener checks cookies for two minutes.
  for (int i = 1; i <= kBacklog; ++i) send(syn_from(static_cast<std::uint16_t>(kRemotePort + i)));
  sent();
  cookie_synack(1460, kRemotePort + 60);
  run_until(*stack, now, Instant{130s});  // two 64-second periods after the first cookie
  sent();
  send(cookie_ack(cookie));
  const Segment rst = sent_one();
  EXPECT_EQ(rst.flags, f::kRst);
  EXPECT_EQ(rst.seq.value(), cookie + 1);
  EXPECT_EQ(stack->counters().cookies_invalid, 1U);
  EXPECT_EQ(stack->accept(listener).error(), EAGAIN);
  // (The first half-open connections timed out at 63 s; the second lot is still there.)
  EXPECT_EQ(stack->connections().size(), std::size_t{kBacklog});
}

TEST_F(SynReceivedTest, HalfOpenConnectionIsGoneWhenOneAdvancePassesItsLifetime) {
  // stack.h: advance(now) "fires every timer due at or before now". The SYN,ACK timer is due at
  // 1, 3, 7, 15 and 31 s and the connection ends at 63 s (synack_retries 5); one advance() to
  // 130 s must leave it gone, as advancing timer by timer does.
  now = Instant{130s};
  stack->advance(now);
  EXPECT_EQ(sent().size(), 5U);  // the five retransmissions
  EXPECT_TRUE(stack->connections().empty());
  EXPECT_EQ(stack->listen_queues(listener)->syn_queue, 0U);
}

TEST_F(ListenTest, CookieAckWhenCookiesAreOffIsAnsweredWithRst) {
  config.syncookies = false;
  make_stack();
  listen_on_port(1);
  send(syn_from(kRemotePort + 1));
  sent_one();
  send(seg(f::kAck, kRemoteIss + 1, 12345));
  EXPECT_EQ(sent_one().flags, f::kRst);
  EXPECT_EQ(stack->counters().cookies_invalid, 0U);  // not even looked at
}

// --- The accept queue

// Backlog 1. A half-open connection from kRemotePort + 1 (server ISS half_open_iss) fills the SYN
// queue; a cookie handshake from kRemotePort then fills the accept queue. fill_queues() builds
// it from `config`, so that a test can change accept_overflow first.
class AcceptQueueFullTest : public ListenTest {
 protected:
  static constexpr std::uint16_t kHalfOpenPort = kRemotePort + 1;

  void fill_queues() {
    make_stack();
    listen_on_port(1);
    send(syn_from(kHalfOpenPort));
    const Segment synack = sent_one();
    ASSERT_EQ(synack.flags, f::kSyn | f::kAck);
    half_open_iss = synack.seq.value();
    send(syn_from(kRemotePort));
    const std::uint32_t cookie = sent_one().seq.value();
    send(seg(f::kAck, kRemoteIss + 1, cookie + 1));
    expect_nothing_sent();
    const auto q = stack->listen_queues(listener);
    ASSERT_EQ(q->syn_queue, 1U);
    ASSERT_EQ(q->accept_queue, 1U);
  }

  // The half-open connection's third segment.
  Segment half_open_ack() const {
    Segment ack = seg(f::kAck, kRemoteIss + 1, half_open_iss + 1);
    ack.src_port = kHalfOpenPort;
    return ack;
  }

  std::uint32_t half_open_iss = 0;
};

TEST_F(AcceptQueueFullTest, FinalAckIntoAFullAcceptQueueIsDroppedAndTheSynAckRetransmitted) {
  // AcceptOverflow::kDrop (Linux's default): the ACK is ignored and the connection stays half
  // open, so the peer's ACK of the retransmitted SYN,ACK can get in once there is room.
  fill_queues();
  send(half_open_ack());
  expect_nothing_sent();
  EXPECT_EQ(stack->counters().accept_queue_drops, 1U);
  EXPECT_EQ(stack->connections().size(), 2U);
  EXPECT_EQ(stack->listen_queues(listener)->syn_queue, 1U);
  EXPECT_EQ(stack->listen_queues(listener)->accept_queue, 1U);

  EXPECT_EQ(fire_next_timer(), 1s);
  const Segment again = sent_one();
  EXPECT_EQ(again.flags, f::kSyn | f::kAck);
  EXPECT_EQ(again.seq.value(), half_open_iss);
  EXPECT_EQ(again.dst_port, kHalfOpenPort);

  ASSERT_TRUE(stack->accept(listener).ok());  // room again
  send(half_open_ack());
  expect_nothing_sent();
  Endpoint peer;
  auto c = stack->accept(listener, &peer);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(peer.port, kHalfOpenPort);
  EXPECT_EQ(state_of(c.value()), State::kEstablished);
}

TEST_F(AcceptQueueFullTest, FinalAckIntoAFullAcceptQueueIsResetWhenConfigured) {
  // AcceptOverflow::kReset (Linux tcp_abort_on_overflow): <SEQ=SEG.ACK><CTL=RST>.
  config.accept_overflow = AcceptOverflow::kReset;
  fill_queues();
  send(half_open_ack());
  const Segment rst = sent_one();
  EXPECT_EQ(rst.flags, f::kRst);
  EXPECT_EQ(rst.seq.value(), half_open_iss + 1);
  EXPECT_EQ(stack->counters().accept_queue_drops, 1U);
  EXPECT_EQ(stack->listen_queues(listener)->syn_queue, 0U);
  EXPECT_EQ(stack->connections().size(), 1U);  // the accepted-to-be one only
}

TEST_F(AcceptQueueFullTest, OverflowRstGoesToThePeer) {
  config.accept_overflow = AcceptOverflow::kReset;
  fill_queues();
  send(half_open_ack());
  const Segment rst = sent_one();
  EXPECT_EQ(rst.src_addr, kLocalAddr);
  EXPECT_EQ(rst.dst_addr, kRemoteAddr);
  EXPECT_EQ(rst.src_port, kLocalPort);
  EXPECT_EQ(rst.dst_port, kHalfOpenPort);
}

TEST_F(SynReceivedTest, RstForAnUnacceptableAckGoesToThePeer) {
  // RFC 9293 3.10.7.4, fifth (SYN-RECEIVED): <SEQ=SEG.ACK><CTL=RST>, sent to the segment's
  // source.
  send(seg(f::kAck, kRemoteIss + 1, server_iss + 99));
  const Segment rst = sent_one();
  EXPECT_EQ(rst.flags, f::kRst);
  EXPECT_EQ(rst.dst_addr, kRemoteAddr);
  EXPECT_EQ(rst.dst_port, kRemotePort);
  EXPECT_EQ(rst.src_addr, kLocalAddr);
  EXPECT_EQ(rst.src_port, kLocalPort);
}

TEST_F(AcceptQueueFullTest, CookieAckIntoAFullAcceptQueueIsDropped) {
  // A cookie made while the accept queue had room; by the time its ACK comes, it has none.
  fill_queues();
  ASSERT_TRUE(stack->accept(listener).ok());
  send(syn_from(kRemotePort + 3));  // the SYN queue is still full: a cookie
  const std::uint32_t cookie = sent_one().seq.value();
  send(half_open_ack());  // the half-open connection takes the free slot
  expect_nothing_sent();
  Segment ack = seg(f::kAck, kRemoteIss + 1, cookie + 1);
  ack.src_port = kRemotePort + 3;
  send(ack);
  expect_nothing_sent();
  EXPECT_EQ(stack->counters().accept_queue_drops, 1U);
  EXPECT_EQ(stack->counters().cookies_valid, 1U);  // the fixture's only
  EXPECT_EQ(stack->connections().size(), 2U);      // the accepted one and the queued one
}

TEST_F(AcceptQueueFullTest, CookieAckIntoAFullAcceptQueueIsResetWhenConfigured) {
  config.accept_overflow = AcceptOverflow::kReset;
  fill_queues();
  ASSERT_TRUE(stack->accept(listener).ok());
  send(syn_from(kRemotePort + 3));
  const std::uint32_t cookie = sent_one().seq.value();
  send(half_open_ack());  // fills the accept queue again
  expect_nothing_sent();
  Segment ack = seg(f::kAck, kRemoteIss + 1, cookie + 1);
  ack.src_port = kRemotePort + 3;
  send(ack);
  const Segment rst = sent_one();
  EXPECT_EQ(rst.flags, f::kRst);
  EXPECT_EQ(rst.seq.value(), cookie + 1);
  EXPECT_EQ(rst.dst_addr, kRemoteAddr);
  EXPECT_EQ(rst.dst_port, kRemotePort + 3);
  EXPECT_EQ(stack->counters().accept_queue_drops, 1U);
  EXPECT_EQ(stack->counters().cookies_valid, 1U);  // the fixture's only
}

TEST_F(AcceptQueueFullTest, SynWhileTheAcceptQueueIsFullIsDropped) {
  // The handshake could not complete into the queue anyway (as Linux does): no SYN,ACK, no
  // cookie, no state.
  fill_queues();
  const std::uint64_t cookies = stack->counters().cookies_sent;
  send(syn_from(kRemotePort + 2));
  expect_nothing_sent();
  EXPECT_EQ(stack->counters().accept_queue_drops, 1U);
  EXPECT_EQ(stack->counters().cookies_sent, cookies);
  EXPECT_EQ(stack->connections().size(), 2U);
}

// --- Closing a listener

TEST_F(ListenTest, CloseResetsUnacceptedConnectionsAndForgetsHalfOpenOnes) {
  send(syn_from(kRemotePort));
  const std::uint32_t established_iss = sent_one().seq.value();
  send(seg(f::kAck, kRemoteIss + 1, established_iss + 1));  // ESTABLISHED, not accepted
  send(syn_from(kRemotePort + 1));                          // half-open
  sent_one();
  ASSERT_EQ(stack->connections().size(), 2U);

  ASSERT_TRUE(stack->close(listener).ok());
  // Only the established connection hears of it: <SEQ=SND.NXT><CTL=RST> (with Linux's ACK).
  const Segment rst = sent_one();
  EXPECT_EQ(rst.flags, f::kRst | f::kAck);
  EXPECT_EQ(rst.dst_port, kRemotePort);
  EXPECT_EQ(rst.seq.value(), established_iss + 1);
  EXPECT_EQ(rst.ack.value(), kRemoteIss + 1);
  EXPECT_EQ(stack->counters().resets_sent, 1U);
  EXPECT_TRUE(stack->connections().empty());
  EXPECT_FALSE(stack->next_deadline());
  EXPECT_FALSE(stack->listen_queues(listener));

  // The port is free again.
  const SocketId again = stack->socket().value();
  ASSERT_TRUE(stack->bind(again, kLocalPort).ok());
  ASSERT_TRUE(stack->listen(again, 8).ok());
  send(syn_from(kRemotePort + 2));
  EXPECT_EQ(sent_one().flags, f::kSyn | f::kAck);
}

TEST_F(ListenTest, SegmentsAfterCloseAreAnsweredAsForNoListener) {
  ASSERT_TRUE(stack->close(listener).ok());
  send(syn_from(kRemotePort));
  const Segment rst = sent_one();  // RFC 9293 3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><RST,ACK>
  EXPECT_EQ(rst.flags, f::kRst | f::kAck);
  EXPECT_EQ(rst.ack.value(), kRemoteIss + 1);
}

// --- Connections from a listener

TEST_F(EstablishedPassiveTest, ClosedAcceptedConnectionGivesUpAfterOrphanRetries) {
  // Once accepted and closed, a passive connection is an orphan like an active one: its FIN is
  // retried orphan_retries times (Linux tcp_orphan_retries), not retries2.
  ASSERT_TRUE(stack->close(conn).ok());
  EXPECT_EQ(sent_one().flags, f::kFin | f::kAck);
  ASSERT_TRUE(stack->connections().front().orphan);
  int fins = 0;
  while (stack->next_deadline()) {
    fire_next_timer();
    for (const Segment& s : sent()) {
      EXPECT_EQ(s.flags, f::kFin | f::kAck);
      ++fins;
    }
  }
  EXPECT_EQ(fins, config.orphan_retries);
  EXPECT_TRUE(stack->connections().empty());
}

TEST_F(ListenTest, AcceptedConnectionInheritsTheListenersKeepalive) {
  ASSERT_TRUE(stack->setsockopt(listener, SocketOption::kKeepAlive, 1).ok());
  ASSERT_TRUE(stack->setsockopt(listener, SocketOption::kKeepIdle, 60).ok());
  send(syn_from(kRemotePort));
  const std::uint32_t iss = sent_one().seq.value();
  advance_by(5s);
  sent();  // SYN,ACK retransmissions
  send(seg(f::kAck, kRemoteIss + 1, iss + 1));
  auto c = stack->accept(listener);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(stack->getsockopt(c.value(), SocketOption::kKeepAlive).value(), 1);
  EXPECT_EQ(stack->getsockopt(c.value(), SocketOption::kKeepIdle).value(), 60);
  EXPECT_EQ(fire_next_timer(), 60s);  // from the end of the handshake
  const Segment probe = sent_one();
  EXPECT_EQ(probe.seq.value(), iss);  // SND.NXT - 1
  EXPECT_TRUE(probe.payload.empty());
}

// --- Ports

TEST_F(ListenTest, BindToAPortInUseIsEaddrinuse) {
  const SocketId other = stack->socket().value();
  EXPECT_EQ(stack->bind(other, kLocalPort).error(), EADDRINUSE);
  ASSERT_TRUE(stack->setsockopt(other, SocketOption::kReuseAddr, 1).ok());
  // SO_REUSEADDR never shares a port with a listener.
  EXPECT_EQ(stack->bind(other, kLocalPort).error(), EADDRINUSE);
  EXPECT_TRUE(stack->bind(other, kLocalPort + 1).ok());
}

TEST_F(StackTest, ReuseAddrLetsASecondNonListeningSocketBind) {
  const SocketId a = stack->socket().value();
  const SocketId b = stack->socket().value();
  ASSERT_TRUE(stack->setsockopt(a, SocketOption::kReuseAddr, 1).ok());
  ASSERT_TRUE(stack->bind(a, kLocalPort).ok());
  EXPECT_EQ(stack->bind(b, kLocalPort).error(), EADDRINUSE);  // b has not set it
  ASSERT_TRUE(stack->setsockopt(b, SocketOption::kReuseAddr, 1).ok());
  EXPECT_TRUE(stack->bind(b, kLocalPort).ok());
  EXPECT_EQ(stack->local_endpoint(b).value(), (Endpoint{0, kLocalPort}));  // INADDR_ANY
}

TEST_F(StackTest, SecondListenerOnAPortIsEaddrinuse) {
  const SocketId a = stack->socket().value();
  const SocketId b = stack->socket().value();
  for (const SocketId s : {a, b}) {
    ASSERT_TRUE(stack->setsockopt(s, SocketOption::kReuseAddr, 1).ok());
    ASSERT_TRUE(stack->bind(s, kLocalPort).ok());
  }
  ASSERT_TRUE(stack->listen(a, 8).ok());
  EXPECT_EQ(stack->listen(b, 8).error(), EADDRINUSE);
  EXPECT_FALSE(stack->listen_queues(b));
  EXPECT_TRUE(stack->listen(a, 16).ok());  // the same socket again only changes the backlog
  EXPECT_EQ(stack->listen_queues(a)->limit, 16U);
}

TEST_F(StackTest, ListenWithoutBindPicksAnEphemeralPort) {
  const SocketId s = stack->socket().value();
  ASSERT_TRUE(stack->listen(s, 8).ok());
  const auto port = stack->local_endpoint(s).value().port;
  EXPECT_GE(port, config.ephemeral_low);
  EXPECT_LE(port, config.ephemeral_high);
  EXPECT_EQ(stack->listen_queues(s)->syn_queue, 0U);
}

}  // namespace
}  // namespace synack::stack::testing
