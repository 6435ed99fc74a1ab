#include "http/listener.h"

#include <sched.h>

#include <chrono>
#include <optional>

#include "absl/strings/str_cat.h"
#include "boost/asio/steady_timer.hpp"
#include "common/logging.h"
#include "common/thread_name.h"

namespace meridian::http {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

absl::StatusOr<tcp::endpoint> Resolve(const std::string& host, uint16_t port) {
  boost::system::error_code ec;
  auto address = net::ip::make_address(host, ec);
  if (!ec) return tcp::endpoint(address, port);
  net::io_context context;
  tcp::resolver resolver(context);
  auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec || results.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot resolve host \"", host, "\": ", ec.message()));
  }
  return results.begin()->endpoint();
}

constexpr std::chrono::seconds kRefusalWarningEvery(10);

struct AcceptLoop : std::enable_shared_from_this<AcceptLoop> {
  AcceptLoop(std::shared_ptr<tcp::acceptor> acceptor, const std::vector<std::unique_ptr<net::io_context>>& contexts,
             std::shared_ptr<ConnectionLimit> limit, std::function<void(tcp::socket, ConnectionLimit::Slot)> start)
      : acceptor(std::move(acceptor)), contexts(contexts), limit(std::move(limit)), start(std::move(start)) {}

  void Next() {
    net::io_context& target = *contexts[next++ % contexts.size()];
    acceptor->async_accept(target, [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !self->acceptor->is_open()) return;
      if (ec) {
        log::Warn("accept failed", {{"error", ec.message()}});
        auto timer = std::make_shared<net::steady_timer>(self->acceptor->get_executor(), std::chrono::milliseconds(100));
        timer->async_wait([self, timer](boost::system::error_code wait) {
          if (!wait && self->acceptor->is_open()) self->Next();
        });
        return;
      }
      self->Admit(std::move(socket));
      self->Next();
    });
  }

  void Admit(tcp::socket socket) {
    if (!limit) return start(std::move(socket), ConnectionLimit::Slot());
    std::optional<ConnectionLimit::Slot> slot = limit->TryTake();
    if (slot) return start(std::move(socket), *std::move(slot));
    boost::system::error_code ignored;
    socket.close(ignored);
    ++refused_since_warning;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_warning >= kRefusalWarningEvery) {
      log::Warn("refused client connections: the server is at its connection limit (--max-connections)",
                {{"limit", limit->max()}, {"refused", refused_since_warning}});
      last_warning = now;
      refused_since_warning = 0;
    }
  }

  std::shared_ptr<tcp::acceptor> acceptor;
  const std::vector<std::unique_ptr<net::io_context>>& contexts;
  std::shared_ptr<ConnectionLimit> limit;
  std::function<void(tcp::socket, ConnectionLimit::Slot)> start;
  size_t next = 0;
  // Refusals come in floods; one warning per kRefusalWarningEvery says how many.
  std::chrono::steady_clock::time_point last_warning;
  uint64_t refused_since_warning = 0;
};

// Runs `context` as io_context::run does, polling instead of sleeping for `busy_poll` after each
// event (see RunIoThread).
void RunPolling(net::io_context& context, std::chrono::nanoseconds busy_poll) {
  auto last_event = std::chrono::steady_clock::now();
  while (!context.stopped()) {
    if (context.poll() > 0) {
      last_event = std::chrono::steady_clock::now();
    } else if (std::chrono::steady_clock::now() - last_event < busy_poll) {
      sched_yield();  // a thread that has work (a model instance, another server) goes first
    } else {
      if (context.run_one() == 0) return;  // stopped, or out of work: run() would return too
      last_event = std::chrono::steady_clock::now();
    }
  }
}

}  // namespace

absl::StatusOr<std::shared_ptr<tcp::acceptor>> OpenListener(net::io_context& context, const std::string& host,
                                                            uint16_t port) {
  absl::StatusOr<tcp::endpoint> endpoint = Resolve(host, port);
  if (!endpoint.ok()) return endpoint.status();
  auto acceptor = std::make_shared<tcp::acceptor>(context);
  boost::system::error_code ec;
  acceptor->open(endpoint->protocol(), ec);
  if (!ec) acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(*endpoint, ec);
  if (!ec) acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) return absl::FailedPreconditionError(absl::StrCat("cannot listen on ", host, ":", port, ": ", ec.message()));
  return acceptor;
}

void AcceptConnections(std::shared_ptr<tcp::acceptor> acceptor,
                       const std::vector<std::unique_ptr<net::io_context>>& contexts,
                       std::shared_ptr<ConnectionLimit> limit,
                       std::function<void(tcp::socket, ConnectionLimit::Slot)> start) {
  std::make_shared<AcceptLoop>(std::move(acceptor), contexts, std::move(limit), std::move(start))->Next();
}

void RunIoThread(net::io_context& context, absl::string_view name, absl::Duration busy_poll) {
  NameThisThread(name);
  for (;;) {
    try {
      if (busy_poll > absl::ZeroDuration()) {
        RunPolling(context, absl::ToChronoNanoseconds(busy_poll));
      } else {
        context.run();
      }
      return;
    } catch (const std::exception& e) {
      log::Error("uncaught exception on an I/O thread", {{"error", e.what()}});
    }
  }
}

}  // namespace meridian::http
