// pcap files through libpcap: IP packets as LINKTYPE_RAW, frames as LINKTYPE_ETHERNET.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "harness/wire/bytes.h"
#include "harness/wire/result.h"

namespace synack::wire {

// The link layers synack reads. It writes only kRaw and kEthernet.
enum class LinkType {
  kRaw,        // LINKTYPE_RAW / LINKTYPE_IPV4: each record is an IPv4 packet
  kEthernet,   // LINKTYPE_ETHERNET
  kLinuxSll,   // LINKTYPE_LINUX_SLL (tcpdump -i any, older libpcap)
  kLinuxSll2,  // LINKTYPE_LINUX_SLL2 (tcpdump -i any)
  kNull,       // LINKTYPE_NULL (BSD loopback)
};

const char* link_type_name(LinkType t);

struct PcapRecord {
  std::int64_t timestamp_us = 0;      // since the epoch, or since the start of a virtual-time run
  std::uint32_t original_length = 0;  // length on the wire; data may be shorter (snaplen)
  Bytes data;
};

struct PcapHandleDeleter {
  void operator()(void* p) const;
};
struct PcapDumperDeleter {
  void operator()(void* p) const;
};

class PcapWriter {
 public:
  // Creates (truncates) `path`. The error says which file and why.
  static Result<PcapWriter, std::string> open(const std::string& path, LinkType type);

  void write(std::int64_t timestamp_us, ByteSpan data);
  // Flushes and closes; returns an error message, or an empty string on success. Also done by
  // the destructor, which has nowhere to report an error: call close() when it matters.
  std::string close();

 private:
  PcapWriter() = default;
  std::string path_;
  std::unique_ptr<void, PcapHandleDeleter> pcap_;
  std::unique_ptr<void, PcapDumperDeleter> dumper_;
};

class PcapReader {
 public:
  // Opens a pcap or pcapng file. Errors name the file and say whether it could not be read, is
  // not a capture at all, or uses a link type synack does not decode.
  static Result<PcapReader, std::string> open(const std::string& path);

  LinkType link_type() const { return link_type_; }
  // The next record, or nullopt at the end of the file or on a read error (see error()).
  std::optional<PcapRecord> next();
  // Non-empty when the file ended in the middle of a record or could not be read.
  const std::string& error() const { return error_; }

 private:
  PcapReader() = default;
  std::string path_;
  LinkType link_type_ = LinkType::kRaw;
  std::unique_ptr<void, PcapHandleDeleter> pcap_;
  std::string error_;
};

}  // namespace synack::wire
