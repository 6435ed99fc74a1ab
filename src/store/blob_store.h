#pragma once

// Content-addressed artifact storage on the local file system.
//
// A blob is named by its digest, "sha256:<64 lower-case hex>", and lives at
// <root>/sha256/<first two hex>/<hex>. Uploads stream into <root>/tmp while being hashed; Commit
// fsyncs the file, checks the declared digest, renames it into place and fsyncs the directory,
// so a blob is either absent or complete. Identical content is stored once. Leftover temporary
// files from a crash are removed by Open. Thread-safe.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace meridian::store {

struct BlobInfo {
  std::string digest;  // "sha256:<hex>"
  uint64_t size = 0;
};

// Checks the "sha256:<64 hex>" form (which also keeps paths like ".." out).
absl::Status ValidateDigest(absl::string_view digest);

class BlobWriter {
 public:
  virtual ~BlobWriter() = default;  // an uncommitted writer removes its temporary file
  virtual absl::Status Write(absl::string_view data) = 0;
  // Makes the blob durable and visible. With `expected_digest`, a mismatch fails with
  // kInvalidArgument and stores nothing.
  virtual absl::StatusOr<BlobInfo> Commit(std::optional<std::string> expected_digest) = 0;
  virtual uint64_t bytes_written() const = 0;
};

struct BlobStoreOptions {
  std::string root;
};

class BlobStore {
 public:
  static absl::StatusOr<std::unique_ptr<BlobStore>> Open(const BlobStoreOptions& options);

  absl::StatusOr<std::unique_ptr<BlobWriter>> NewWriter();

  // Size of a stored blob; kNotFound when absent.
  absl::StatusOr<BlobInfo> Stat(absl::string_view digest) const;
  // Re-reads the blob and checks its digest: kDataLoss when the file was corrupted. Returns the
  // path to hand to a backend.
  absl::StatusOr<std::string> VerifiedPath(absl::string_view digest) const;
  // The path of a blob, without verification (for ranged downloads).
  absl::StatusOr<std::string> PathOf(absl::string_view digest) const;
  absl::Status Delete(absl::string_view digest);

  struct StoredBlob {
    std::string digest;
    uint64_t size = 0;
    absl::Time modified;
  };
  // Every committed blob (for garbage collection and verification sweeps).
  absl::StatusOr<std::vector<StoredBlob>> List() const;

  const std::string& root() const { return root_; }
  // How many leftover temporary files Open removed.
  int removed_temporaries() const { return removed_temporaries_; }

 private:
  explicit BlobStore(std::string root) : root_(std::move(root)) {}
  std::string root_;
  int removed_temporaries_ = 0;
};

}  // namespace meridian::store
