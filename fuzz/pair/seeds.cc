// pair_fuzzer's seeds: one input per scenario, built here so that corpus/pair_fuzzer/ can be
// regenerated (pair_test's PairSeeds.WriteCorpus) and checked against the code.
#include <algorithm>
#include <chrono>

#include "fuzz/pair/pair.h"

namespace synack::fuzz::pair {

namespace {

class Builder {
 public:
  explicit Builder(Header h = {}) { p_.header = h; }
  Program done() const { return p_; }

  Builder& write(Side s, std::uint16_t n) { return add(Kind::kWrite, s, n); }
  Builder& read(Side s, std::uint32_t max = 65536) {
    return add(Kind::kRead, s, static_cast<std::uint16_t>(max - 1));
  }
  Builder& shutdown(Side s) { return add(Kind::kShutdown, s); }
  Builder& close(Side s) { return add(Kind::kClose, s); }
  Builder& deliver(Side from, int times = 1) {
    for (int i = 0; i < times; ++i) add(Kind::kDeliver, from);
    return *this;
  }
  Builder& all(Side from) { return add(Kind::kDeliverAll, from); }
  // Both directions until quiet, as far as `rounds` exchanges go.
  Builder& flush(int rounds = 3) {
    for (int i = 0; i < rounds; ++i) all(Side::kA).all(Side::kB);
    return *this;
  }
  Builder& drop(Side from) { return add(Kind::kDrop, from); }
  Builder& duplicate(Side from) { return add(Kind::kDuplicate, from); }
  Builder& reorder(Side from) { return add(Kind::kReorder, from); }
  Builder& corrupt(Side from, std::uint16_t bit) { return add(Kind::kCorrupt, from, bit); }
  Builder& delay(Side from, std::chrono::microseconds d) {
    return add(Kind::kDelay, from, static_cast<std::uint16_t>(d.count() / 250 - 1));
  }
  Builder& tiny(std::uint16_t arg) { return add(Kind::kAdvanceTiny, Side::kA, arg); }
  // The largest timer step not longer than `ms`.
  Builder& timer(std::uint32_t ms) {
    unsigned e = 0;
    while ((ms >> e) > 256) ++e;
    return add(Kind::kAdvanceTimer, Side::kA,
               static_cast<std::uint16_t>(e * 256 + std::max(1U, ms >> e) - 1));
  }
  Builder& event() { return add(Kind::kAdvanceToEvent, Side::kA); }
  // The handshake on a clean link: SYN, SYN-ACK, ACK.
  Builder& handshake() {
    const Side active = p_.header.a_connects ? Side::kA : Side::kB;
    return deliver(active).deliver(other(active)).deliver(active);
  }

 private:
  Builder& add(Kind k, Side s, std::uint16_t arg = 0) {
    p_.actions.push_back(Action{k, s, arg});
    return *this;
  }
  Program p_;
};

constexpr Side kA = Side::kA;
constexpr Side kB = Side::kB;

Header active_a() {
  Header h;
  h.a_connects = true;
  return h;
}

}  // namespace

std::vector<Seed> seeds() {
  std::vector<Seed> s;
  const auto add = [&](const char* name, const Builder& b) { s.push_back(Seed{name, b.done()}); };

  add("clean-both-ways-a-passive", Builder()
                                       .handshake()
                                       .write(kB, 1000)
                                       .flush()
                                       .read(kA)
                                       .write(kA, 3000)
                                       .flush()
                                       .read(kB)
                                       .timer(200)
                                       .flush()
                                       .shutdown(kA)
                                       .flush()
                                       .read(kB)
                                       .shutdown(kB)
                                       .flush()
                                       .read(kA)
                                       .close(kA)
                                       .close(kB)
                                       .flush()
                                       .close(kA));
  add("clean-both-ways-a-active", Builder(active_a())
                                      .handshake()
                                      .write(kA, 5000)
                                      .write(kB, 200)
                                      .flush()
                                      .read(kB)
                                      .read(kA)
                                      .close(kA)
                                      .flush()
                                      .read(kB)
                                      .close(kB)
                                      .flush()
                                      .event());
  add("lossy-data-a-to-b", Builder()
                               .handshake()
                               .write(kA, 8000)
                               .deliver(kA)
                               .drop(kA)
                               .deliver(kA, 2)
                               .drop(kA)
                               .all(kA)
                               .all(kB)
                               .timer(300)
                               .flush()
                               .read(kB)
                               .timer(1000)
                               .flush()
                               .read(kB)
                               .shutdown(kA)
                               .flush());
  add("lost-syn-and-syn-ack", Builder(active_a())
                                  .drop(kA)
                                  .timer(1000)
                                  .deliver(kA)
                                  .drop(kB)
                                  .timer(1000)
                                  .event()
                                  .flush()
                                  .write(kA, 100)
                                  .flush()
                                  .read(kB));
  add("reorder-data", Builder()
                          .handshake()
                          .write(kB, 6000)
                          .reorder(kB)
                          .reorder(kB)
                          .all(kB)
                          .flush()
                          .read(kA)
                          .write(kA, 4000)
                          .reorder(kA)
                          .flush()
                          .read(kB));
  add("duplicate-everything", Builder(active_a())
                                  .duplicate(kA)
                                  .deliver(kA)
                                  .duplicate(kB)
                                  .deliver(kB)
                                  .duplicate(kA)
                                  .deliver(kA)
                                  .write(kA, 3000)
                                  .duplicate(kA)
                                  .duplicate(kA)
                                  .all(kA)
                                  .duplicate(kB)
                                  .flush()
                                  .read(kB)
                                  .shutdown(kA)
                                  .duplicate(kA)
                                  .flush()
                                  .read(kB));
  add("corrupt-headers-and-payload", Builder()
                                         .corrupt(kB, 100)
                                         .timer(1000)
                                         .deliver(kB)
                                         .corrupt(kA, 9)
                                         .timer(1000)
                                         .event()
                                         .flush()
                                         .write(kB, 2000)
                                         .corrupt(kB, 400)
                                         .corrupt(kB, 4000)
                                         .flush()
                                         .timer(1000)
                                         .flush()
                                         .read(kA));
  add("delay-past-rto", Builder(active_a())
                            .handshake()
                            .write(kA, 1000)
                            .delay(kA, std::chrono::milliseconds(1500))
                            .timer(1000)
                            .timer(300)
                            .all(kA)
                            .timer(256)
                            .flush()
                            .read(kB));
  add("close-with-unread-data-resets", Builder()
                                           .handshake()
                                           .write(kB, 500)
                                           .flush()
                                           .read(kA, 1)
                                           .write(kA, 100)
                                           .close(kA)
                                           .flush()
                                           .read(kB)
                                           .write(kB, 10)
                                           .flush()
                                           .read(kB));
  add("half-close-then-data", Builder(active_a())
                                  .handshake()
                                  .shutdown(kA)
                                  .flush()
                                  .read(kB)
                                  .write(kB, 4000)
                                  .flush()
                                  .read(kA)
                                  .write(kB, 4000)
                                  .flush()
                                  .read(kA)
                                  .close(kB)
                                  .flush()
                                  .read(kA)
                                  .close(kA)
                                  .flush());
  add("simultaneous-close", Builder()
                                .handshake()
                                .write(kA, 10)
                                .write(kB, 10)
                                .flush()
                                .read(kA)
                                .read(kB)
                                .close(kA)
                                .close(kB)
                                .flush()
                                .timer(60000)
                                .timer(60000));
  Header small_window;
  small_window.a_rcv_buf = 1;  // the floor: 2304 bytes
  small_window.b_snd_buf = 8;
  add("zero-window-persist", Builder(small_window)
                                 .handshake()
                                 .write(kB, 8192)
                                 .write(kB, 8192)
                                 .flush()
                                 .timer(200)
                                 .flush()
                                 .timer(1000)
                                 .flush()
                                 .read(kA, 100)
                                 .flush()
                                 .timer(5000)
                                 .flush()
                                 .read(kA));
  Header plain;
  plain.a_timestamps = false;
  plain.a_sack = false;
  plain.a_mss = 1;  // 536
  plain.b_wscale = 0;
  add("no-options-mss-536", Builder(plain)
                                .handshake()
                                .write(kA, 10000)
                                .write(kB, 10000)
                                .flush(5)
                                .read(kA)
                                .read(kB)
                                .flush());
  add("connect-times-out", Builder(active_a())
                               .drop(kA)
                               .timer(65536)
                               .timer(65536)
                               .timer(65536)
                               .timer(65536)
                               .all(kA)
                               .write(kA, 10));
  Header tiny_mss;
  tiny_mss.b_mss = 2;  // 88
  tiny_mss.a_mss = 4;  // 100
  add("bulk-tiny-segments", Builder(tiny_mss)
                                .handshake()
                                .write(kA, 8192)
                                .write(kB, 8192)
                                .flush(8)
                                .read(kB)
                                .read(kA)
                                .flush(8));
  add("sack-fast-retransmit", Builder(active_a())
                                  .handshake()
                                  .write(kA, 14000)
                                  .deliver(kA)
                                  .drop(kA)
                                  .deliver(kA, 6)
                                  .all(kB)
                                  .all(kA)
                                  .all(kB)
                                  .flush()
                                  .read(kB)
                                  .tiny(100)
                                  .flush());
  add("b-listener-closed-refuses", Builder(active_a()).close(kB).all(kA).all(kB).write(kA, 10));
  return s;
}

}  // namespace synack::fuzz::pair
