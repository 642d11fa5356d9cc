// Test fixtures for the stack, one per state, each built from the previous one:
//   ListenTest -> SynReceivedTest -> EstablishedPassiveTest
//   SynSentTest -> EstablishedTest -> FinWait1Test -> FinWait2Test -> TimeWaitTest
//                                  -> CloseWaitTest -> LastAckTest
// The remote peer is the test: it injects segments built with the stack's codec and reads the
// stack's replies. Options (timestamps, SACK, window scale) are off unless a test turns them on,
// so expected segments stay short; every fixture fails the test on any invariant violation.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "stack/stack.h"
#include "stack/wire/bytes.h"
#include "stack/wire/checksum.h"
#include "stack/wire/icmp.h"
#include "stack/wire/segment.h"

namespace synack::stack::testing {

namespace f = tcp_flag;

inline constexpr std::uint32_t kLocalAddr = 0xc0a80001;   // 192.168.0.1, the stack
inline constexpr std::uint32_t kRemoteAddr = 0xc0a80002;  // 192.168.0.2, the test
inline constexpr std::uint16_t kLocalPort = 8080;
inline constexpr std::uint16_t kRemotePort = 40000;
inline constexpr std::uint32_t kRemoteIss = 1000;
inline constexpr std::uint16_t kRemoteWindow = 65535;

inline constexpr std::uint32_t kRouterAddr = 0xc0a800fe;  // 192.168.0.254, sends ICMP errors

inline std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

// Recomputes the IPv4 header checksum of `p` after a test changed its header.
inline void fix_ip_checksum(Packet& p) {
  const std::size_t ihl = std::size_t{p[0] & 0x0fU} * 4;
  wire::set16(p, 10, 0);
  wire::set16(p, 10, internet_checksum(std::span(p).first(ihl)));
}

// `p` (a packet with a 20-byte IPv4 header) with IPv4 options inserted after the fixed header:
// `options` is padded with EOL to a multiple of 4 bytes; IHL, total length and the header
// checksum are updated. The TCP checksum needs no change: its pseudo-header has only the
// addresses (RFC 9293 3.1).
inline Packet with_ip_options(Packet p, std::vector<std::uint8_t> options) {
  while (options.size() % 4 != 0) options.push_back(0);
  p.insert(p.begin() + 20, options.begin(), options.end());
  p[0] = static_cast<std::uint8_t>(0x40 | ((20 + options.size()) / 4));
  wire::set16(p, 2, static_cast<std::uint16_t>(p.size()));
  fix_ip_checksum(p);
  return p;
}

// An ICMP message (RFC 792) to the stack: type, code, the word after the checksum, and the
// quoted start of the datagram it is about. Checksums are correct.
inline Packet icmp_packet(std::uint8_t type, std::uint8_t code, std::span<const std::uint8_t> quote,
                          std::uint32_t rest = 0, std::uint32_t from = kRouterAddr,
                          std::uint32_t to = kLocalAddr) {
  Packet p(20 + 8 + quote.size(), 0);
  p[0] = 0x45;
  wire::set16(p, 2, static_cast<std::uint16_t>(p.size()));
  p[8] = 64;
  p[9] = ip_proto::kIcmp;
  wire::set32(p, 12, from);
  wire::set32(p, 16, to);
  fix_ip_checksum(p);
  p[20] = type;
  p[21] = code;
  wire::set32(p, 24, rest);
  std::copy(quote.begin(), quote.end(), p.begin() + 28);
  wire::set16(p, 22, internet_checksum(std::span(p).subspan(20)));
  return p;
}

// What an ICMP error quotes of `packet`: its IPv4 header and the first 8 bytes after it.
inline Packet quote_of(const Packet& packet) {
  const std::size_t ihl = std::size_t{packet[0] & 0x0fU} * 4;
  return Packet(packet.begin(), packet.begin() + static_cast<std::ptrdiff_t>(ihl + 8));
}

// A segment from the remote peer, template plus the fields that differ.
inline Segment peer_segment(std::uint8_t flags, std::uint32_t seq, std::uint32_t ack = 0,
                            std::string_view payload = {}, std::uint16_t window = kRemoteWindow) {
  Segment s;
  s.src_addr = kRemoteAddr;
  s.dst_addr = kLocalAddr;
  s.src_port = kRemotePort;
  s.dst_port = kLocalPort;
  s.seq = SeqNum(seq);
  s.ack = SeqNum(ack);
  s.flags = flags;
  s.window = window;
  s.payload = bytes(payload);
  return s;
}

class StackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config.local_addr = kLocalAddr;
    config.timestamps = false;
    config.sack = false;
    config.wscale = 0;
    make_stack();
  }
  void TearDown() override {
    EXPECT_THAT(violations, ::testing::IsEmpty()) << "white-box invariants violated";
  }

  // (Re)creates the stack from `config`, recording invariant violations instead of aborting.
  void make_stack() {
    stack = std::make_unique<Stack>(config, 42);
    stack->set_invariant_handler(
        [this](const std::string& what, const Snapshot&) { violations.push_back(what); });
  }

  // A segment from the remote peer, template plus the fields that differ.
  static Segment seg(std::uint8_t flags, std::uint32_t seq, std::uint32_t ack = 0,
                     std::string_view payload = {}, std::uint16_t window = kRemoteWindow) {
    return peer_segment(flags, seq, ack, payload, window);
  }

  // A second stack playing the peer at kRemoteAddr, configured like this one.
  std::unique_ptr<Stack> make_peer(std::uint64_t seed) const {
    StackConfig peer_config = config;
    peer_config.local_addr = kRemoteAddr;
    return std::make_unique<Stack>(peer_config, seed);
  }

  void send(const Segment& s) { stack->input(emit_segment(s), now); }
  void send_raw(const Packet& p) { stack->input(p, now); }

  // Everything the stack has sent since the last call, parsed.
  std::vector<Segment> sent() {
    std::vector<Segment> out;
    for (const Packet& p : stack->take_output()) {
      Segment s;
      EXPECT_EQ(parse_segment(p, s), ParseStatus::kOk) << "the stack emitted a bad packet";
      out.push_back(std::move(s));
    }
    return out;
  }
  // Exactly one segment, which the test then checks field by field.
  Segment sent_one() {
    auto v = sent();
    EXPECT_EQ(v.size(), 1U) << "expected exactly one segment";
    return v.empty() ? Segment{} : v.front();
  }
  void expect_nothing_sent() { EXPECT_THAT(sent(), ::testing::IsEmpty()); }

  void advance_by(Duration d) {
    now += d;
    stack->advance(now);
  }
  // Moves the clock to the next timer and fires it; returns how far the clock moved.
  Duration fire_next_timer() {
    const auto d = stack->next_deadline();
    EXPECT_TRUE(d.has_value()) << "no timer is running";
    if (!d) return Duration{0};
    const Duration moved = *d - now;
    now = *d;
    stack->advance(now);
    return moved;
  }

  State state_of(SocketId s) const {
    const auto snap = stack->snapshot(s);
    return snap ? snap->state : State::kClosed;
  }

  // The state of the stack's only connection (orphans included); CLOSED when there is none.
  State only_connection_state() const {
    const auto all = stack->connections();
    EXPECT_LE(all.size(), 1U);
    return all.empty() ? State::kClosed : all.front().state;
  }

  StackConfig config;
  std::unique_ptr<Stack> stack;
  Instant now{0};
  std::vector<std::string> violations;
};

// A listener on kLocalPort with backlog 8.
class ListenTest : public StackTest {
 protected:
  void SetUp() override {
    StackTest::SetUp();
    listen_on_port();
  }
  void listen_on_port(int backlog = 8) {
    listener = stack->socket().value();
    ASSERT_TRUE(stack->bind(listener, kLocalPort).ok());
    ASSERT_TRUE(stack->listen(listener, backlog).ok());
  }
  SocketId listener = -1;
};

// A SYN from the peer has arrived; the stack's SYN,ACK has been read (server_iss).
class SynReceivedTest : public ListenTest {
 protected:
  void SetUp() override {
    ListenTest::SetUp();
    send(seg(f::kSyn, kRemoteIss));
    const Segment synack = sent_one();
    ASSERT_EQ(synack.flags, f::kSyn | f::kAck);
    server_iss = synack.seq.value();
  }
  std::uint32_t server_iss = 0;
};

// The handshake is complete and the connection accepted as `conn`.
class EstablishedPassiveTest : public SynReceivedTest {
 protected:
  void SetUp() override {
    SynReceivedTest::SetUp();
    send(seg(f::kAck, kRemoteIss + 1, server_iss + 1));
    expect_nothing_sent();
    auto c = stack->accept(listener);
    ASSERT_TRUE(c.ok());
    conn = c.value();
  }
  SocketId conn = -1;
};

// connect() has sent a SYN (client_iss) from port client_port.
class SynSentTest : public StackTest {
 protected:
  void SetUp() override {
    StackTest::SetUp();
    conn = stack->socket().value();
    ASSERT_TRUE(stack->bind(conn, kLocalPort).ok());
    ASSERT_EQ(stack->connect(conn, Endpoint{kRemoteAddr, kRemotePort}).error(), EINPROGRESS);
    const Segment syn = sent_one();
    ASSERT_EQ(syn.flags, f::kSyn);
    client_iss = syn.seq.value();
  }
  SocketId conn = -1;
  std::uint32_t client_iss = 0;
};

// Active open complete: SYN,ACK received, the stack's ACK read. Our next seq is snd (local)
// and the peer's is rcv.
class EstablishedTest : public SynSentTest {
 protected:
  void SetUp() override {
    SynSentTest::SetUp();
    send(seg(f::kSyn | f::kAck, kRemoteIss, client_iss + 1));
    const Segment ack = sent_one();
    ASSERT_EQ(ack.flags, f::kAck);
    ASSERT_EQ(state_of(conn), State::kEstablished);
    snd = client_iss + 1;
    rcv = kRemoteIss + 1;
  }
  std::uint32_t snd = 0;  // the stack's SND.NXT
  std::uint32_t rcv = 0;  // the stack's RCV.NXT (the peer's next sequence number)
};

// close() in ESTABLISHED: the FIN has gone out (it took sequence number snd - 1).
class FinWait1Test : public EstablishedTest {
 protected:
  void SetUp() override {
    EstablishedTest::SetUp();
    ASSERT_TRUE(stack->shutdown(conn, Shutdown::kWrite).ok());
    const Segment fin = sent_one();
    ASSERT_EQ(fin.flags, f::kFin | f::kAck);
    ASSERT_EQ(fin.seq.value(), snd);
    snd += 1;
    ASSERT_EQ(state_of(conn), State::kFinWait1);
  }
};

// The peer has acknowledged our FIN.
class FinWait2Test : public FinWait1Test {
 protected:
  void SetUp() override {
    FinWait1Test::SetUp();
    send(seg(f::kAck, rcv, snd));
    expect_nothing_sent();
    ASSERT_EQ(state_of(conn), State::kFinWait2);
  }
};

// The peer's FIN has arrived and been acknowledged.
class TimeWaitTest : public FinWait2Test {
 protected:
  void SetUp() override {
    FinWait2Test::SetUp();
    send(seg(f::kFin | f::kAck, rcv, snd));
    rcv += 1;
    const Segment ack = sent_one();
    ASSERT_EQ(ack.ack.value(), rcv);
    ASSERT_EQ(state_of(conn), State::kTimeWait);
  }
};

// The peer closed first; its FIN has been acknowledged (after the delayed-ACK timer).
class CloseWaitTest : public EstablishedTest {
 protected:
  void SetUp() override {
    EstablishedTest::SetUp();
    send(seg(f::kFin | f::kAck, rcv, snd));
    rcv += 1;
    ASSERT_EQ(state_of(conn), State::kCloseWait);
  }
};

// Then the application closed: our FIN is out.
class LastAckTest : public CloseWaitTest {
 protected:
  void SetUp() override {
    CloseWaitTest::SetUp();
    ASSERT_TRUE(stack->close(conn).ok());
    const Segment fin = sent_one();  // carries the pending ACK of the peer's FIN too
    ASSERT_EQ(fin.flags, f::kFin | f::kAck);
    ASSERT_EQ(fin.ack.value(), rcv);
    snd += 1;
  }
};

}  // namespace synack::stack::testing
