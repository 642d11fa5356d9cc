#include "harness/wire/pcap.h"

#include <cerrno>
#include <cstdio>
#include <system_error>

#include <pcap/pcap.h>

namespace synack::wire {
namespace {

constexpr int kSnapLength = 262144;  // libpcap's default maximum

pcap_t* as_pcap(const std::unique_ptr<void, PcapHandleDeleter>& p) {
  return static_cast<pcap_t*>(p.get());
}

int dlt_for(LinkType t) { return t == LinkType::kEthernet ? DLT_EN10MB : DLT_RAW; }

std::optional<LinkType> link_type_for_dlt(int dlt) {
  switch (dlt) {
    case DLT_RAW:
    case DLT_IPV4:
      return LinkType::kRaw;
    case DLT_EN10MB:
      return LinkType::kEthernet;
    case DLT_LINUX_SLL:
      return LinkType::kLinuxSll;
    case DLT_LINUX_SLL2:
      return LinkType::kLinuxSll2;
    case DLT_NULL:
      return LinkType::kNull;
    default:
      return std::nullopt;
  }
}

}  // namespace

void PcapHandleDeleter::operator()(void* p) const { pcap_close(static_cast<pcap_t*>(p)); }
void PcapDumperDeleter::operator()(void* p) const {
  pcap_dump_close(static_cast<pcap_dumper_t*>(p));
}

const char* link_type_name(LinkType t) {
  switch (t) {
    case LinkType::kRaw:
      return "RAW";
    case LinkType::kEthernet:
      return "EN10MB";
    case LinkType::kLinuxSll:
      return "LINUX_SLL";
    case LinkType::kLinuxSll2:
      return "LINUX_SLL2";
    case LinkType::kNull:
      return "NULL";
  }
  return "unknown";
}

Result<PcapWriter, std::string> PcapWriter::open(const std::string& path, LinkType type) {
  if (type != LinkType::kRaw && type != LinkType::kEthernet) {
    return std::string("synack writes only RAW and EN10MB captures, not ") + link_type_name(type);
  }
  PcapWriter w;
  w.path_ = path;
  w.pcap_.reset(pcap_open_dead_with_tstamp_precision(dlt_for(type), kSnapLength,
                                                     PCAP_TSTAMP_PRECISION_MICRO));
  if (!w.pcap_) return std::string("cannot create a pcap handle for ") + path;
  w.dumper_.reset(pcap_dump_open(as_pcap(w.pcap_), path.c_str()));
  if (!w.dumper_) {
    return "cannot write " + path + ": " + pcap_geterr(as_pcap(w.pcap_));
  }
  return w;
}

void PcapWriter::write(std::int64_t timestamp_us, ByteSpan data) {
  pcap_pkthdr h{};
  h.ts.tv_sec = static_cast<time_t>(timestamp_us / 1000000);
  h.ts.tv_usec = static_cast<suseconds_t>(timestamp_us % 1000000);
  h.caplen = static_cast<bpf_u_int32>(data.size());
  h.len = h.caplen;
  pcap_dump(static_cast<u_char*>(dumper_.get()), &h, data.data());
}

std::string PcapWriter::close() {
  if (!dumper_) return {};
  auto* d = static_cast<pcap_dumper_t*>(dumper_.get());
  std::string err;
  if (pcap_dump_flush(d) != 0 || std::ferror(pcap_dump_file(d)) != 0) {
    err = "cannot write " + path_ + ": " + std::generic_category().message(errno);
  }
  dumper_.reset();
  pcap_.reset();
  return err;
}

Result<PcapReader, std::string> PcapReader::open(const std::string& path) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  PcapReader r;
  r.path_ = path;
  r.pcap_.reset(
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, errbuf));
  if (!r.pcap_) {
    const std::string why = errbuf;
    // libpcap says "unknown file format", "file too short" or "tried to read 4 file header
    // bytes" for anything that is not a capture; say so plainly, and keep libpcap's words for the
    // rest (ENOENT, EACCES, ...).
    if (why.find("unknown file format") != std::string::npos ||
        why.find("too short") != std::string::npos ||
        why.find("file header bytes") != std::string::npos) {
      return path + ": not a pcap or pcapng file (" + why + ")";
    }
    return "cannot read " + path + ": " + why;
  }
  const int dlt = pcap_datalink(as_pcap(r.pcap_));
  const auto type = link_type_for_dlt(dlt);
  if (!type) {
    const char* name = pcap_datalink_val_to_name(dlt);
    return path + ": link type " + (name != nullptr ? name : std::to_string(dlt)) +
           " is not supported (synack reads RAW, EN10MB, LINUX_SLL, LINUX_SLL2 and NULL)";
  }
  r.link_type_ = *type;
  return r;
}

std::optional<PcapRecord> PcapReader::next() {
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  const int rc = pcap_next_ex(as_pcap(pcap_), &h, &data);
  if (rc == 1) {
    PcapRecord rec;
    rec.timestamp_us = std::int64_t{h->ts.tv_sec} * 1000000 + h->ts.tv_usec;
    rec.original_length = h->len;
    rec.data.assign(data, data + h->caplen);
    return rec;
  }
  if (rc == PCAP_ERROR) error_ = path_ + ": " + pcap_geterr(as_pcap(pcap_));
  return std::nullopt;  // PCAP_ERROR_BREAK: end of file
}

}  // namespace synack::wire
