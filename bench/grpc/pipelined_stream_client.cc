// A lean load generator for gRPC streaming: one HTTP/2 connection, one ModelStreamInfer stream,
// and a fixed number of requests in flight on it (a new one is sent as each answer arrives), the
// way a client of Triton's streaming API (async_stream_infer) or a gateway feeds a server. One
// thread, nghttp2's client session on a blocking socket, no gRPC library: h2load's leanness for a
// stream, which h2load cannot drive (it sends one body per stream).
//
// Usage: pipelined_stream_client --target 127.0.0.1:PORT --body FILE [--in-flight 64]
//        [--seconds 4] [--warmup-seconds 1] [--token TOKEN]
// FILE is one length-prefixed gRPC ModelInferRequest (serving_loadgen --write-grpc-body). Each
// request gets its own id, which the answer repeats: latency is measured per request, whatever
// order the answers come in. TOKEN goes as a bearer token (a server with authentication on). Prints
// one JSON line:
// {"protocol","in_flight","requests","errors","rps","p50_us","p95_us","p99_us"}; an answer with an
// error message counts as an error, and a stream that ends early fails the run (exit 1).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "api/grpc_predict_v2.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kPrefixBytes = 5;  // gRPC's message prefix: a compression flag and a length
constexpr int kIdDigits = 10;

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string body;
  int in_flight = 64;
  double seconds = 4;
  double warmup_seconds = 1;
  std::string token;
};

[[noreturn]] void Fail(const std::string& why) {
  std::cerr << "pipelined_stream_client: " << why << "\n";
  std::exit(1);
}

// Reads a varint at data[*at]; false when it runs past the end.
bool ReadVarint(const std::string& data, size_t* at, uint64_t* value) {
  *value = 0;
  for (int shift = 0; shift < 64 && *at < data.size(); shift += 7) {
    const auto byte = static_cast<uint8_t>(data[(*at)++]);
    *value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

// The length-delimited field `number` of a protobuf message (the first one), or nullopt.
bool FindField(const std::string& message, uint32_t number, std::string* value) {
  size_t at = 0;
  while (at < message.size()) {
    uint64_t key = 0;
    if (!ReadVarint(message, &at, &key)) return false;
    const auto wire_type = static_cast<int>(key & 7);
    uint64_t length = 0;
    switch (wire_type) {
      case 0:
        if (!ReadVarint(message, &at, &length)) return false;
        break;
      case 1: at += 8; break;
      case 5: at += 4; break;
      case 2:
        if (!ReadVarint(message, &at, &length) || length > message.size() - at) return false;
        if ((key >> 3) == number) {
          value->assign(message, at, length);
          return true;
        }
        at += length;
        break;
      default: return false;
    }
  }
  return false;
}

class PipelinedStream {
 public:
  PipelinedStream(const Options& options, std::string request_template, size_t id_offset)
      : options_(options), template_(std::move(request_template)), id_offset_(id_offset) {}

  void Run() {
    Connect();
    nghttp2_session_callbacks* callbacks = nullptr;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &PipelinedStream::OnData);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, &PipelinedStream::OnHeader);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &PipelinedStream::OnStreamClose);
    nghttp2_session_client_new(&session_, callbacks, this);
    nghttp2_session_callbacks_del(callbacks);
    const nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 16 << 20},
                                               {NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, 64 << 20);
    const std::string authority = options_.host + ":" + std::to_string(options_.port);
    std::vector<std::pair<std::string, std::string>> headers = {
        {":method", "POST"},
        {":scheme", "http"},
        {":authority", authority},
        {":path", "/inference.GRPCInferenceService/ModelStreamInfer"},
        {"content-type", "application/grpc"},
        {"te", "trailers"}};
    if (!options_.token.empty()) headers.emplace_back("authorization", "Bearer " + options_.token);
    std::vector<nghttp2_nv> nvs;
    for (const auto& [name, value] : headers) {
      nvs.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                     reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
                     NGHTTP2_NV_FLAG_NONE});
    }
    nghttp2_data_provider provider{};
    provider.read_callback = &PipelinedStream::ReadRequestBytes;
    stream_id_ = nghttp2_submit_request(session_, nullptr, nvs.data(), nvs.size(), &provider, this);
    if (stream_id_ < 0) Fail("could not open the stream");

    start_ = Clock::now();
    measure_from_ = start_ + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(options_.warmup_seconds));
    stop_at_ = measure_from_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.seconds));
    while (sent_ < static_cast<uint64_t>(options_.in_flight)) SendOne();

    std::vector<char> buffer(256 * 1024);
    while (!done_) {
      WriteAll();
      const ssize_t n = recv(fd_, buffer.data(), buffer.size(), 0);
      if (n <= 0) Fail(n == 0 ? "the server closed the connection" : std::string("recv: ") + std::strerror(errno));
      if (nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(buffer.data()), static_cast<size_t>(n)) < 0) {
        Fail("the server's HTTP/2 was not understood");
      }
    }
    nghttp2_session_del(session_);
    close(fd_);
  }

  void Report() const {
    std::vector<double> sorted = latencies_us_;
    std::sort(sorted.begin(), sorted.end());
    auto percentile = [&](double p) {
      return sorted.empty() ? 0.0 : sorted[std::min(sorted.size() - 1, static_cast<size_t>(p * sorted.size()))];
    };
    std::printf(
        "{\"protocol\":\"grpc-stream-pipelined\",\"in_flight\":%d,\"requests\":%zu,\"errors\":%lld,\"rps\":%.0f,"
        "\"p50_us\":%.0f,\"p95_us\":%.0f,\"p99_us\":%.0f}\n",
        options_.in_flight, sorted.size(), errors_, static_cast<double>(sorted.size()) / options_.seconds,
        percentile(0.50), percentile(0.95), percentile(0.99));
  }

 private:
  void Connect() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(options_.port));
    if (inet_pton(AF_INET, options_.host.c_str(), &address.sin_addr) != 1) Fail("--target wants an IPv4 address");
    if (connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      Fail(std::string("connect: ") + std::strerror(errno));
    }
    const int on = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  }

  // Queues the next request, with its own id; its time starts now.
  void SendOne() {
    const uint64_t id = sent_++;
    char digits[kIdDigits + 1];
    std::snprintf(digits, sizeof digits, "%0*llu", kIdDigits, static_cast<unsigned long long>(id % 10000000000ULL));
    const size_t at = outgoing_.size();
    outgoing_ += template_;
    std::memcpy(outgoing_.data() + at + id_offset_, digits, kIdDigits);
    started_.push_back(Clock::now());
    if (outgoing_deferred_) {
      outgoing_deferred_ = false;
      nghttp2_session_resume_data(session_, stream_id_);
    }
  }

  void WriteAll() {
    for (;;) {
      const uint8_t* data = nullptr;
      const ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) Fail("nghttp2 could not send");
      if (n == 0) return;
      for (ssize_t written = 0; written < n;) {
        const ssize_t w = send(fd_, data + written, static_cast<size_t>(n - written), MSG_NOSIGNAL);
        if (w < 0) Fail(std::string("send: ") + std::strerror(errno));
        written += w;
      }
    }
  }

  // An answer: its latency, then the next request (until the time is up).
  void OnAnswer(const std::string& message) {
    std::string response;
    std::string error;
    if (FindField(message, 1, &error) && !error.empty()) ++errors_;
    std::string id;
    if (!FindField(message, 2, &response) || !FindField(response, 3, &id) || id.size() != kIdDigits) {
      Fail("an answer without the id of its request");
    }
    if (id.find_first_not_of("0123456789") != std::string::npos) Fail("an answer's id is not one this client sent");
    const uint64_t index = std::stoull(id);
    if (index >= started_.size()) Fail("an answer to a request never sent");
    const Clock::time_point now = Clock::now();
    if (started_[index] >= measure_from_ && now < stop_at_) {
      latencies_us_.push_back(std::chrono::duration<double, std::micro>(now - started_[index]).count());
    }
    ++answered_;
    if (now < stop_at_) {
      SendOne();
    } else if (answered_ == sent_) {
      done_ = true;
    }
  }

  static ssize_t ReadRequestBytes(nghttp2_session*, int32_t, uint8_t* buffer, size_t length, uint32_t*,
                                  nghttp2_data_source*, void* user) {
    auto* self = static_cast<PipelinedStream*>(user);
    const size_t n = std::min(length, self->outgoing_.size() - self->outgoing_at_);
    if (n == 0) {
      self->outgoing_deferred_ = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    std::memcpy(buffer, self->outgoing_.data() + self->outgoing_at_, n);
    self->outgoing_at_ += n;
    if (self->outgoing_at_ == self->outgoing_.size()) {
      self->outgoing_.clear();
      self->outgoing_at_ = 0;
    }
    return static_cast<ssize_t>(n);
  }

  static int OnData(nghttp2_session*, uint8_t, int32_t, const uint8_t* data, size_t length, void* user) {
    auto* self = static_cast<PipelinedStream*>(user);
    self->incoming_.append(reinterpret_cast<const char*>(data), length);
    size_t at = 0;
    while (self->incoming_.size() - at >= kPrefixBytes) {
      const auto* p = reinterpret_cast<const uint8_t*>(self->incoming_.data() + at);
      const size_t size = (size_t{p[1]} << 24) | (size_t{p[2]} << 16) | (size_t{p[3]} << 8) | p[4];
      if (self->incoming_.size() - at - kPrefixBytes < size) break;
      self->OnAnswer(self->incoming_.substr(at + kPrefixBytes, size));
      at += kPrefixBytes + size;
    }
    self->incoming_.erase(0, at);
    return 0;
  }

  static int OnHeader(nghttp2_session*, const nghttp2_frame*, const uint8_t* name, size_t name_length,
                      const uint8_t* value, size_t value_length, uint8_t, void* user) {
    auto* self = static_cast<PipelinedStream*>(user);
    const std::string key(reinterpret_cast<const char*>(name), name_length);
    const std::string text(reinterpret_cast<const char*>(value), value_length);
    if ((key == ":status" && text != "200") || (key == "grpc-status" && text != "0")) self->end_reason_ = key + " " + text;
    if (key == "grpc-message") self->end_reason_ += " (" + text + ")";
    return 0;
  }

  static int OnStreamClose(nghttp2_session*, int32_t, uint32_t error_code, void* user) {
    auto* self = static_cast<PipelinedStream*>(user);
    if (!self->done_) {
      Fail("the stream ended before its answers: " +
           (self->end_reason_.empty() ? std::string(nghttp2_http2_strerror(error_code)) : self->end_reason_));
    }
    return 0;
  }

  const Options& options_;
  const std::string template_;
  const size_t id_offset_;  // of the id's digits in template_
  int fd_ = -1;
  nghttp2_session* session_ = nullptr;
  int32_t stream_id_ = -1;
  std::string outgoing_;  // requests queued, not yet taken by nghttp2
  size_t outgoing_at_ = 0;
  bool outgoing_deferred_ = false;
  std::string incoming_;  // answer bytes not yet a whole message
  std::vector<Clock::time_point> started_;  // by request id
  std::vector<double> latencies_us_;
  Clock::time_point start_, measure_from_, stop_at_;
  uint64_t sent_ = 0;
  uint64_t answered_ = 0;
  long long errors_ = 0;
  bool done_ = false;
  std::string end_reason_;
};

Options Parse(int argc, char** argv) {
  Options options;
  if ((argc - 1) % 2 != 0) Fail(std::string("every flag takes a value; ") + argv[argc - 1] + " has none");
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--target") {
      const size_t colon = value.rfind(':');
      if (colon == std::string::npos) Fail("--target wants HOST:PORT");
      options.host = value.substr(0, colon);
      options.port = std::stoi(value.substr(colon + 1));
    } else if (flag == "--body") {
      options.body = value;
    } else if (flag == "--in-flight") {
      options.in_flight = std::stoi(value);
    } else if (flag == "--seconds") {
      options.seconds = std::stod(value);
    } else if (flag == "--warmup-seconds") {
      options.warmup_seconds = std::stod(value);
    } else if (flag == "--token") {
      options.token = value;
    } else {
      Fail("unknown flag " + flag);
    }
  }
  if (options.port == 0 || options.body.empty() || options.in_flight < 1 || options.seconds <= 0) {
    Fail("usage: pipelined_stream_client --target HOST:PORT --body FILE [--in-flight N] [--seconds S]");
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  try {
    options = Parse(argc, argv);
  } catch (const std::logic_error&) {  // std::stoi and friends on text that is not a number
    Fail("--target's port, --in-flight, --seconds and --warmup-seconds want numbers");
  }
  std::ifstream file(options.body, std::ios::binary);
  std::stringstream bytes;
  bytes << file.rdbuf();
  const std::string framed = bytes.str();
  inference::ModelInferRequest request;
  if (framed.size() < kPrefixBytes || !request.ParseFromString(framed.substr(kPrefixBytes))) {
    Fail(options.body + " is not a length-prefixed ModelInferRequest");
  }
  // The id is the one field that changes between requests: it is serialized as a marker of
  // kIdDigits characters, whose offset is found once; SendOne writes each request's digits there.
  const std::string id_marker(kIdDigits, '#');
  request.set_id(id_marker);
  const std::string message = request.SerializeAsString();
  std::string request_template(kPrefixBytes, '\0');
  const auto size = static_cast<uint32_t>(message.size());
  for (int i = 0; i < 4; ++i) request_template[1 + i] = static_cast<char>(size >> (24 - 8 * i));
  request_template += message;
  const size_t id_offset = request_template.find(id_marker);
  PipelinedStream stream(options, request_template, id_offset);
  stream.Run();
  stream.Report();
  return 0;
}
