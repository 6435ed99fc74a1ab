// A closed-loop load generator for inference endpoints: N clients, each with its own keep-alive
// connection (REST) or, for gRPC, its own channel and connection (or sharing --grpc-connections
// connections, e.g. 1: a process with one channel), driven asynchronously by --client-threads
// threads (default 1), send the same request back to back for a fixed time. Prints one JSON line:
// {"protocol","concurrency","requests","errors","rejected","rps","p50_us","p95_us","p99_us"}.
//
//   loadgen --protocol json|binary|grpc|grpc-stream --target 127.0.0.1:8080 --model mlp --fixture mlp-onnx
//           --concurrency 8 --seconds 5 [--rows 1] [--token TOKEN] [--client-threads 1]
//           [--grpc-connections N]
//   loadgen --write-grpc-body FILE --model mlp --fixture mlp-onnx [--rows 1]
// "json" and "binary" are OIP v2 REST (POST /v2/models/M/infer); "grpc" is OIP v2 gRPC ModelInfer,
// "grpc-stream" its streaming extension ModelStreamInfer (one stream per client).
// The request is the fixture's first reference row (tests/fixtures/models/F/reference.json).
// --write-grpc-body writes the same unary gRPC request, framed as it travels in an HTTP/2 body,
// and exits: the body for h2load (bench/grpc/multiplexed.sh).

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <limits>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/grpc_predict_v2.grpc.pb.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/write.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using Clock = std::chrono::steady_clock;
using tcp = net::ip::tcp;

struct Options {
  std::string protocol = "binary";
  std::string host = "127.0.0.1";
  std::string port = "8080";
  std::string model = "mlp";
  std::string fixture = "mlp-onnx";
  int concurrency = 1;
  double seconds = 5;
  int rows = 1;
  std::string token;  // sent as a bearer token (REST header, gRPC metadata) when set
  int client_threads = 1;  // threads driving the clients
  int grpc_connections = 0;  // 0: one per client
  std::string write_grpc_body;  // a path: write the framed request there and exit
};

struct Input {
  std::string name, datatype;
  std::vector<int64_t> shape;  // with rows as the first dimension
  std::string bytes;           // little-endian FP32 row data, repeated `rows` times
  std::string json_data;       // the same as a JSON array
};

std::vector<Input> LoadInputs(const Options& o) {
  std::ifstream file(std::string(SOURCE_DIR) + "/tests/fixtures/models/" + o.fixture + "/reference.json");
  std::stringstream text;
  text << file.rdbuf();
  rapidjson::Document doc;
  doc.Parse(text.str().c_str());
  std::vector<Input> inputs;
  for (const auto& t : doc["inputs"].GetArray()) {
    Input input{t["name"].GetString(), t["datatype"].GetString(), {}, {}, {}};
    std::vector<int64_t> shape;
    for (const auto& d : t["shape"].GetArray()) shape.push_back(d.GetInt64());
    int64_t per_row = 1;
    for (size_t i = 1; i < shape.size(); ++i) per_row *= shape[i];
    input.shape = shape;
    input.shape[0] = o.rows;
    const auto& data = t["data"].GetArray();
    std::string json = "[";
    for (int r = 0; r < o.rows; ++r) {
      for (int64_t i = 0; i < per_row; ++i) {
        const float v = static_cast<float>(data[static_cast<rapidjson::SizeType>(i)].GetDouble());
        input.bytes.append(reinterpret_cast<const char*>(&v), 4);
        absl::StrAppend(&json, (r || i) ? "," : "", v);
      }
    }
    input.json_data = json + "]";
    inputs.push_back(std::move(input));
  }
  return inputs;
}

std::string ShapeJson(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) absl::StrAppend(&out, i ? "," : "", shape[i]);
  return out + "]";
}

struct Result {
  std::vector<int64_t> latencies_us;
  int64_t errors = 0;
  int64_t rejected = 0;  // 429 / RESOURCE_EXHAUSTED
};

std::string HttpBody(const Options& o, const std::vector<Input>& inputs, std::string* header_length) {
  const bool binary = o.protocol == "binary";
  std::string json = "{\"inputs\":[";
  std::string tail;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Input& in = inputs[i];
    absl::StrAppend(&json, i ? "," : "", "{\"name\":\"", in.name, "\",\"datatype\":\"", in.datatype,
                    "\",\"shape\":", ShapeJson(in.shape));
    if (binary) {
      absl::StrAppend(&json, ",\"parameters\":{\"binary_data_size\":", in.bytes.size(), "}}");
      tail += in.bytes;
    } else {
      absl::StrAppend(&json, ",\"data\":", in.json_data, "}");
    }
  }
  json += binary ? "],\"parameters\":{\"binary_data_output\":true}}" : "]}";
  *header_length = std::to_string(json.size());
  return json + tail;
}

// One keep-alive connection sending the same request back to back on a shared io_context, so
// that a few threads drive many connections (64 blocking threads would take the CPU the server
// under test needs on a small machine). The request is serialized once and answers are parsed by
// feeding Beast's parser from our own reads: the client's cost per request is CPU taken from the
// server on the same cores, so it is kept to two system calls and a header parse.
class HttpClient : public std::enable_shared_from_this<HttpClient> {
 public:
  HttpClient(net::io_context& io, const tcp::endpoint& endpoint, const std::string& request, Clock::time_point end,
             Result* result)
      : io_(io), endpoint_(endpoint), request_(request), end_(end), result_(result), socket_(io),
        buffer_(64 * 1024, '\0') {}

  void Connect() {
    if (Clock::now() >= end_) return;
    socket_ = tcp::socket(io_);
    held_ = 0;
    socket_.async_connect(endpoint_, [self = shared_from_this()](beast::error_code ec) {
      if (ec) {
        ++self->result_->errors;
        return self->Retry();
      }
      self->socket_.set_option(tcp::no_delay(true));
      self->Send();
    });
  }

 private:
  void Retry() {
    auto timer = std::make_shared<net::steady_timer>(io_, std::chrono::milliseconds(10));
    timer->async_wait([self = shared_from_this(), timer](beast::error_code) { self->Connect(); });
  }

  void Send() {
    if (Clock::now() >= end_) return;
    start_ = Clock::now();
    net::async_write(socket_, net::buffer(request_), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Failed();
      self->parser_.emplace();
      self->parser_->body_limit(std::numeric_limits<uint64_t>::max());
      self->Parse();
    });
  }

  // Feeds what the buffer holds to the parser; reads more until the answer is complete.
  void Parse() {
    size_t used = 0;
    while (used < held_ && !parser_->is_done()) {
      beast::error_code ec;
      const size_t n = parser_->put(net::buffer(buffer_.data() + used, held_ - used), ec);
      if (ec == http::error::need_more) break;
      if (ec) return Failed();
      used += n;
    }
    std::memmove(buffer_.data(), buffer_.data() + used, held_ - used);
    held_ -= used;
    if (parser_->is_done()) return OnResponse();
    if (held_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
    socket_.async_read_some(net::buffer(buffer_.data() + held_, buffer_.size() - held_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->Failed();
                              self->held_ += n;
                              self->Parse();
                            });
  }

  void OnResponse() {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start_).count();
    const unsigned status = parser_->get().result_int();
    if (status == 200) {
      result_->latencies_us.push_back(us);
    } else if (status == 429) {
      ++result_->rejected;
    } else {
      ++result_->errors;
    }
    if (!parser_->get().keep_alive()) return Connect();
    Send();
  }

  void Failed() {
    ++result_->errors;
    Connect();
  }

  net::io_context& io_;
  const tcp::endpoint endpoint_;
  const std::string& request_;
  const Clock::time_point end_;
  Result* result_;
  tcp::socket socket_;
  std::string buffer_;
  size_t held_ = 0;
  std::optional<http::response_parser<http::string_body>> parser_;
  Clock::time_point start_;
};

void RunHttp(const Options& o, const std::vector<Input>& inputs, Clock::time_point end, std::vector<Result>* results) {
  std::string header_length;
  http::request<http::string_body> request{http::verb::post, "/v2/models/" + o.model + "/infer", 11};
  request.body() = HttpBody(o, inputs, &header_length);
  request.set(http::field::host, o.host);
  const bool binary = o.protocol == "binary";
  request.set(http::field::content_type, binary ? "application/octet-stream" : "application/json");
  if (binary) request.set("Inference-Header-Content-Length", header_length);
  if (!o.token.empty()) request.set(http::field::authorization, "Bearer " + o.token);
  request.keep_alive(true);
  request.prepare_payload();
  std::ostringstream serialized;
  serialized << request;
  const std::string wire = serialized.str();

  net::io_context io;
  net::ip::tcp::resolver resolver(io);
  const tcp::endpoint endpoint = *resolver.resolve(o.host, o.port).begin();
  for (Result& result : *results) std::make_shared<HttpClient>(io, endpoint, wire, end, &result)->Connect();
  std::vector<std::thread> threads;
  for (int t = 1; t < o.client_threads; ++t) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (std::thread& thread : threads) thread.join();
}

inference::ModelInferRequest GrpcRequest(const Options& o, const std::vector<Input>& inputs) {
  inference::ModelInferRequest request;
  request.set_model_name(o.model);
  for (const Input& in : inputs) {
    auto* input = request.add_inputs();
    input->set_name(in.name);
    input->set_datatype(in.datatype);
    for (int64_t d : in.shape) input->add_shape(d);
    request.add_raw_input_contents(in.bytes);
  }
  return request;
}

// gRPC's generated client class (protoc names it "Stub"): calls go through it onto its channel.
using InferenceClient = inference::GRPCInferenceService::Stub;

// One client per simulated user, on --grpc-connections connections (default: one per user).
// Channels with the same target and arguments share one connection (gRPC pools subchannels per
// process), so 64 channels would make one HTTP/2 connection; a local pool per channel gives each
// its own.
std::vector<std::shared_ptr<InferenceClient>> GrpcClients(const Options& o, size_t users) {
  const size_t connections = std::min(o.grpc_connections > 0 ? static_cast<size_t>(o.grpc_connections) : users, users);
  std::vector<std::shared_ptr<InferenceClient>> per_connection;
  for (size_t i = 0; i < connections; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    per_connection.push_back(inference::GRPCInferenceService::NewStub(
        grpc::CreateCustomChannel(o.host + ":" + o.port, grpc::InsecureChannelCredentials(), args)));
  }
  std::vector<std::shared_ptr<InferenceClient>> per_user;
  for (size_t i = 0; i < users; ++i) per_user.push_back(per_connection[i % connections]);
  return per_user;
}

// Runs drive(first, step) on --client-threads threads, each driving every step-th client.
void OnClientThreads(const Options& o, const std::function<void(size_t, size_t)>& drive) {
  std::vector<std::thread> threads;
  const size_t count = static_cast<size_t>(o.client_threads);
  for (size_t t = 1; t < count; ++t) threads.emplace_back(drive, t, count);
  drive(0, count);
  for (std::thread& thread : threads) thread.join();
}

// Unary gRPC clients, driven asynchronously through one completion queue per client thread (a
// blocking thread per client took more CPU than the server it measured).
void RunGrpc(const Options& o, const std::vector<Input>& inputs, Clock::time_point end, std::vector<Result>* results) {
  const inference::ModelInferRequest request = GrpcRequest(o, inputs);
  struct Call {
    grpc::ClientContext context;
    inference::ModelInferResponse response;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<inference::ModelInferResponse>> reader;
    Clock::time_point start;
    size_t client = 0;
  };
  const auto clients = GrpcClients(o, results->size());
  auto drive = [&](size_t first, size_t step) {
    grpc::CompletionQueue queue;
    size_t in_flight = 0;
    auto start = [&](size_t client) {
      if (Clock::now() >= end) return;
      auto* call = new Call;
      call->client = client;
      if (!o.token.empty()) call->context.AddMetadata("authorization", "Bearer " + o.token);
      call->start = Clock::now();
      call->reader = clients[client]->AsyncModelInfer(&call->context, request, &queue);
      call->reader->Finish(&call->response, &call->status, call);
      ++in_flight;
    };
    for (size_t client = first; client < results->size(); client += step) start(client);
    void* tag = nullptr;
    bool ok = false;
    while (in_flight > 0 && queue.Next(&tag, &ok)) {
      std::unique_ptr<Call> call(static_cast<Call*>(tag));
      --in_flight;
      Result& result = (*results)[call->client];
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - call->start).count();
      if (ok && call->status.ok()) {
        result.latencies_us.push_back(us);
      } else if (call->status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
        ++result.rejected;
      } else {
        ++result.errors;
      }
      start(call->client);
    }
    queue.Shutdown();
    while (queue.Next(&tag, &ok)) {
    }
  };
  OnClientThreads(o, drive);
}

// ModelStreamInfer clients: each keeps one stream open and sends its next request when the answer
// to the last has come (and its write completed), through one completion queue per client thread.
void RunGrpcStream(const Options& o, const std::vector<Input>& inputs, Clock::time_point end,
                   std::vector<Result>* results) {
  const inference::ModelInferRequest request = GrpcRequest(o, inputs);
  const auto grpc_clients = GrpcClients(o, results->size());
  struct User;
  enum class Step { kStarted, kWritten, kAnswered, kClosed, kFinished };
  struct Tag {
    User* user;
    Step step;
  };
  struct User {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientAsyncReaderWriter<inference::ModelInferRequest, inference::ModelStreamInferResponse>> stream;
    inference::ModelStreamInferResponse answer;
    grpc::Status status;
    Clock::time_point start;
    size_t index = 0;
    int waiting = 0;  // of this request's write and read
    bool failed = false;
    Tag started{this, Step::kStarted}, written{this, Step::kWritten}, answered{this, Step::kAnswered},
        closed{this, Step::kClosed}, finished{this, Step::kFinished};
  };
  auto drive = [&](size_t first, size_t step) {
    grpc::CompletionQueue queue;
    std::vector<std::unique_ptr<User>> users;
    for (size_t i = first; i < results->size(); i += step) {
      auto user = std::make_unique<User>();
      user->index = i;
      if (!o.token.empty()) user->context.AddMetadata("authorization", "Bearer " + o.token);
      user->stream = grpc_clients[i]->AsyncModelStreamInfer(&user->context, &queue, &user->started);
      users.push_back(std::move(user));
    }
    auto send = [&](User* c) {
      c->start = Clock::now();
      c->waiting = 2;
      c->stream->Write(request, &c->written);
      c->stream->Read(&c->answer, &c->answered);
    };
    size_t open = users.size();
    void* raw = nullptr;
    bool ok = false;
    while (open > 0 && queue.Next(&raw, &ok)) {
      Tag* tag = static_cast<Tag*>(raw);
      User* c = tag->user;
      Result& result = (*results)[c->index];
      switch (tag->step) {
        case Step::kStarted:
          if (!ok) {
            ++result.errors;
            c->stream->Finish(&c->status, &c->finished);
          } else {
            send(c);
          }
          break;
        case Step::kWritten:
        case Step::kAnswered:
          c->failed = c->failed || !ok;
          if (--c->waiting > 0) break;
          if (c->failed) {
            ++result.errors;
            c->stream->Finish(&c->status, &c->finished);
            break;
          }
          if (c->answer.error_message().empty()) {
            result.latencies_us.push_back(
                std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - c->start).count());
          } else {
            ++result.errors;
          }
          if (Clock::now() < end) {
            send(c);
          } else {
            c->stream->WritesDone(&c->closed);
          }
          break;
        case Step::kClosed:
          c->stream->Finish(&c->status, &c->finished);
          break;
        case Step::kFinished:
          --open;
          break;
      }
    }
    queue.Shutdown();
    while (queue.Next(&raw, &ok)) {
    }
  };
  OnClientThreads(o, drive);
}

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--protocol") o.protocol = value;
    else if (flag == "--target") {
      o.host = value.substr(0, value.rfind(':'));
      o.port = value.substr(value.rfind(':') + 1);
    } else if (flag == "--model") o.model = value;
    else if (flag == "--fixture") o.fixture = value;
    else if (flag == "--concurrency") o.concurrency = std::stoi(value);
    else if (flag == "--seconds") o.seconds = std::stod(value);
    else if (flag == "--rows") o.rows = std::stoi(value);
    else if (flag == "--token") o.token = value;
    else if (flag == "--client-threads") o.client_threads = std::max(1, std::stoi(value));
    else if (flag == "--grpc-connections") o.grpc_connections = std::max(1, std::stoi(value));
    else if (flag == "--write-grpc-body") o.write_grpc_body = value;
    else {
      std::cerr << "unknown flag " << flag << "\n";
      return 2;
    }
  }
  const std::vector<Input> inputs = LoadInputs(o);
  if (!o.write_grpc_body.empty()) {
    const std::string message = GrpcRequest(o, inputs).SerializeAsString();
    const uint32_t size = static_cast<uint32_t>(message.size());
    const char prefix[5] = {0, static_cast<char>(size >> 24), static_cast<char>(size >> 16), static_cast<char>(size >> 8),
                            static_cast<char>(size)};  // not compressed, then the length, big-endian
    std::ofstream out(o.write_grpc_body, std::ios::binary);
    out.write(prefix, sizeof prefix).write(message.data(), static_cast<std::streamsize>(message.size()));
    return out ? 0 : 1;
  }
  std::vector<Result> results(static_cast<size_t>(o.concurrency));
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  if (o.protocol == "grpc") {
    RunGrpc(o, inputs, end, &results);
  } else if (o.protocol == "grpc-stream") {
    RunGrpcStream(o, inputs, end, &results);
  } else {
    RunHttp(o, inputs, end, &results);
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<int64_t> all;
  int64_t errors = 0, rejected = 0;
  for (auto& r : results) {
    all.insert(all.end(), r.latencies_us.begin(), r.latencies_us.end());
    errors += r.errors;
    rejected += r.rejected;
  }
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0 : all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))]; };
  std::printf(
      "{\"protocol\":\"%s\",\"concurrency\":%d,\"rows\":%d,\"requests\":%zu,\"errors\":%lld,\"rejected\":%lld,"
      "\"rps\":%.1f,\"p50_us\":%lld,\"p95_us\":%lld,\"p99_us\":%lld}\n",
      o.protocol.c_str(), o.concurrency, o.rows, all.size(), static_cast<long long>(errors),
      static_cast<long long>(rejected), all.size() / elapsed, static_cast<long long>(pct(0.50)),
      static_cast<long long>(pct(0.95)), static_cast<long long>(pct(0.99)));
  return 0;
}
