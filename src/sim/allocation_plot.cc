#include "sim/allocation_plot.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/png_canvas.h"

namespace meridian::sim {
namespace {

constexpr int kWidth = 900;
constexpr int kHeight = 560;
constexpr double kLeft = 60, kRight = 190, kTop = 40, kBottom = 50;
constexpr double kMinX = 60, kMaxX = 130, kMinY = 60, kMaxY = 100;  // the interesting part: the cluster filling up

double X(double arrived) { return kLeft + (kWidth - kLeft - kRight) * (arrived - kMinX) / (kMaxX - kMinX); }
double Y(double allocated) { return kTop + (kHeight - kTop - kBottom) * (1 - (allocated - kMinY) / (kMaxY - kMinY)); }

}  // namespace

absl::Status WriteAllocationPng(const std::string& path, const std::string& title,
                                const std::vector<AllocationSeries>& series) {
  PngCanvas canvas(kWidth, kHeight);
  cairo_t* cr = canvas.cr();
  canvas.Text(kLeft, 24, title, 15);
  cairo_set_line_width(cr, 1);
  cairo_set_source_rgb(cr, 0.85, 0.85, 0.85);
  for (double y = kMinY; y <= kMaxY; y += 10) {
    cairo_move_to(cr, X(0), Y(y));
    cairo_line_to(cr, X(kMaxX), Y(y));
  }
  for (double x = kMinX; x <= kMaxX; x += 10) {
    cairo_move_to(cr, X(x), Y(kMinY));
    cairo_line_to(cr, X(x), Y(kMaxY));
  }
  cairo_stroke(cr);
  cairo_set_source_rgb(cr, 0, 0, 0);
  for (double y = kMinY; y <= kMaxY; y += 10) canvas.Text(20, Y(y) + 4, absl::StrFormat("%.0f", y), 11);
  for (double x = kMinX; x <= kMaxX; x += 10) canvas.Text(X(x) - 8, kHeight - kBottom + 16, absl::StrFormat("%.0f", x), 11);
  canvas.Text(X(kMaxX / 2) - 80, kHeight - 12, "arrived GPU demand (% of cluster GPUs)", 12);
  canvas.Text(6, kTop - 10, "GPU allocation %", 12);
  canvas.Text(kWidth - kRight + 12, kHeight - kBottom, "dashed: published", 11);

  std::vector<std::string> labels;  // one colour and one legend entry per label
  for (const AllocationSeries& one : series) {
    auto it = std::find(labels.begin(), labels.end(), one.label);
    const size_t index = static_cast<size_t>(it - labels.begin());
    const bool first_of_label = it == labels.end();
    if (first_of_label) labels.push_back(one.label);
    canvas.SetColor(kPalette[index % std::size(kPalette)]);
    cairo_set_line_width(cr, one.dashed ? 1.2 : 2);
    const double dash[] = {5, 4};
    cairo_set_dash(cr, dash, one.dashed ? 2 : 0, 0);
    bool started = false;
    for (size_t k = 0; k < one.percent.size(); ++k) {
      const double x = static_cast<double>(k), v = one.percent[k];
      if (v < kMinY || v > kMaxY || x < kMinX || x > kMaxX) {
        started = false;
        continue;
      }
      if (!started) {
        cairo_move_to(cr, X(x), Y(v));
        started = true;
      } else {
        cairo_line_to(cr, X(x), Y(v));
      }
    }
    cairo_stroke(cr);
    cairo_set_dash(cr, dash, 0, 0);
    if (!first_of_label) continue;
    const double ly = kTop + 18 * static_cast<double>(index) + 10;
    cairo_move_to(cr, kWidth - kRight + 12, ly - 4);
    cairo_line_to(cr, kWidth - kRight + 36, ly - 4);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    canvas.Text(kWidth - kRight + 42, ly, one.label, 11);
  }
  return canvas.Save(path);
}

}  // namespace meridian::sim
