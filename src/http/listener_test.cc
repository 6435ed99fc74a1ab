#include "http/listener.h"

#include <pthread.h>
#include <time.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/post.hpp"
#include "gtest/gtest.h"

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

TEST(RunIoThreadTest, APollingThreadRunsWhatArrivesWhileItPollsAndWakesForWhatArrivesAfter) {
  net::io_context context(1);
  auto guard = net::make_work_guard(context);
  std::thread io([&context] { RunIoThread(context, "test-io", absl::Milliseconds(5)); });
  EXPECT_TRUE(RunsOn(context));
  EXPECT_TRUE(RunsOn(context));
  // Past the polling time the thread sleeps: a quiet second costs it next to no CPU.
  absl::SleepFor(absl::Milliseconds(50));
  const absl::Duration before = CpuTimeOf(io);
  absl::SleepFor(absl::Seconds(1));
  EXPECT_LT(CpuTimeOf(io) - before, absl::Milliseconds(100));
  EXPECT_TRUE(RunsOn(context));  // and it wakes for the next event
  context.stop();
  io.join();
}

TEST(RunIoThreadTest, AfterAnEventTheThreadPollsInsteadOfSleeping) {
  net::io_context context(1);
  auto guard = net::make_work_guard(context);
  std::thread io([&context] { RunIoThread(context, "test-io", absl::Milliseconds(400)); });
  EXPECT_TRUE(RunsOn(context));
  const absl::Duration before = CpuTimeOf(io);
  absl::SleepFor(absl::Milliseconds(200));
  // Polling, it runs whenever no other thread wants the CPU (a sleeping one would use none).
  EXPECT_GT(CpuTimeOf(io) - before, absl::Milliseconds(10));
  EXPECT_TRUE(RunsOn(context));
  context.stop();
  io.join();
}

TEST(RunIoThreadTest, APollingThreadEndsWhenStoppedOrOutOfWorkAndOutlivesAThrowingHandler) {
  net::io_context context(1);
  auto guard = net::make_work_guard(context);
  std::thread io([&context] { RunIoThread(context, "test-io", absl::Milliseconds(200)); });
  net::post(context, [] { throw std::runtime_error("a handler's bug"); });
  EXPECT_TRUE(RunsOn(context));  // the loop went on after the exception
  context.stop();  // while it polls
  io.join();

  net::io_context idle(1);
  std::atomic<bool> ran{false};
  net::post(idle, [&ran] { ran = true; });
  std::thread out_of_work([&idle] { RunIoThread(idle, "test-io", absl::Milliseconds(5)); });
  out_of_work.join();  // no work guard: returns once its handlers are run, as io_context::run does
  EXPECT_TRUE(ran);
}

}  // namespace
}  // namespace meridian::http
