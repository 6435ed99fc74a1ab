#pragma once

// A one-line progress bar on standard error, for uploads and downloads, drawn only when standard
// error is a terminal and at most ten times a second.

#include <chrono>
#include <cstdint>
#include <string>

namespace meridian::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  ~ProgressBar();  // ends the line if anything was drawn
  void Update(uint64_t done, uint64_t total);

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace meridian::cli
