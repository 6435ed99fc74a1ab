#include "sim/png_canvas.h"

#include "absl/strings/str_cat.h"

namespace meridian::sim {

PngCanvas::PngCanvas(int width, int height)
    : surface_(cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height)), cr_(cairo_create(surface_)) {
  cairo_set_source_rgb(cr_, 1, 1, 1);
  cairo_paint(cr_);
  cairo_select_font_face(cr_, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_source_rgb(cr_, 0, 0, 0);
}

PngCanvas::~PngCanvas() {
  cairo_destroy(cr_);
  cairo_surface_destroy(surface_);
}

void PngCanvas::Text(double x, double y, const std::string& text, double size) const {
  cairo_set_font_size(cr_, size);
  cairo_move_to(cr_, x, y);
  cairo_show_text(cr_, text.c_str());
}

absl::Status PngCanvas::Save(const std::string& path) const {
  cairo_surface_flush(surface_);
  const cairo_status_t status = cairo_surface_write_to_png(surface_, path.c_str());
  if (status != CAIRO_STATUS_SUCCESS) {
    return absl::InternalError(absl::StrCat("cannot write ", path, ": ", cairo_status_to_string(status)));
  }
  return absl::OkStatus();
}

}  // namespace meridian::sim
