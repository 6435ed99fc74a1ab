#include "http/listener.h"

#include <pthread.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/post.hpp"
#include "gtest/gtest.h"
#include "testing/raw_connection.h"

namespace meridian::http {
namespace {

namespace net = boost::asio;

// CPU time `thread` has used.
absl::Duration CpuTimeOf(std::thread& thread) {
  clockid_t clock;
  EXPECT_EQ(pthread_getcpuclockid(thread.native_handle(), &clock), 0);
  timespec used{};
  EXPECT_EQ(clock_gettime(clock, &used), 0);
  return absl::DurationFromTimespec(used);
}

// Posts a handler and waits until the I/O thread has run it.
bool RunsOn(net::io_context& context) {
  absl::Notification ran;
  net::post(context, [&ran] { ran.Notify(); });
  return ran.WaitForNotificationWithTimeout(absl::Seconds(10));
}

// An I/O thread running RunIoThread on its own context (kept in work), stopped and joined at the end.
struct PollingIoThread {
  explicit PollingIoThread(absl::Duration busy_poll)
      : thread([this, busy_poll] { RunIoThread(context, "test-io", busy_poll); }) {}
  ~PollingIoThread() {
    context.stop();
    thread.join();
  }
  net::io_context context{1};
  net::executor_work_guard<net::io_context::executor_type> guard = net::make_work_guard(context);
  std::thread thread;
};

TEST(RunIoThreadTest, APollingThreadRunsWhatArrivesWhileItPollsAndWakesForWhatArrivesAfter) {
  PollingIoThread io(absl::Milliseconds(5));
  EXPECT_TRUE(RunsOn(io.context));
  EXPECT_TRUE(RunsOn(io.context));
  // Past the polling time the thread sleeps: a quiet second costs it next to no CPU.
  absl::SleepFor(absl::Milliseconds(50));
  const absl::Duration before = CpuTimeOf(io.thread);
  absl::SleepFor(absl::Seconds(1));
  EXPECT_LT(CpuTimeOf(io.thread) - before, absl::Milliseconds(100));
  EXPECT_TRUE(RunsOn(io.context));  // and it wakes for the next event
}

TEST(RunIoThreadTest, AfterAnEventTheThreadPollsInsteadOfSleeping) {
  PollingIoThread io(absl::Milliseconds(400));
  EXPECT_TRUE(RunsOn(io.context));
  const absl::Duration before = CpuTimeOf(io.thread);
  absl::SleepFor(absl::Milliseconds(200));
  // Polling, it runs whenever no other thread wants the CPU (a sleeping one would use none).
  EXPECT_GT(CpuTimeOf(io.thread) - before, absl::Milliseconds(10));
  EXPECT_TRUE(RunsOn(io.context));
}

TEST(RunIoThreadTest, APollingThreadEndsWhenStoppedOrOutOfWorkAndOutlivesAThrowingHandler) {
  {
    PollingIoThread io(absl::Milliseconds(200));
    net::post(io.context, [] { throw std::runtime_error("a handler's bug"); });
    EXPECT_TRUE(RunsOn(io.context));  // the loop went on after the exception
  }  // stopped while it polls

  net::io_context idle(1);
  std::atomic<bool> ran{false};
  net::post(idle, [&ran] { ran = true; });
  std::thread out_of_work([&idle] { RunIoThread(idle, "test-io", absl::Milliseconds(5)); });
  out_of_work.join();  // no work guard: returns once its handlers are run, as io_context::run does
  EXPECT_TRUE(ran);
}

TEST(AcceptConnectionsTest, ConnectionsPastTheLimitAreClosedOnArrivalAndAFreedSlotAdmitsTheNext) {
  std::vector<std::unique_ptr<net::io_context>> contexts;
  contexts.push_back(std::make_unique<net::io_context>(1));
  absl::StatusOr<std::shared_ptr<net::ip::tcp::acceptor>> acceptor = OpenListener(*contexts[0], "127.0.0.1", 0);
  ASSERT_TRUE(acceptor.ok()) << acceptor.status();
  const uint16_t port = (*acceptor)->local_endpoint().port();
  std::shared_ptr<ConnectionLimit> limit = ConnectionLimit::Create(1);
  // What the server holds for each admitted connection: its socket and its slot.
  std::vector<std::pair<net::ip::tcp::socket, ConnectionLimit::Slot>> admitted;
  std::atomic<int> admissions{0};
  AcceptConnections(*acceptor, contexts, limit, [&](net::ip::tcp::socket socket, ConnectionLimit::Slot slot) {
    admitted.emplace_back(std::move(socket), std::move(slot));
    admissions.fetch_add(1);
  });
  auto guard = net::make_work_guard(*contexts[0]);
  std::thread io([&contexts] { contexts[0]->run(); });
  testing::RawConnection first(port);
  testing::RawConnection second(port);  // the kernel completes the handshake; the server then closes it
  EXPECT_TRUE(second.ClosedByPeerWithin(std::chrono::seconds(10)));
  EXPECT_FALSE(first.ClosedByPeerWithin(std::chrono::milliseconds(200)));
  EXPECT_EQ(admissions.load(), 1);
  EXPECT_EQ(limit->open(), 1u);
  EXPECT_EQ(limit->refused(), 1u);

  // The first connection ends: its slot goes back, and the next client is admitted.
  absl::Notification released;
  net::post(*contexts[0], [&] {
    admitted.clear();
    released.Notify();
  });
  ASSERT_TRUE(released.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(limit->open(), 0u);
  testing::RawConnection third(port);
  EXPECT_FALSE(third.ClosedByPeerWithin(std::chrono::milliseconds(200)));
  EXPECT_EQ(admissions.load(), 2);
  EXPECT_EQ(limit->refused(), 1u);

  net::post(*contexts[0], [&] {
    boost::system::error_code ignored;
    (*acceptor)->close(ignored);
    admitted.clear();
  });
  guard.reset();
  io.join();
}

}  // namespace
}  // namespace meridian::http
