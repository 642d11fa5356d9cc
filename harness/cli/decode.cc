// synack decode: a capture, one tcpdump-style line per packet.
#include <cinttypes>
#include <cstdio>
#include <string>

#include "harness/cli/commands.h"
#include "harness/wire/format.h"
#include "harness/wire/pcap.h"

namespace synack::cli {
namespace {

constexpr const char* kDecodeUsage = R"(Usage: synack decode [--time=relative|absolute|none] FILE...

Prints every packet of each pcap or pcapng FILE on one line, tcpdump style:
  0.000100 10.0.0.2.1234 > 10.0.0.1.80: Flags [S.], seq 0, ack 1, win 65535, options [mss 1460], length 0

Link types: RAW/IPV4, EN10MB (Ethernet: IPv4 and ARP), LINUX_SLL, LINUX_SLL2, NULL.
Sequence numbers are absolute and seq is shown on every segment. A packet the codec rejects is
printed as [malformed: what, at which byte], a checksum that does not verify is flagged, and
decoding goes on with the next packet.

Options:
  --time=relative   seconds since the file's first packet (default)
  --time=absolute   seconds since the epoch, as tcpdump -tt
  --time=none       no time column
  -h, --help        this text

Exit status: 0 when every file was read to its end, 1 when a file cannot be read, is not a
capture, uses an unsupported link type or ends in the middle of a record, 2 on a usage error.
)";

enum class TimeFormat { kRelative, kAbsolute, kNone };

int decode_file(const std::string& path, TimeFormat time_format) {
  auto reader = wire::PcapReader::open(path);
  if (!reader) {
    std::fprintf(stderr, "synack decode: %s\n", reader.error().c_str());
    return kExitFailure;
  }
  std::int64_t first_us = 0;
  bool first = true;
  while (auto rec = reader->next()) {
    if (first) {
      first_us = rec->timestamp_us;
      first = false;
    }
    std::string line = wire::format_frame(reader->link_type(), rec->data);
    if (rec->data.size() < rec->original_length) {
      line += " [captured " + std::to_string(rec->data.size()) + " of " +
              std::to_string(rec->original_length) + " bytes]";
    }
    if (time_format == TimeFormat::kNone) {
      std::printf("%s\n", line.c_str());
    } else {
      const std::int64_t t =
          time_format == TimeFormat::kRelative ? rec->timestamp_us - first_us : rec->timestamp_us;
      const char* sign = t < 0 ? "-" : "";
      const std::int64_t mag = t < 0 ? -t : t;
      std::printf("%s%" PRId64 ".%06" PRId64 " %s\n", sign, mag / 1000000, mag % 1000000,
                  line.c_str());
    }
  }
  if (!reader->error().empty()) {
    std::fflush(stdout);
    std::fprintf(stderr, "synack decode: %s\n", reader->error().c_str());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

int run_decode(const std::vector<std::string_view>& args) {
  TimeFormat time_format = TimeFormat::kRelative;
  std::vector<std::string> files;
  bool options_done = false;
  for (std::string_view a : args) {
    if (!options_done && (a == "-h" || a == "--help")) {
      std::fputs(kDecodeUsage, stdout);
      return kExitOk;
    }
    if (!options_done && a == "--") {
      options_done = true;
    } else if (!options_done && a.starts_with("--time=")) {
      const std::string_view v = a.substr(7);
      if (v == "relative") {
        time_format = TimeFormat::kRelative;
      } else if (v == "absolute") {
        time_format = TimeFormat::kAbsolute;
      } else if (v == "none") {
        time_format = TimeFormat::kNone;
      } else {
        std::fprintf(stderr, "synack decode: --time takes relative, absolute or none, not '%.*s'\n",
                     static_cast<int>(v.size()), v.data());
        return kExitUsage;
      }
    } else if (!options_done && a.starts_with("-") && a.size() > 1) {
      std::fprintf(stderr, "synack decode: unknown option '%.*s'; see 'synack decode --help'\n",
                   static_cast<int>(a.size()), a.data());
      return kExitUsage;
    } else {
      files.emplace_back(a);
    }
  }
  if (files.empty()) {
    std::fputs("synack decode: no capture file given; see 'synack decode --help'\n", stderr);
    return kExitUsage;
  }
  int rc = kExitOk;
  for (const std::string& f : files) {
    if (files.size() > 1) std::printf("%s:\n", f.c_str());
    if (decode_file(f, time_format) != kExitOk) rc = kExitFailure;
  }
  return rc;
}

}  // namespace synack::cli
