#include "common/signal_waiter.h"

#include <pthread.h>

#include <atomic>
#include <cerrno>

namespace meridian {
namespace {

// Written before the handlers are installed and never again, so the handler reads a settled value.
std::atomic<pthread_t> waiting_thread;

// Runs only on a thread that does not block the signal, i.e. not the waiting thread. pthread_kill
// is async-signal-safe; it makes the signal pending on the waiting thread, where sigwait takes it.
void ForwardToWaitingThread(int signal_number) {
  const int saved_errno = errno;
  pthread_kill(waiting_thread.load(std::memory_order_relaxed), signal_number);
  errno = saved_errno;
}

}  // namespace

SignalWaiter::SignalWaiter(std::initializer_list<int> signals) {
  sigemptyset(&signals_);
  for (int s : signals) sigaddset(&signals_, s);
  pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
  waiting_thread.store(pthread_self(), std::memory_order_relaxed);

  struct sigaction action {};
  action.sa_handler = ForwardToWaitingThread;
  action.sa_flags = SA_RESTART;
  // Block the other signals of the set while one is being forwarded, so forwarding never nests.
  action.sa_mask = signals_;
  for (int s : signals) sigaction(s, &action, nullptr);
}

int SignalWaiter::Wait() {
  int signal_number = 0;
  while (sigwait(&signals_, &signal_number) != 0) {
  }
  return signal_number;
}

}  // namespace meridian
