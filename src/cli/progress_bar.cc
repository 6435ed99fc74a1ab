#include "cli/progress_bar.h"

#include <unistd.h>

#include <cstdio>

namespace meridian::cli {

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)), enabled_(isatty(STDERR_FILENO) == 1), start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() {
  if (drawn_) std::fputc('\n', stderr);
}

void ProgressBar::Update(uint64_t done, uint64_t total) {
  if (!enabled_ || total == 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (done < total && drawn_ && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  drawn_ = true;
  constexpr int kWidth = 30;
  const double fraction = static_cast<double>(done) / static_cast<double>(total);
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<size_t>(filled), '=');
  if (filled < kWidth) bar += '>';
  bar.resize(kWidth, ' ');
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const double mb_per_s = seconds > 0 ? static_cast<double>(done) / 1e6 / seconds : 0;
  std::fprintf(stderr, "\r%s [%s] %3.0f%% %.1f/%.1f MB %.0f MB/s", label_.c_str(), bar.c_str(), fraction * 100,
               static_cast<double>(done) / 1e6, static_cast<double>(total) / 1e6, mb_per_s);
  std::fflush(stderr);
}

}  // namespace meridian::cli
