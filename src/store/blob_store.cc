#include "store/blob_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/status_macros.h"

namespace meridian::store {
namespace {

namespace fs = std::filesystem;
constexpr absl::string_view kPrefix = "sha256:";

absl::Status Errno(absl::string_view what, const std::string& path) {
  const int error = errno;
  const std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(error));
  if (error == ENOSPC || error == EDQUOT) return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

absl::Status FsyncPath(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  const int rc = fsync(fd);
  close(fd);
  if (rc != 0) return Errno("cannot fsync", path);
  return absl::OkStatus();
}

std::string RandomName() {
  static std::atomic<uint64_t> counter{0};
  std::random_device rd;
  return absl::StrCat(getpid(), "-", counter.fetch_add(1), "-", absl::Hex(rd()), ".upload");
}

class FileBlobWriter final : public BlobWriter {
 public:
  FileBlobWriter(const BlobStore* store, std::string temp_path, int fd)
      : store_(store), temp_path_(std::move(temp_path)), fd_(fd) {}

  ~FileBlobWriter() override {
    if (fd_ >= 0) close(fd_);
    if (!committed_) unlink(temp_path_.c_str());
  }

  absl::Status Write(absl::string_view data) override {
    if (fd_ < 0) return absl::FailedPreconditionError("the blob writer is closed");
    hash_.Update(data);
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = write(fd_, data.data() + done, data.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("cannot write", temp_path_);
      }
      done += static_cast<size_t>(n);
    }
    written_ += data.size();
    return absl::OkStatus();
  }

  absl::StatusOr<BlobInfo> Commit(std::optional<std::string> expected) override {
    if (fd_ < 0) return absl::FailedPreconditionError("the blob writer is closed");
    if (fsync(fd_) != 0) return Errno("cannot fsync", temp_path_);
    close(fd_);
    fd_ = -1;
    BlobInfo info{absl::StrCat(kPrefix, hash_.FinishHex()), written_};
    if (expected && *expected != info.digest) {
      return absl::InvalidArgumentError(absl::StrCat("digest mismatch: declared ", *expected,
                                                     " but the uploaded bytes hash to ", info.digest));
    }
    ASSIGN_OR_RETURN(std::string final_path, store_->PathOf(info.digest));
    const fs::path shard = fs::path(final_path).parent_path();
    std::error_code ec;
    const bool new_shard = !fs::exists(shard, ec);
    fs::create_directories(shard, ec);
    if (ec) return absl::InternalError(absl::StrCat("cannot create ", shard.string(), ": ", ec.message()));
    if (fs::exists(final_path, ec)) return info;  // identical content is stored once
    if (rename(temp_path_.c_str(), final_path.c_str()) != 0) return Errno("cannot rename into", final_path);
    committed_ = true;
    RETURN_IF_ERROR(FsyncPath(shard.string()));
    if (new_shard) RETURN_IF_ERROR(FsyncPath(shard.parent_path().string()));
    return info;
  }

  uint64_t bytes_written() const override { return written_; }

 private:
  const BlobStore* store_;
  std::string temp_path_;
  int fd_;
  Sha256 hash_;
  uint64_t written_ = 0;
  bool committed_ = false;
};

}  // namespace

absl::Status ValidateDigest(absl::string_view digest) {
  absl::string_view hex = digest;
  if (!absl::ConsumePrefix(&hex, kPrefix) || hex.size() != 64 ||
      !std::all_of(hex.begin(), hex.end(), [](char c) { return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f'); })) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid digest \"", digest, "\": expected sha256: followed by 64 lower-case hex digits"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<BlobStore>> BlobStore::Open(const BlobStoreOptions& options) {
  std::error_code ec;
  for (const char* sub : {"sha256", "tmp"}) {
    fs::create_directories(fs::path(options.root) / sub, ec);
    if (ec) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot create blob directory ", options.root, "/", sub, ": ", ec.message()));
    }
  }
  auto store = std::unique_ptr<BlobStore>(new BlobStore(options.root));
  // Uploads cut off by a crash left these; nothing refers to them.
  for (const auto& entry : fs::directory_iterator(fs::path(options.root) / "tmp", ec)) {
    std::error_code remove_error;
    if (fs::remove(entry.path(), remove_error)) ++store->removed_temporaries_;
  }
  return store;
}

absl::StatusOr<std::unique_ptr<BlobWriter>> BlobStore::NewWriter() {
  const std::string path = (fs::path(root_) / "tmp" / RandomName()).string();
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", path);
  return std::unique_ptr<BlobWriter>(new FileBlobWriter(this, path, fd));
}

absl::StatusOr<std::string> BlobStore::PathOf(absl::string_view digest) const {
  RETURN_IF_ERROR(ValidateDigest(digest));
  absl::string_view hex = digest.substr(kPrefix.size());
  return (fs::path(root_) / "sha256" / std::string(hex.substr(0, 2)) / std::string(hex)).string();
}

absl::StatusOr<BlobInfo> BlobStore::Stat(absl::string_view digest) const {
  ASSIGN_OR_RETURN(std::string path, PathOf(digest));
  std::error_code ec;
  const uintmax_t size = fs::file_size(path, ec);
  if (ec) return absl::NotFoundError(absl::StrCat("artifact ", digest, " not found"));
  return BlobInfo{std::string(digest), static_cast<uint64_t>(size)};
}

absl::StatusOr<std::string> BlobStore::VerifiedPath(absl::string_view digest) const {
  ASSIGN_OR_RETURN(std::string path, PathOf(digest));
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("artifact ", digest, " not found"));
    return Errno("cannot open", path);
  }
  Sha256 hash;
  std::string buffer(1 << 20, '\0');
  for (;;) {
    ssize_t n = read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status s = Errno("cannot read", path);
      close(fd);
      return s;
    }
    if (n == 0) break;
    hash.Update(absl::string_view(buffer.data(), static_cast<size_t>(n)));
  }
  close(fd);
  const std::string actual = absl::StrCat(kPrefix, hash.FinishHex());
  if (actual != digest) {
    return absl::DataLossError(absl::StrCat("artifact ", digest, " is corrupt on disk (its content hashes to ",
                                            actual, "); restore it from a backup or push it again"));
  }
  return path;
}

absl::Status BlobStore::Delete(absl::string_view digest) {
  ASSIGN_OR_RETURN(std::string path, PathOf(digest));
  if (unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("artifact ", digest, " not found"));
    return Errno("cannot delete", path);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<BlobStore::StoredBlob>> BlobStore::List() const {
  std::vector<StoredBlob> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(fs::path(root_) / "sha256", ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const std::string digest = absl::StrCat(kPrefix, it->path().filename().string());
    if (!ValidateDigest(digest).ok()) continue;  // not ours
    std::error_code stat_error;
    const auto size = it->file_size(stat_error);
    const auto mtime = fs::last_write_time(it->path(), stat_error);
    if (stat_error) continue;  // deleted meanwhile
    const auto since_epoch = std::chrono::file_clock::to_sys(mtime).time_since_epoch();
    out.push_back({digest, static_cast<uint64_t>(size), absl::FromChrono(std::chrono::system_clock::time_point(
                                                            std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch)))});
  }
  if (ec) return absl::InternalError(absl::StrCat("cannot list blobs under ", root_, ": ", ec.message()));
  return out;
}

}  // namespace meridian::store
