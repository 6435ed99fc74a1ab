#pragma once

// Holds an exclusive lock on a data directory for the life of the process, so that two servers
// never write the same embedded database and blob store.

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace meridian::server {

class DataDirLock {
 public:
  // Creates `dir` if needed, checks that it is writable and takes the lock (the file
  // "meridian.lock" inside it, holding the owner's pid). Fails with kFailedPrecondition naming
  // the directory and, when it is locked, the pid that holds it.
  static absl::StatusOr<std::unique_ptr<DataDirLock>> Acquire(const std::string& dir);
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace meridian::server
