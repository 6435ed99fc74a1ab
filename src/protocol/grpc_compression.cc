#include "protocol/grpc_compression.h"

#include <zlib.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace meridian::protocol {

std::optional<GrpcEncoding> ParseGrpcEncoding(absl::string_view value) {
  if (value.empty() || value == "identity") return GrpcEncoding::kIdentity;
  if (value == "gzip") return GrpcEncoding::kGzip;
  if (value == "deflate") return GrpcEncoding::kDeflate;
  return std::nullopt;
}

absl::StatusOr<std::string> DecompressGrpcMessage(GrpcEncoding encoding, absl::string_view compressed,
                                                  uint64_t max_bytes) {
  if (encoding == GrpcEncoding::kIdentity) {
    return absl::InvalidArgumentError("a message is marked compressed but the call's grpc-encoding is identity");
  }
  const char* name = encoding == GrpcEncoding::kGzip ? "gzip" : "deflate";
  z_stream stream{};
  // 16 + MAX_WBITS reads a gzip header and trailer; MAX_WBITS a zlib stream ("deflate" in HTTP).
  if (inflateInit2(&stream, encoding == GrpcEncoding::kGzip ? 16 + MAX_WBITS : MAX_WBITS) != Z_OK) {
    return absl::InternalError("cannot start zlib");
  }
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  std::string out;
  int result = Z_OK;
  while (result != Z_STREAM_END) {
    const size_t used = out.size();
    // Grows by doubling, but never past one byte over the limit: that byte says it is exceeded,
    // and a message that inflates without end holds at most the limit in memory.
    const size_t chunk =
        static_cast<size_t>(std::min<uint64_t>(std::max<size_t>(16 * 1024, used), max_bytes + 1 - used));
    out.resize(used + chunk);
    stream.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    stream.avail_out = static_cast<uInt>(chunk);
    result = inflate(&stream, Z_NO_FLUSH);
    out.resize(used + chunk - stream.avail_out);
    if (out.size() > max_bytes) {
      inflateEnd(&stream);
      return absl::ResourceExhaustedError(absl::StrCat("the ", name, "-compressed request message inflates to more ",
                                                       "than the server's limit of ", max_bytes, " bytes"));
    }
    if (result == Z_BUF_ERROR && stream.avail_in == 0) result = Z_DATA_ERROR;  // truncated
    if (result != Z_OK && result != Z_STREAM_END && result != Z_BUF_ERROR) {
      inflateEnd(&stream);
      return absl::InvalidArgumentError(absl::StrCat("the request message is not valid ", name, " data",
                                                     stream.msg != nullptr ? absl::StrCat(": ", stream.msg) : ""));
    }
  }
  inflateEnd(&stream);
  return out;
}

std::string CompressGrpcMessage(GrpcEncoding encoding, absl::string_view message) {
  if (encoding == GrpcEncoding::kIdentity) return std::string(message);
  z_stream stream{};
  deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, encoding == GrpcEncoding::kGzip ? 16 + MAX_WBITS : MAX_WBITS,
               8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&stream, message.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
  stream.avail_in = static_cast<uInt>(message.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);  // the output fits: deflateBound
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

}  // namespace meridian::protocol
