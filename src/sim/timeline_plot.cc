#include "sim/timeline_plot.h"

#include <algorithm>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/png_canvas.h"

namespace meridian::sim {
namespace {

constexpr int kWidth = 1200;
constexpr int kPanelHeight = 230;
constexpr int kLeft = 80;
constexpr int kRight = 150;
constexpr int kTop = 62;
constexpr int kGap = 40;

struct Panel {
  double y0;  // top in pixels
  double max;
  std::string title;
};

double X(size_t second, size_t seconds) {
  return kLeft + (kWidth - kLeft - kRight) * static_cast<double>(second) / std::max<size_t>(1, seconds - 1);
}

double Y(const Panel& p, double value) {
  return p.y0 + kPanelHeight - kPanelHeight * std::clamp(value / p.max, 0.0, 1.0);
}

void Frame(const PngCanvas& canvas, const Panel& p, size_t seconds) {
  cairo_t* cr = canvas.cr();
  cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, kLeft, p.y0, kWidth - kLeft - kRight, kPanelHeight);
  cairo_stroke(cr);
  cairo_set_source_rgb(cr, 0, 0, 0);
  canvas.Text(kLeft, p.y0 - 8, p.title, 13);
  for (int i = 0; i <= 4; ++i) {
    const double v = p.max * i / 4;
    canvas.Text(8, Y(p, v) + 4, absl::StrFormat("%.0f", v), 11);
  }
  for (int i = 0; i <= 6; ++i) {
    const size_t s = (seconds - 1) * i / 6;
    canvas.Text(X(s, seconds) - 12, p.y0 + kPanelHeight + 14, absl::StrCat(s / 60, " min"), 10);
  }
}

void Line(cairo_t* cr, const Panel& p, size_t seconds, const std::function<double(size_t)>& value, Rgb color,
          double width) {
  cairo_set_source_rgb(cr, color.r, color.g, color.b);
  cairo_set_line_width(cr, width);
  for (size_t s = 0; s < seconds; ++s) {
    if (s == 0) {
      cairo_move_to(cr, X(s, seconds), Y(p, value(s)));
    } else {
      cairo_line_to(cr, X(s, seconds), Y(p, value(s)));
    }
  }
  cairo_stroke(cr);
}

}  // namespace

absl::Status WriteTimelinePng(const std::string& path, const std::vector<SimulationResult>& results,
                              absl::Duration objective) {
  if (results.empty() || results[0].timeline.empty()) return absl::InvalidArgumentError("nothing to plot");
  const size_t seconds = results[0].timeline.size();
  const int height = kTop + 3 * (kPanelHeight + kGap) + 20;
  PngCanvas canvas(kWidth, height);
  cairo_t* cr = canvas.cr();
  canvas.Text(kLeft, 24, absl::StrCat("trace: ", results[0].trace), 15);

  double max_rps = 1, max_replicas = 1;
  for (const auto& s : results[0].timeline) max_rps = std::max(max_rps, s.rps);
  for (const auto& r : results) {
    for (const auto& s : r.timeline) max_replicas = std::max<double>(max_replicas, s.replicas);
  }
  const double objective_ms = absl::ToDoubleMilliseconds(objective);
  Panel load{static_cast<double>(kTop), max_rps * 1.1, "load (requests/s)"};
  Panel replicas{load.y0 + kPanelHeight + kGap, max_replicas * 1.1, "replicas (including starting)"};
  Panel latency{replicas.y0 + kPanelHeight + kGap, objective_ms * 4,
                absl::StrFormat("p95 latency per second (ms, clipped at %.0f; dashed: objective)", objective_ms * 4)};
  for (const Panel* p : {&load, &replicas, &latency}) Frame(canvas, *p, seconds);

  const auto& base = results[0].timeline;
  Line(cr, load, seconds, [&](size_t s) { return base[s].rps; }, {0.3, 0.3, 0.3}, 1.2);
  for (size_t i = 0; i < results.size(); ++i) {
    const Rgb color = kPalette[i % std::size(kPalette)];
    const auto& t = results[i].timeline;
    Line(cr, replicas, seconds, [&](size_t s) { return t[s].replicas; }, color, 1.5);
    Line(cr, latency, seconds, [&](size_t s) { return t[s].p95_latency_ms; }, color, 1.0);
    cairo_set_source_rgb(cr, color.r, color.g, color.b);
    cairo_rectangle(cr, kWidth - kRight + 15, replicas.y0 + 20 * i, 14, 10);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    canvas.Text(kWidth - kRight + 35, replicas.y0 + 20 * i + 10, results[i].policy);
  }
  const double dashes[] = {6, 4};
  cairo_set_dash(cr, dashes, 2, 0);
  Line(cr, latency, seconds, [&](size_t) { return objective_ms; }, {0, 0, 0}, 1);
  return canvas.Save(path);
}

}  // namespace meridian::sim
