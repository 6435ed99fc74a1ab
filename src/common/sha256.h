#pragma once

// Incremental SHA-256 (OpenSSL), for content addresses computed while data streams through.

#include <memory>
#include <string>

#include "absl/strings/string_view.h"

namespace meridian {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(absl::string_view data);
  // Lower-case hex of the digest; the object must not be updated afterwards.
  std::string FinishHex();

  static std::string HexOf(absl::string_view data);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace meridian
