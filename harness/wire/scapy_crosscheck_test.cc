// Cross-check of the harness codec against an independent implementation, Debian's Scapy, in
// both directions (docs/wire-vectors.md):
//   1. Scapy builds and dissects packets (scripts/wire_vectors.py emit); we parse the bytes and
//      compare every field, and rebuild the packet from Scapy's fields alone and compare bytes.
//   2. We build packets; Scapy dissects them (wire_vectors.py check) and compares every field.
// Scapy is a declared dependency (scripts/bootstrap.sh): if it is missing these tests fail.
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/wire/ethernet.h"
#include "harness/wire/sample.h"
#include "harness/wire/tcp.h"
#include "harness/wire/test_util.h"

namespace synack::wire {
namespace {

using testing::from_hex;
using testing::to_hex;
using Fields = std::vector<std::pair<std::string, std::string>>;

struct Vector {
  std::string name;
  Bytes bytes;
  std::map<std::string, std::string> fields;
};

struct Command {
  int status = -1;
  std::string output;
};

Command run(const std::string& command) {
  Command c;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return c;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) c.output.append(buf, n);
  const int st = ::pclose(p);
  c.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return c;
}

std::string vectors_command(const std::string& args) {
  return std::string(SYNACK_PYTHON) + " " + SYNACK_WIRE_VECTORS + " " + args;
}

std::vector<Vector> parse_vectors(const std::string& text) {
  std::vector<Vector> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    Vector v;
    std::istringstream cols(line);
    std::string hex;
    std::string fields;
    std::getline(cols, v.name, '\t');
    std::getline(cols, hex, '\t');
    std::getline(cols, fields);
    v.bytes = from_hex(hex);
    std::istringstream kv(fields);
    std::string item;
    while (kv >> item) {
      const auto eq = item.find('=');
      v.fields[item.substr(0, eq)] = eq == std::string::npos ? "" : item.substr(eq + 1);
    }
    out.push_back(std::move(v));
  }
  return out;
}

std::string hex_or_dash(ByteSpan b) { return b.empty() ? "-" : to_hex(b); }
std::string hex16(std::uint16_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04x", v);
  return buf;
}

std::string canonical_options(const std::vector<TcpOption>& options) {
  struct Canon {
    std::string operator()(const OptEol&) const { return "eol"; }
    std::string operator()(const OptNop&) const { return "nop"; }
    std::string operator()(const OptMss& o) const { return "mss=" + std::to_string(o.mss); }
    std::string operator()(const OptWindowScale& o) const {
      return "ws=" + std::to_string(o.shift);
    }
    std::string operator()(const OptSackPermitted&) const { return "sackok"; }
    std::string operator()(const OptSack& o) const {
      std::string s = "sack=";
      for (std::size_t i = 0; i < o.blocks.size(); ++i) {
        if (i > 0) s += '/';
        s += std::to_string(o.blocks[i].left.raw()) + "-" + std::to_string(o.blocks[i].right.raw());
      }
      return s;
    }
    std::string operator()(const OptTimestamps& o) const {
      return "ts=" + std::to_string(o.val) + "/" + std::to_string(o.ecr);
    }
    std::string operator()(const OptRaw& o) const {
      return "raw=" + std::to_string(o.kind) + "/" + to_hex(o.data);
    }
  };
  if (options.empty()) return "-";
  std::string s;
  for (std::size_t i = 0; i < options.size(); ++i) {
    if (i > 0) s += ',';
    s += std::visit(Canon{}, options[i]);
  }
  return s;
}

// Our view of a parsed packet, in the shared format and key order.
Fields canonical(const TcpPacket& p) {
  const auto n = [](auto v) { return std::to_string(v); };
  return {{"ihl", n(*p.ip.ihl)},
          {"tos", n(p.ip.tos)},
          {"len", n(*p.ip.total_length)},
          {"id", n(p.ip.id)},
          {"ipflags", n(p.ip.flags)},
          {"frag", n(p.ip.fragment_offset)},
          {"ttl", n(p.ip.ttl)},
          {"proto", n(p.ip.protocol)},
          {"ipsum", hex16(*p.ip.checksum)},
          {"ipopts", hex_or_dash(p.ip.options)},
          {"src", p.ip.src.to_string()},
          {"dst", p.ip.dst.to_string()},
          {"sport", n(p.tcp.src_port)},
          {"dport", n(p.tcp.dst_port)},
          {"seq", n(p.tcp.seq.raw())},
          {"ack", n(p.tcp.ack.raw())},
          {"dataofs", n(*p.tcp.data_offset)},
          {"reserved", n(p.tcp.reserved)},
          {"flags", n(p.tcp.flags)},
          {"win", n(p.tcp.window)},
          {"urp", n(p.tcp.urgent_pointer)},
          {"sum", hex16(*p.tcp.checksum)},
          {"opts", canonical_options(p.tcp.options)},
          {"optpad", hex_or_dash(p.tcp.option_padding)},
          {"payload", hex_or_dash(p.payload)},
          {"ipsum_ok", p.ip_checksum_ok ? "1" : "0"},
          {"tcpsum_ok", p.tcp_checksum_ok ? "1" : "0"}};
}

std::uint32_t num(const std::string& s) {
  std::uint32_t v = 0;
  const int base = s.starts_with("0x") ? 16 : 10;
  const char* begin = s.data() + (base == 16 ? 2 : 0);
  std::from_chars(begin, s.data() + s.size(), v, base);
  return v;
}
template <class T>
T narrow(const std::string& s) {
  return static_cast<T>(num(s));
}
Bytes dash_hex(const std::string& s) { return s == "-" ? Bytes{} : from_hex(s); }

std::vector<TcpOption> options_from(const std::string& text) {
  std::vector<TcpOption> out;
  if (text == "-") return out;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto eq = item.find('=');
    const std::string key = item.substr(0, eq);
    const std::string val = eq == std::string::npos ? "" : item.substr(eq + 1);
    const auto slash = val.find('/');
    if (key == "eol") {
      out.emplace_back(OptEol{});
    } else if (key == "nop") {
      out.emplace_back(OptNop{});
    } else if (key == "mss") {
      out.emplace_back(OptMss{narrow<std::uint16_t>(val)});
    } else if (key == "ws") {
      out.emplace_back(OptWindowScale{narrow<std::uint8_t>(val)});
    } else if (key == "sackok") {
      out.emplace_back(OptSackPermitted{});
    } else if (key == "ts") {
      out.emplace_back(OptTimestamps{num(val.substr(0, slash)), num(val.substr(slash + 1))});
    } else if (key == "raw") {
      out.emplace_back(
          OptRaw{narrow<std::uint8_t>(val.substr(0, slash)), from_hex(val.substr(slash + 1))});
    } else if (key == "sack") {
      OptSack sack;
      std::istringstream blocks(val);
      std::string block;
      while (std::getline(blocks, block, '/')) {
        const auto dash = block.find('-');
        sack.blocks.push_back({Seq(num(block.substr(0, dash))), Seq(num(block.substr(dash + 1)))});
      }
      out.emplace_back(std::move(sack));
    } else {
      ADD_FAILURE() << "unknown option in vector: " << item;
    }
  }
  return out;
}

// A packet built from the fields alone: lengths and checksums computed by our builder, except
// checksums the vector says are wrong, which are set as given.
TcpPacket from_fields(const std::map<std::string, std::string>& f) {
  TcpPacket p;
  p.ip.tos = narrow<std::uint8_t>(f.at("tos"));
  p.ip.id = narrow<std::uint16_t>(f.at("id"));
  p.ip.flags = narrow<std::uint8_t>(f.at("ipflags"));
  p.ip.fragment_offset = narrow<std::uint16_t>(f.at("frag"));
  p.ip.ttl = narrow<std::uint8_t>(f.at("ttl"));
  p.ip.protocol = narrow<std::uint8_t>(f.at("proto"));
  p.ip.src = *Ipv4Addr::parse(f.at("src"));
  p.ip.dst = *Ipv4Addr::parse(f.at("dst"));
  p.ip.options = dash_hex(f.at("ipopts"));
  if (f.at("ipsum_ok") == "0") p.ip.checksum = narrow<std::uint16_t>(f.at("ipsum"));
  p.tcp.src_port = narrow<std::uint16_t>(f.at("sport"));
  p.tcp.dst_port = narrow<std::uint16_t>(f.at("dport"));
  p.tcp.seq = Seq(num(f.at("seq")));
  p.tcp.ack = Seq(num(f.at("ack")));
  p.tcp.reserved = narrow<std::uint8_t>(f.at("reserved"));
  p.tcp.flags = narrow<std::uint8_t>(f.at("flags"));
  p.tcp.window = narrow<std::uint16_t>(f.at("win"));
  p.tcp.urgent_pointer = narrow<std::uint16_t>(f.at("urp"));
  p.tcp.options = options_from(f.at("opts"));
  p.tcp.option_padding = dash_hex(f.at("optpad"));
  p.payload = dash_hex(f.at("payload"));
  if (f.at("tcpsum_ok") == "0") p.tcp.checksum = narrow<std::uint16_t>(f.at("sum"));
  return p;
}

WireError error_from_code(const std::string& code) {
  for (WireError e :
       {WireError::kTruncated, WireError::kBadVersion, WireError::kBadIhl,
        WireError::kBadTotalLength, WireError::kNotTcp, WireError::kFragmented,
        WireError::kBadDataOffset, WireError::kOptionOverrun, WireError::kOptionLength}) {
    if (code == to_code(e)) return e;
  }
  ADD_FAILURE() << "unknown error code in vector: " << code;
  return WireError::kTruncated;
}

std::string line_for(const std::string& name, const TcpPacket& p, const Bytes& bytes) {
  std::string line = name + "\t" + to_hex(bytes) + "\t";
  bool first = true;
  for (const auto& [k, v] : canonical(p)) {
    if (!first) line += ' ';
    first = false;
    line += k + "=" + v;
  }
  return line;
}

class ScapyCrossCheck : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    emitted_ = new Command(run(vectors_command("emit")));
    vectors_ = new std::vector<Vector>(parse_vectors(emitted_->output));
  }
  static void TearDownTestSuite() {
    delete vectors_;
    delete emitted_;
  }
  void SetUp() override {
    ASSERT_EQ(emitted_->status, 0) << "wire_vectors.py emit failed (is python3-scapy installed? "
                                      "run scripts/bootstrap.sh):\n"
                                   << emitted_->output;
  }
  static std::filesystem::path temp_file(const std::string& name) {
    return std::filesystem::temp_directory_path() /
           ("synack-" + std::to_string(::getpid()) + "-" + name);
  }

  static Command* emitted_;
  static std::vector<Vector>* vectors_;
};
Command* ScapyCrossCheck::emitted_ = nullptr;
std::vector<Vector>* ScapyCrossCheck::vectors_ = nullptr;

TEST_F(ScapyCrossCheck, ParsesEveryScapyVectorToScapysFields) {
  std::size_t valid = 0;
  std::size_t rejected = 0;
  for (const Vector& v : *vectors_) {
    SCOPED_TRACE(v.name + " " + to_hex(v.bytes));
    auto parsed = parse_tcp_packet(v.bytes);
    if (v.fields.contains("error")) {
      ++rejected;
      ASSERT_FALSE(parsed) << "should be rejected as " << v.fields.at("error");
      EXPECT_EQ(to_code(parsed.error().code), v.fields.at("error")) << parsed.error().message();
      EXPECT_EQ(parsed.error().code, error_from_code(v.fields.at("error")));
      continue;
    }
    ++valid;
    ASSERT_TRUE(parsed) << parsed.error().message();
    for (const auto& [key, ours] : canonical(*parsed)) {
      ASSERT_TRUE(v.fields.contains(key)) << "vector lacks " << key;
      EXPECT_EQ(ours, v.fields.at(key)) << "field " << key;
    }
  }
  // Enough of both kinds that this cannot pass on an empty or truncated vector set.
  EXPECT_GE(valid, 300U);
  EXPECT_GE(rejected, 18U);
}

TEST_F(ScapyCrossCheck, BuildsScapysBytesFromTheFieldsAlone) {
  std::size_t built = 0;
  for (const Vector& v : *vectors_) {
    if (v.fields.contains("error")) continue;
    SCOPED_TRACE(v.name);
    const Bytes ours = emit(from_fields(v.fields));
    const std::size_t len = num(v.fields.at("len"));
    ASSERT_LE(len, v.bytes.size());
    EXPECT_EQ(to_hex(ours), to_hex(ByteSpan(v.bytes).first(len)));
    ++built;
  }
  EXPECT_GE(built, 300U);
}

TEST_F(ScapyCrossCheck, ScapyReadsWhatOurBuilderWrites) {
  const auto file = temp_file("built.vectors");
  std::size_t lines = 0;
  {
    std::ofstream out(file);
    // Our own random packets, independent of Scapy's generator...
    for (const auto& s : sample_packets(7, 300)) {
      const Bytes b = emit(s.packet);
      out << line_for("sample-" + std::to_string(lines++), *parse_tcp_packet(b), b) << "\n";
    }
    // ...and every Scapy vector rebuilt from its fields by our builder.
    for (const Vector& v : *vectors_) {
      if (v.fields.contains("error")) continue;
      const Bytes b = emit(from_fields(v.fields));
      auto parsed = parse_tcp_packet(b);
      ASSERT_TRUE(parsed) << v.name << ": " << parsed.error().message();
      out << line_for("rebuilt-" + v.name, *parsed, b) << "\n";
      ++lines;
    }
  }
  const Command check = run(vectors_command("check " + file.string() + " 2>&1"));
  std::filesystem::remove(file);
  EXPECT_EQ(check.status, 0) << check.output;
  EXPECT_THAT(check.output,
              ::testing::HasSubstr("checked " + std::to_string(lines) + " vectors, 0 mismatches"));
}

TEST_F(ScapyCrossCheck, CheckerReportsAWrongField) {
  // The reverse check must be able to fail: one field off by one is reported by name.
  const Bytes b = emit(testing::make_segment(tcp_flags::kSyn, 41));
  auto parsed = parse_tcp_packet(b);
  ASSERT_TRUE(parsed);
  parsed->tcp.seq = Seq(42);  // the bytes still say 41
  const auto file = temp_file("wrong.vectors");
  std::ofstream(file) << line_for("wrong-seq", *parsed, b) << "\n";
  const Command check = run(vectors_command("check " + file.string() + " 2>&1"));
  std::filesystem::remove(file);
  EXPECT_EQ(check.status, 1) << check.output;
  EXPECT_THAT(check.output, ::testing::HasSubstr("wrong-seq: seq: ours=42 scapy=41"));
}

TEST(ScapyArp, ParsesEveryScapyArpFrameAndEmitsItBack) {
  const Command c = run(vectors_command("emit-arp"));
  ASSERT_EQ(c.status, 0) << c.output;
  const auto vectors = parse_vectors(c.output);
  ASSERT_GE(vectors.size(), 6U);
  for (const Vector& v : vectors) {
    SCOPED_TRACE(v.name);
    auto eth = parse_ethernet(v.bytes);
    ASSERT_TRUE(eth);
    EXPECT_EQ(eth->header.dst.to_string(), v.fields.at("eth_dst"));
    EXPECT_EQ(eth->header.src.to_string(), v.fields.at("eth_src"));
    EXPECT_EQ(eth->header.ethertype, num(v.fields.at("ethertype")));
    auto arp = parse_arp(eth->payload);
    ASSERT_TRUE(arp) << arp.error().message();
    EXPECT_EQ(arp->op, num(v.fields.at("op")));
    EXPECT_EQ(arp->sender_mac.to_string(), v.fields.at("sha"));
    EXPECT_EQ(arp->sender_ip.to_string(), v.fields.at("spa"));
    EXPECT_EQ(arp->target_mac.to_string(), v.fields.at("tha"));
    EXPECT_EQ(arp->target_ip.to_string(), v.fields.at("tpa"));
    const Bytes again = emit_ethernet(eth->header, emit_arp(*arp));
    EXPECT_EQ(to_hex(again), to_hex(ByteSpan(v.bytes).first(again.size())));
  }
}

}  // namespace
}  // namespace synack::wire
