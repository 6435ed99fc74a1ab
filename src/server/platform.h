#pragma once

// The composition root: builds every part of the platform from the Config, wires them together
// and starts serving. The only place that names concrete classes (ARCHITECTURE.md, layering 5).

#include <memory>

#include "absl/status/statusor.h"
#include "common/config.h"

namespace meridian::server {

class Platform {
 public:
  // Creates and locks the data directory, registers routes, starts the HTTP server. Startup
  // errors (port in use, data directory not writable or in use, bad TLS files) are returned with a
  // message for the user; nothing is left running.
  static absl::StatusOr<std::unique_ptr<Platform>> Start(const Config& config);
  ~Platform();

  uint16_t http_port() const;

  // Readiness turns false at once; requests in flight get up to the configured drain timeout.
  // Returns true when none was cut off. Idempotent.
  bool Shutdown();

  // Reloads the TLS certificate and key (and client CAs) from their files, e.g. on SIGHUP after a
  // rotation. On error the running certificate stays.
  absl::Status ReloadTls();

  class Parts;

 private:
  explicit Platform(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace meridian::server
