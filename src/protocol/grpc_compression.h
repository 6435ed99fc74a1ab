#pragma once

// Compressed gRPC request messages (gRPC over HTTP/2: the message's compressed flag and the call's
// grpc-encoding). Clients such as grpcio may send gzip or deflate; answers go out uncompressed,
// which the protocol allows whatever the client accepts.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace meridian::protocol {

enum class GrpcEncoding { kIdentity, kGzip, kDeflate };

// The grpc-encoding header's value (empty: identity); nullopt for an encoding not supported.
std::optional<GrpcEncoding> ParseGrpcEncoding(absl::string_view value);

// The supported encodings, for grpc-accept-encoding.
inline constexpr absl::string_view kGrpcAcceptEncoding = "identity,deflate,gzip";

// Decompresses one message. More than `max_bytes` once decompressed is kResourceExhausted (checked
// while inflating, so a small message that inflates without end holds at most `max_bytes` in
// memory); bytes that are not a valid stream of `encoding` are kInvalidArgument.
absl::StatusOr<std::string> DecompressGrpcMessage(GrpcEncoding encoding, absl::string_view compressed,
                                                  uint64_t max_bytes);

// The other way, for clients and tests (the server's answers go out uncompressed).
std::string CompressGrpcMessage(GrpcEncoding encoding, absl::string_view message);

}  // namespace meridian::protocol
