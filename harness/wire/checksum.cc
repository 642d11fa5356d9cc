#include "harness/wire/checksum.h"

namespace synack::wire {

void ChecksumAccumulator::add(ByteSpan data) {
  std::size_t i = 0;
  if (odd_ && !data.empty()) {
    sum_ += data[0];  // low half of the word whose high half was the previous chunk's last byte
    odd_ = false;
    i = 1;
  }
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
