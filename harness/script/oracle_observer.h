// Connects a run to the black-box oracle: every segment and every byte the application wrote or
// read goes to harness/oracle, and the first violation stops the case with the invariant's name.
#pragma once

#include <string>

#include "harness/oracle/oracle.h"
#include "harness/script/runner.h"
#include "harness/wire/tcp.h"

namespace synack::script {

class OracleObserver : public Observer {
 public:
  explicit OracleObserver(oracle::OracleOptions options = {}) : oracle_(options) {}

  void on_segment(const LinkEvent& e) override {
    auto p = wire::parse_tcp_packet(e.packet);
    if (!p) return;  // the runner itself reports a target packet that does not parse
    oracle_.on_segment(e.to_target ? oracle::Direction::kToTarget : oracle::Direction::kFromTarget,
                       *p, e.time_us);
  }
  void on_app_write(const target::ConnKey& k, const target::Bytes& data) override {
    oracle_.on_app_write(key(k), data);
  }
  void on_app_read(const target::ConnKey& k, const target::Bytes& data) override {
    oracle_.on_app_read(key(k), data);
  }
  std::string violation() override {
    return oracle_.ok() ? std::string() : oracle_.violations().front().to_string();
  }
  void finish(std::int64_t time_us) override { oracle_.finish(time_us); }

  const oracle::Oracle& oracle() const { return oracle_; }

 private:
  static oracle::ConnKey key(const target::ConnKey& k) {
    return oracle::ConnKey{wire::Ipv4Addr{k.target_addr}, k.target_port,
                           wire::Ipv4Addr{k.harness_addr}, k.harness_port};
  }

  oracle::Oracle oracle_;
};

}  // namespace synack::script
