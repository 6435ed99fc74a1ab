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

}  // namespace
}  // namespace meridian::http
