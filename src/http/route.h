#pragma once

// A route: method + path pattern -> handler, with what the authorization layer needs to know
// about it (the resource and verb it acts on) and how large a body it accepts.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

#include "http/http_message.h"

namespace meridian::http {

// Sends the response for one request. Call exactly once, from any thread; the write happens on
// the connection's own I/O thread. Dropping it unsent answers 500 so that no client hangs.
class Responder {
 public:
  using SendFn = std::function<void(HttpResponse)>;
  explicit Responder(SendFn send);
  Responder(Responder&&) noexcept;
  Responder& operator=(Responder&&) noexcept;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder();

  void Send(HttpResponse response);

 private:
  SendFn send_;
};

// Receives a request body as it arrives, for routes whose bodies are too large to buffer
// (artifact uploads). Write runs on the connection's I/O thread; a failed Write answers the
// request with that error. Dropping the sink unfinished (client gone, limit exceeded) is how an
// upload is abandoned, so implementations clean up in their destructor.
class BodySink {
 public:
  virtual ~BodySink() = default;
  virtual absl::Status Write(absl::string_view chunk) = 0;
};

// Makes the sink once the request headers are known; an error is the answer to the request.
using BodySinkFactory = std::function<absl::StatusOr<std::shared_ptr<BodySink>>(const HttpRequest& head)>;

// Handlers run on an I/O thread: a handler that has to wait (for a batch, a disk, another
// service) hands the Responder to whoever finishes the work instead of blocking.
using AsyncHandler = std::function<void(HttpRequest request, Responder responder)>;
// For handlers that answer at once.
using SyncHandler = std::function<HttpResponse(const HttpRequest& request)>;

struct Route {
  HttpMethod method = HttpMethod::kGet;
  // Literal segments and {param} segments, e.g. "/v2/models/{name}/versions/{version}".
  std::string pattern;
  // What the route acts on, for authorization: e.g. resource "models", verb "get".
  // Public routes (health, metrics) use resource "public".
  std::string resource;
  std::string verb;
  // Largest accepted body; nullopt uses the server-wide default.
  std::optional<uint64_t> max_body_bytes;
  // When set, the body streams into a sink made by this factory instead of HttpRequest::body;
  // the handler finds the sink in HttpRequest::body_sink once the whole body has arrived.
  BodySinkFactory body_sink;
  AsyncHandler handler;
};

// Wraps a synchronous handler.
AsyncHandler Sync(SyncHandler handler);

}  // namespace meridian::http
