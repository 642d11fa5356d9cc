// The receiver's out-of-order queue: segments that arrive beyond RCV.NXT are held here until the
// gap before them fills, and the SACK blocks that describe what is held are generated from it
// (RFC 2018 section 4). RFC 9293 3.10.7.4, first step: a segment is trimmed to the window (its
// FIN included) and one that then begins beyond RCV.NXT SHOULD be held for later processing
// (SHLD-31); the seventh and eighth steps then take its text and FIN in sequence order.
//
// Self-contained: it knows nothing of the TCB. The engine owns one per connection and passes the
// window, [rcv_nxt, right_edge) with right_edge = RCV.NXT + RCV.WND, on every call. check()
// assumes the right edge never moves left (RFC 9293 3.8.6, SHLD-14: a receiver should not shrink
// the window), so RCV.WND must not shrink by what this queue holds: the bytes held here are
// already inside the advertised window, and the caller's buffer must have room for them.
//
// Representation: a sorted vector of disjoint, non-adjacent ranges of bytes, each with the
// "recency stamp" of the last segment that touched it (for the SACK block order), plus at most
// one queued FIN. Nothing allocates until the first out-of-order segment.
//
// Choices and limits:
//  - Bytes already held win: a retransmission that disagrees with queued bytes does not replace
//    them (as with the in-order stream, where the first copy is the one delivered).
//  - Data at or beyond a queued FIN is ignored, and a FIN is ignored if it comes before queued
//    data or a different FIN is already queued: whichever arrived first is kept.
//  - At most kMaxRanges distinct ranges are held. Past that, the range furthest from RCV.NXT is
//    dropped: the peer must retransmit it. If it had been SACKed this is reneging, which RFC 2018
//    section 8 permits (the sender keeps SACKed data until it is cumulatively acknowledged).
//  - SACK blocks include a queued FIN's sequence number: the FIN occupies one (RFC 9293 3.4),
//    Linux's blocks count it too (its end_seq includes the FIN), and it lets the sender see that
//    its FIN arrived. A FIN right after a range extends that range's block by one; a FIN apart
//    from all data is a block of its own, [FIN, FIN + 1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "stack/tcp/byte_queue.h"
#include "stack/wire/segment.h"
#include "stack/wire/seq.h"

namespace synack::stack {

class ReassemblyQueue {
 public:
  // The most distinct ranges held at once (see the file comment).
  static constexpr std::size_t kMaxRanges = 64;

  // Stores the part of [seq, seq + data.size()) that lies in [rcv_nxt, right_edge), keeping bytes
  // already held, and a FIN at seq + data.size() if that sequence number is in
  // [rcv_nxt, right_edge) (so all of the segment's data fitted). Any input is accepted: a segment
  // wholly old or wholly beyond the window stores nothing. The block that then holds the segment
  // becomes the most recent for sack_blocks(), even if every byte was a duplicate (RFC 2018
  // section 4: the first block reports the segment that triggered the ACK).
  void insert(SeqNum rcv_nxt, SeqNum right_edge, SeqNum seq, std::span<const std::uint8_t> data,
              bool fin);

  // After the caller has taken in-order data and advanced rcv_nxt: drops what now lies below
  // rcv_nxt, appends every queued byte contiguous at rcv_nxt to `out` and advances rcv_nxt over
  // it, then over a queued FIN found there (setting fin = true and adding one; otherwise `fin` is
  // left as it was). Returns the number of bytes appended.
  std::size_t take_in_order(SeqNum& rcv_nxt, ByteQueue& out, bool& fin);

  // Data bytes held (a FIN counts for nothing).
  std::size_t bytes() const { return bytes_; }
  // Nothing held: no data and no FIN.
  bool empty() const { return ranges_.empty() && !fin_.has_value(); }
  // How many SACK blocks describe what is held: the data ranges, plus one for a FIN apart from
  // all data.
  std::size_t blocks() const;
  void clear();

  // Writes up to `max` SACK blocks (RFC 2018 section 4) to out[0..max) and returns how many:
  // first the block holding the most recently inserted segment, then the others in order of the
  // last insert that touched them (merging keeps the newer stamp). This is the RFC's "repeat the
  // most recently reported blocks" rule, approximated by arrival: a block's data can only have
  // been reported after it arrived.
  std::size_t sack_blocks(SackBlock* out, std::size_t max) const;

  // White-box invariants for the engine: every range non-empty and within (rcv_nxt, right_edge],
  // ranges sorted and neither overlapping nor adjacent (a range starting at rcv_nxt should have
  // been taken in order), at most kMaxRanges of them, the byte count right, and a FIN, if any,
  // not before the last range's end, not before rcv_nxt and before right_edge. On failure says
  // why in *why (when not null).
  bool check(SeqNum rcv_nxt, SeqNum right_edge, std::string* why) const;

 private:
  struct Range {
    SeqNum left;
    std::vector<std::uint8_t> data;
    std::uint64_t stamp = 0;  // the insert that last touched it (larger is more recent)
    SeqNum right() const { return left + static_cast<std::uint32_t>(data.size()); }
  };
  struct Block {
    SackBlock edges;
    std::uint64_t stamp = 0;
  };

  // Merges `bytes`, starting at `left`, into the ranges, keeping bytes already held.
  void store(SeqNum left, std::span<const std::uint8_t> bytes, std::uint64_t stamp);
  // Forgets data and a FIN that lie before rcv_nxt (the caller advanced past them).
  void drop_below(SeqNum rcv_nxt);
  bool fin_alone() const;
  Block block_at(std::size_t i) const;

  std::vector<Range> ranges_;
  std::size_t bytes_ = 0;
  std::optional<SeqNum> fin_;
  std::uint64_t fin_stamp_ = 0;
  std::uint64_t clock_ = 0;  // the stamp of the last insert
};

}  // namespace synack::stack
