#include "common/signal_waiter.h"

#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace meridian {
namespace {

// A thread started before the waiter, like a library's pool started while the program loads: it
// does not block the signals, so the kernel delivers a process-directed signal to it.
class ForeignThread {
 public:
  ForeignThread()
      : thread_([this] {
          sigset_t blocked;
          pthread_sigmask(SIG_SETMASK, nullptr, &blocked);
          blocks_sigusr1_ = sigismember(&blocked, SIGUSR1) == 1;
          started_.Notify();
          done_.WaitForNotification();
        }) {
    started_.WaitForNotification();
  }
  ~ForeignThread() {
    done_.Notify();
    thread_.join();
  }
  bool blocks_sigusr1() const { return blocks_sigusr1_; }

 private:
  absl::Notification started_;
  absl::Notification done_;
  bool blocks_sigusr1_ = true;
  std::thread thread_;
};

TEST(SignalWaiterTest, ASignalTheKernelGivesToAnotherThreadReachesTheWaiter) {
  ForeignThread foreign;
  ASSERT_FALSE(foreign.blocks_sigusr1());
  SignalWaiter waiter({SIGUSR1, SIGUSR2});
  // The waiter is not in Wait yet, so the kernel can only give the signal to the foreign thread;
  // without forwarding, SIGUSR1's default action would end this test process here.
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  EXPECT_EQ(waiter.Wait(), SIGUSR1);
  ASSERT_EQ(kill(getpid(), SIGUSR2), 0);
  EXPECT_EQ(waiter.Wait(), SIGUSR2);
}

TEST(SignalWaiterTest, ThreadsStartedAfterTheWaiterBlockTheSignals) {
  SignalWaiter waiter({SIGUSR1});
  bool blocked = false;
  std::thread([&blocked] {
    sigset_t mask;
    pthread_sigmask(SIG_SETMASK, nullptr, &mask);
    blocked = sigismember(&mask, SIGUSR1) == 1;
  }).join();
  EXPECT_TRUE(blocked);
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  EXPECT_EQ(waiter.Wait(), SIGUSR1);
}

}  // namespace
}  // namespace meridian
