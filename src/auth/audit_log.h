#pragma once

// The audit trail's writer: records are queued by request threads and appended to the
// SecurityStore in batches by one background thread, so that no request waits on the database
// for its audit record. Records are never edited or deleted (the store refuses it).
//
// Thread-safe. The destructor writes what is still queued.

#include <cstdint>
#include <deque>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "store/security_store.h"

namespace meridian::auth {

struct AuditLogOptions {
  store::SecurityStore* store = nullptr;  // not owned
  // Records queued beyond this (a store that is down for long) are counted as dropped and
  // logged instead of growing memory without bound.
  size_t max_pending = 100000;
};

class AuditLog {
 public:
  explicit AuditLog(const AuditLogOptions& options);
  ~AuditLog();

  void Record(store::AuditRecord record);
  // Waits until every record queued before the call is stored (or dropped).
  void Flush();
  uint64_t dropped() const;

 private:
  void WriteLoop();

  const AuditLogOptions options_;
  mutable absl::Mutex mu_;
  std::deque<store::AuditRecord> pending_ ABSL_GUARDED_BY(mu_);
  uint64_t queued_ ABSL_GUARDED_BY(mu_) = 0;   // records ever queued
  uint64_t settled_ ABSL_GUARDED_BY(mu_) = 0;  // records stored or dropped
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread writer_;
};

}  // namespace meridian::auth
