#pragma once

// Writes one structured log line per answered request.

#include "http/request_observer.h"

namespace meridian::http {

class AccessLog final : public RequestObserver {
 public:
  void OnRequestCompleted(const CompletedRequest& request) override;
};

}  // namespace meridian::http
