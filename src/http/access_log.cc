#include "http/access_log.h"

#include "common/logging.h"

namespace meridian::http {

void AccessLog::OnRequestCompleted(const CompletedRequest& r) {
  if (!log::Enabled(log::Level::kInfo)) return;
  log::Info("http request", {{"method", r.method},
                             {"target", r.target},
                             {"route", r.route},
                             {"status", r.status},
                             {"duration_ms", absl::ToDoubleMilliseconds(r.duration)},
                             {"request_bytes", r.request_body_bytes},
                             {"response_bytes", r.response_bytes},
                             {"remote", r.remote_address},
                             {"request_id", r.request_id}});
}

}  // namespace meridian::http
