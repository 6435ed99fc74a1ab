#pragma once

// What the HTTP/1.1 and HTTP/2 servers share below their protocols: the listening socket, the
// accept loop that hands connections to the I/O threads in turn, and the I/O threads' run loop.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "http/connection_limit.h"

namespace meridian::http {

// Binds and listens on host:port (a host name is resolved first). kInvalidArgument when the host
// does not resolve; kFailedPrecondition when the address cannot be bound (the port in use).
absl::StatusOr<std::shared_ptr<boost::asio::ip::tcp::acceptor>> OpenListener(boost::asio::io_context& context,
                                                                           const std::string& host, uint16_t port);

// Accepts connections until `acceptor` is closed, each onto the next of `contexts` in turn, and
// hands each to `start` (on the acceptor's thread) with its slot under `limit`, which the
// connection holds for as long as it lives. A connection past the limit is closed at once (with a
// warning at most every 10 seconds); a null `limit` admits every one, with an empty slot. A
// failed accept (typically out of file descriptors) is retried after 100 ms instead of spinning.
// `contexts` must outlive the loop.
void AcceptConnections(std::shared_ptr<boost::asio::ip::tcp::acceptor> acceptor,
                       const std::vector<std::unique_ptr<boost::asio::io_context>>& contexts,
                       std::shared_ptr<ConnectionLimit> limit,
                       std::function<void(boost::asio::ip::tcp::socket, ConnectionLimit::Slot)> start);

// An I/O thread's loop, on a thread it names `name`: runs `context` until it is stopped (or runs
// out of work). An exception that escapes a handler is logged and the loop goes on.
//
// With `busy_poll` above zero the thread keeps polling for events for that long after its last
// one before it sleeps, and gives the CPU to any other runnable thread at each empty poll. A client
// that sends its next request within that time finds the thread awake. On a virtual machine,
// where a thread's sleep and wake-up cost tens of microseconds of exits and interrupts, this
// doubled a lone gRPC client's calls per second and cut the CPU each answer costs under load too
// (docs/benchmarks.md, "Seventeenth session"); when nothing comes, it costs `busy_poll` of CPU
// once per quiet spell.
void RunIoThread(boost::asio::io_context& context, absl::string_view name, absl::Duration busy_poll);

}  // namespace meridian::http
