#include "serving/local_response_cache.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace meridian::serving {

void LocalResponseCache::EraseLocked(std::list<Entry>::iterator it) {
  bytes_ -= it->key.size() + it->value.size();
  index_.erase(it->key);
  entries_.erase(it);
}

std::optional<std::string> LocalResponseCache::Get(const std::string& key) {
  absl::MutexLock lock(&mutex_);
  auto found = index_.find(key);
  if (found == index_.end()) return std::nullopt;
  if (found->second->expires <= clock_->Now()) {
    EraseLocked(found->second);
    return std::nullopt;
  }
  entries_.splice(entries_.begin(), entries_, found->second);
  return found->second->value;
}

void LocalResponseCache::Put(const std::string& key, std::string value, absl::Duration ttl) {
  const uint64_t size = key.size() + value.size();
  if (size > max_bytes_) return;  // would evict everything else for one entry
  absl::MutexLock lock(&mutex_);
  if (auto found = index_.find(key); found != index_.end()) EraseLocked(found->second);
  while (bytes_ + size > max_bytes_ && !entries_.empty()) EraseLocked(std::prev(entries_.end()));
  entries_.push_front(Entry{key, std::move(value), clock_->Now() + ttl});
  index_[key] = entries_.begin();
  bytes_ += size;
}

void LocalResponseCache::Invalidate(absl::string_view model, absl::string_view version) {
  const std::string prefix = absl::StrCat(model, "/", version, "/");
  absl::MutexLock lock(&mutex_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto next = std::next(it);
    if (absl::StartsWith(it->key, prefix)) EraseLocked(it);
    it = next;
  }
}

uint64_t LocalResponseCache::bytes() const {
  absl::MutexLock lock(&mutex_);
  return bytes_;
}

}  // namespace meridian::serving
