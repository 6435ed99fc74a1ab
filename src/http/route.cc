#include "http/route.h"

#include <utility>

namespace meridian::http {

Responder::Responder(SendFn send) : send_(std::move(send)) {}
Responder::Responder(Responder&& other) noexcept : send_(std::exchange(other.send_, nullptr)) {}
Responder& Responder::operator=(Responder&& other) noexcept {
  if (this != &other) {
    if (send_) send_(HttpResponse::Error(500, "the handler did not produce a response"));
    send_ = std::exchange(other.send_, nullptr);
  }
  return *this;
}

Responder::~Responder() {
  if (send_) send_(HttpResponse::Error(500, "the handler did not produce a response"));
}

void Responder::Send(HttpResponse response) {
  if (!send_) return;  // already sent
  SendFn send = std::exchange(send_, nullptr);
  send(std::move(response));
}

AsyncHandler Sync(SyncHandler handler) {
  return [handler = std::move(handler)](HttpRequest request, Responder responder) {
    responder.Send(handler(request));
  };
}

}  // namespace meridian::http
