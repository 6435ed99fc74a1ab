#pragma once

// Lets one thread take process signals synchronously (sigwait) even when threads it did not start
// leave those signals unblocked. Blocking a signal only affects the calling thread and the threads
// it starts afterwards; a library may start threads earlier (OpenBLAS starts its pool while the
// program loads), and the kernel hands a process-directed signal to any thread that does not block
// it. Without help, a SIGTERM that arrives while the waiting thread is busy would then take its
// default action and kill the process instead of shutting it down.

#include <csignal>
#include <initializer_list>

namespace meridian {

class SignalWaiter {
 public:
  // Blocks `signals` in the calling thread (and so in every thread it starts later) and installs a
  // handler that forwards a signal delivered to any other thread back to this one. One waiter per
  // process; the handlers stay installed for the rest of it.
  explicit SignalWaiter(std::initializer_list<int> signals);
  SignalWaiter(const SignalWaiter&) = delete;
  SignalWaiter& operator=(const SignalWaiter&) = delete;

  // The next of the signals, however it was delivered. Call on the constructing thread.
  int Wait();

 private:
  sigset_t signals_;
};

}  // namespace meridian
