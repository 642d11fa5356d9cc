#include "stack/stack.h"

#include <utility>

#include "stack/tcp/engine.h"

namespace synack::stack {

Stack::Stack(StackConfig config, std::uint64_t seed)
    : engine_(std::make_unique<Engine>(std::move(config), seed)) {}
Stack::~Stack() = default;
Stack::Stack(Stack&&) noexcept = default;
Stack& Stack::operator=(Stack&&) noexcept = default;

const StackConfig& Stack::config() const { return engine_->config(); }
void Stack::input(std::span<const std::uint8_t> ip_packet, Instant now) {
  engine_->input(ip_packet, now);
}
void Stack::advance(Instant now) { engine_->advance(now); }
std::optional<Instant> Stack::next_deadline() const { return engine_->next_deadline(); }
std::vector<Packet> Stack::take_output() { return engine_->take_output(); }
void Stack::take_output(std::vector<Packet>& out) { engine_->take_output(out); }
void Stack::recycle(Packet&& p) { engine_->recycle(std::move(p)); }
std::size_t Stack::pending_output() const { return engine_->pending_output(); }

SysResult<SocketId> Stack::socket() { return engine_->socket(); }
SysStatus Stack::bind(SocketId s, std::uint16_t port) {
  return engine_->bind(s, Endpoint{0, port});
}
SysStatus Stack::bind(SocketId s, Endpoint local) { return engine_->bind(s, local); }
SysStatus Stack::listen(SocketId s, int backlog) { return engine_->listen(s, backlog); }
SysStatus Stack::connect(SocketId s, Endpoint remote) { return engine_->connect(s, remote); }
SysResult<SocketId> Stack::accept(SocketId s, Endpoint* peer) { return engine_->accept(s, peer); }
SysResult<std::vector<std::uint8_t>> Stack::read(SocketId s, std::size_t max) {
  return engine_->read(s, max);
}
SysResult<std::size_t> Stack::write(SocketId s, std::span<const std::uint8_t> data) {
  return engine_->write(s, data);
}
SysStatus Stack::shutdown(SocketId s, Shutdown how) { return engine_->shutdown(s, how); }
SysStatus Stack::close(SocketId s) { return engine_->close(s); }
SysStatus Stack::abort(SocketId s) { return engine_->abort(s); }
SysStatus Stack::setsockopt(SocketId s, SocketOption opt, int value) {
  return engine_->setsockopt(s, opt, value);
}
SysResult<int> Stack::getsockopt(SocketId s, SocketOption opt) {
  return engine_->getsockopt(s, opt);
}
SysStatus Stack::setsockopt_linger(SocketId s, bool on, int seconds) {
  return engine_->setsockopt_linger(s, on, seconds);
}
unsigned Stack::events(SocketId s) const { return engine_->events(s); }
SysResult<std::size_t> Stack::unread_bytes(SocketId s) const { return engine_->unread_bytes(s); }
SysResult<std::size_t> Stack::unsent_bytes(SocketId s) const { return engine_->unsent_bytes(s); }
SysResult<std::size_t> Stack::urgent_bytes(SocketId s) const { return engine_->urgent_bytes(s); }
SysResult<Endpoint> Stack::local_endpoint(SocketId s) const { return engine_->local_endpoint(s); }
SysResult<Endpoint> Stack::remote_endpoint(SocketId s) const { return engine_->remote_endpoint(s); }
std::optional<Snapshot> Stack::snapshot(SocketId s) const { return engine_->snapshot(s); }
std::vector<Snapshot> Stack::connections() const { return engine_->connections(); }
std::optional<Snapshot> Stack::connection(Endpoint remote) const {
  return engine_->connection(remote);
}
const StackCounters& Stack::counters() const { return engine_->counters(); }
std::optional<Stack::ListenQueues> Stack::listen_queues(SocketId s) const {
  return engine_->listen_queues(s);
}
void Stack::set_invariant_handler(InvariantHandler h) {
  engine_->set_invariant_handler(std::move(h));
}

}  // namespace synack::stack
