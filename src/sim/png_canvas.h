#pragma once

// A white PNG canvas for the simulators' plots (cairo): create, draw with the cairo context, then
// Save. Owns the surface and context; not thread-safe.

#include <cairo.h>

#include <string>

#include "absl/status/status.h"

namespace meridian::sim {

struct Rgb {
  double r, g, b;
};
// Distinct line colours, used in order.
inline constexpr Rgb kPalette[] = {{0.12, 0.47, 0.71}, {1.0, 0.5, 0.05},   {0.17, 0.63, 0.17}, {0.84, 0.15, 0.16},
                                   {0.58, 0.40, 0.74}, {0.55, 0.34, 0.29}, {0.89, 0.47, 0.76}, {0.5, 0.5, 0.5}};

class PngCanvas {
 public:
  PngCanvas(int width, int height);
  ~PngCanvas();
  PngCanvas(const PngCanvas&) = delete;
  PngCanvas& operator=(const PngCanvas&) = delete;

  cairo_t* cr() const { return cr_; }
  void SetColor(const Rgb& c) const { cairo_set_source_rgb(cr_, c.r, c.g, c.b); }
  // Text with its baseline starting at (x, y).
  void Text(double x, double y, const std::string& text, double size = 12) const;
  absl::Status Save(const std::string& path) const;

 private:
  cairo_surface_t* surface_;
  cairo_t* cr_;
};

}  // namespace meridian::sim
