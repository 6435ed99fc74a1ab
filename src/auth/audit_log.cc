#include "auth/audit_log.h"

#include <vector>

#include "common/logging.h"
#include "common/thread_name.h"

namespace meridian::auth {
namespace {
constexpr size_t kBatch = 256;
constexpr int kAttempts = 3;
}  // namespace

AuditLog::AuditLog(const AuditLogOptions& options) : options_(options) {
  writer_ = std::thread([this] {
    NameThisThread("audit-log");
    WriteLoop();
  });
}

AuditLog::~AuditLog() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  writer_.join();
}

void AuditLog::Record(store::AuditRecord record) {
  absl::MutexLock lock(&mu_);
  ++queued_;
  if (pending_.size() >= options_.max_pending) {
    ++dropped_;
    ++settled_;
    log::Error("audit record dropped: the audit queue is full (is the database reachable?)",
               {{"subject", record.subject}, {"target", record.target}, {"verb", record.verb}});
    return;
  }
  pending_.push_back(std::move(record));
}

void AuditLog::Flush() {
  absl::MutexLock lock(&mu_);
  const uint64_t target = queued_;
  auto written = [this, target]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return settled_ >= target; };
  mu_.Await(absl::Condition(&written));
}

uint64_t AuditLog::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

void AuditLog::WriteLoop() {
  absl::MutexLock lock(&mu_);
  for (;;) {
    mu_.Await(absl::Condition(
        +[](AuditLog* self) ABSL_NO_THREAD_SAFETY_ANALYSIS { return self->stopping_ || !self->pending_.empty(); },
        this));
    if (pending_.empty()) return;  // stopping, and everything is written
    std::vector<store::AuditRecord> batch;
    while (!pending_.empty() && batch.size() < kBatch) {
      batch.push_back(std::move(pending_.front()));
      pending_.pop_front();
    }
    mu_.Unlock();
    absl::Status stored;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      stored = options_.store->AppendAudit(batch);
      if (stored.ok()) break;
      absl::SleepFor(absl::Milliseconds(100) * (attempt + 1));
    }
    if (!stored.ok()) {
      log::Error("audit records could not be stored", {{"records", batch.size()}, {"error", stored.message()}});
    }
    mu_.Lock();
    if (!stored.ok()) dropped_ += batch.size();
    settled_ += batch.size();
  }
}

}  // namespace meridian::auth
