#include "harness/wire/pcap.h"

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pcap/pcap.h>

namespace synack::wire {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class PcapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("synack-pcap-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const char* name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

TEST_F(PcapTest, WritesAndReadsBackRecordsAndTimestamps) {
  for (LinkType type : {LinkType::kRaw, LinkType::kEthernet}) {
    const std::string file = path("rt.pcap");
    {
      auto w = PcapWriter::open(file, type);
      ASSERT_TRUE(w) << w.error();
      w->write(1'500'000, Bytes{1, 2, 3});
      w->write(1'500'001, Bytes(1500, 0xee));
      w->write(3'000'000'000'123, Bytes{});
      ASSERT_EQ(w->close(), "");
    }
    auto r = PcapReader::open(file);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->link_type(), type);
    auto a = r->next();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->timestamp_us, 1'500'000);
    EXPECT_EQ(a->data, (Bytes{1, 2, 3}));
    auto b = r->next();
    ASSERT_TRUE(b);
    EXPECT_EQ(b->timestamp_us, 1'500'001);
    EXPECT_EQ(b->data.size(), 1500U);
    EXPECT_EQ(b->original_length, 1500U);
    auto c = r->next();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->timestamp_us, 3'000'000'000'123);
    EXPECT_FALSE(r->next());
    EXPECT_EQ(r->error(), "");
  }
}

TEST_F(PcapTest, RawCapturesUseLinktypeRaw) {
  const std::string file = path("raw.pcap");
  ASSERT_EQ(PcapWriter::open(file, LinkType::kRaw)->close(), "");
  std::ifstream in(file, std::ios::binary);
  char header[24] = {};
  in.read(header, sizeof header);
  // The file header's link type field (little-endian on this host): LINKTYPE_RAW is 101.
  EXPECT_EQ(static_cast<unsigned char>(header[20]), 101);
}

TEST_F(PcapTest, MissingFileSaysWhichAndWhy) {
  auto r = PcapReader::open(path("nope.pcap"));
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error(), HasSubstr("nope.pcap"));
  EXPECT_THAT(r.error(), HasSubstr("No such file"));
}

TEST_F(PcapTest, NonCaptureFileIsNamedAsSuch) {
  const std::string file = path("text.pcap");
  std::ofstream(file) << "this is not a capture, just some text\n";
  auto r = PcapReader::open(file);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error(), HasSubstr("not a pcap or pcapng file"));
  EXPECT_THAT(r.error(), HasSubstr("text.pcap"));
}

TEST_F(PcapTest, EmptyFileIsNotACapture) {
  const std::string file = path("empty.pcap");
  std::ofstream{file};
  auto r = PcapReader::open(file);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error(), HasSubstr("not a pcap or pcapng file"));
}

TEST_F(PcapTest, RecordCutShortIsAnError) {
  const std::string file = path("cut.pcap");
  {
    auto w = PcapWriter::open(file, LinkType::kRaw);
    w->write(0, Bytes(100, 1));
    ASSERT_EQ(w->close(), "");
  }
  fs::resize_file(file, fs::file_size(file) - 10);
  auto r = PcapReader::open(file);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->next());
  EXPECT_THAT(r->error(), HasSubstr("cut.pcap"));
  EXPECT_THAT(r->error(), HasSubstr("truncated"));
}

TEST_F(PcapTest, UnsupportedLinkTypeIsNamed) {
  const std::string file = path("wifi.pcap");
  pcap_t* dead = pcap_open_dead(DLT_IEEE802_11, 65535);
  pcap_dumper_t* d = pcap_dump_open(dead, file.c_str());
  ASSERT_NE(d, nullptr);
  pcap_dump_close(d);
  pcap_close(dead);
  auto r = PcapReader::open(file);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error(), HasSubstr("link type IEEE802_11 is not supported"));
}

TEST_F(PcapTest, UnwritablePathSaysWhy) {
  auto w = PcapWriter::open(path("no/such/dir/x.pcap"), LinkType::kRaw);
  ASSERT_FALSE(w);
  EXPECT_THAT(w.error(), HasSubstr("cannot write"));
  EXPECT_THAT(w.error(), HasSubstr("x.pcap"));
}

TEST_F(PcapTest, WriterRefusesLinkTypesItCannotWrite) {
  auto w = PcapWriter::open(path("sll.pcap"), LinkType::kLinuxSll);
  ASSERT_FALSE(w);
  EXPECT_THAT(w.error(), HasSubstr("only RAW and EN10MB"));
}

}  // namespace
}  // namespace synack::wire
