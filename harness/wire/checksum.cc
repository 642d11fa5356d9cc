#include "harness/wire/checksum.h"

#include <bit>
#include <cstring>

namespace synack::wire {

namespace {

// The ones' complement sum (RFC 1071 4.1's end-around carry) of `data`'s 64-bit words in the
// machine's byte order, folded to 16 bits, then put in network byte order. RFC 1071 2(B): the
// sum is the same whichever byte order it is taken in, once swapped back; and it is 0 only when
// every byte is, so the caller's zero / 0xffff distinction survives.
std::uint16_t sum_words64(const std::uint8_t* p, std::size_t words) {
  std::uint64_t acc = 0;
  for (std::size_t w = 0; w < words; ++w) {
    std::uint64_t v = 0;
    std::memcpy(&v, p + 8 * w, sizeof v);
    acc += v;
    acc += static_cast<std::uint64_t>(acc < v);  // end-around carry
  }
  acc = (acc & 0xffffffff) + (acc >> 32);
  acc = (acc & 0xffff) + (acc >> 16);
  acc = (acc & 0xffff) + (acc >> 16);
  acc = (acc & 0xffff) + (acc >> 16);
  auto folded = static_cast<std::uint16_t>(acc);
  if constexpr (std::endian::native == std::endian::little) {
    folded = static_cast<std::uint16_t>((folded << 8) | (folded >> 8));
  }
  return folded;
}

}  // namespace

void ChecksumAccumulator::add(ByteSpan data) {
  std::size_t i = 0;
  if (odd_ && !data.empty()) {
    sum_ += data[0];  // low half of the word whose high half was the previous chunk's last byte
    odd_ = false;
    i = 1;
  }
  const std::size_t words = (data.size() - i) / 8;
  sum_ += sum_words64(data.data() + i, words);
  i += 8 * words;
  for (; i + 1 < data.size(); i += 2) sum_ += load_be16(data, i);
  if (i < data.size()) {
    sum_ += std::uint64_t{data[i]} << 8;  // RFC 1071: pad an odd byte with zero on the right
    odd_ = true;
  }
}

void ChecksumAccumulator::add16(std::uint16_t word) {
  if (!odd_) {
    sum_ += word;
    return;
  }
  // After an odd-length chunk the word straddles two summands; go through the byte path.
  const std::uint8_t b[2] = {static_cast<std::uint8_t>(word >> 8), static_cast<std::uint8_t>(word)};
  add(b);
}

std::uint16_t ChecksumAccumulator::finish() const {
  std::uint64_t s = sum_;
  while ((s >> 16) != 0) s = (s & 0xffff) + (s >> 16);
  return static_cast<std::uint16_t>(~s);
}

std::uint16_t internet_checksum(ByteSpan data) {
  ChecksumAccumulator acc;
  acc.add(data);
  return acc.finish();
}

void add_ipv4_pseudo_header(ChecksumAccumulator& acc, std::uint32_t src, std::uint32_t dst,
                            std::uint8_t protocol, std::uint16_t length) {
  acc.add32(src);
  acc.add32(dst);
  acc.add16(protocol);
  acc.add16(length);
}

}  // namespace synack::wire
