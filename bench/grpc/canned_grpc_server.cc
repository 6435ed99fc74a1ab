// The gRPC library's own ceiling for bench/serving: gRPC 1.51's callback server answering every
// ModelInfer with the canned MLP response at once, on gRPC's thread (no inference, no hand-off).
// Against Meridian's gRPC endpoint it shows what serving adds; against canned_h2_grpc_server, what
// gRPC's core costs over a lean HTTP/2 transport.
//
// Usage: canned_grpc_server PORT

#include <cstdlib>
#include <iostream>
#include <string>

#include <grpcpp/grpcpp.h>

#include "api/grpc_predict_v2.grpc.pb.h"
#include "bench/grpc/canned_response.h"

class CannedService final : public inference::GRPCInferenceService::CallbackService {
  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* context, const inference::ModelInferRequest*,
                                       inference::ModelInferResponse* response) override {
    static const inference::ModelInferResponse canned = CannedInferResponse();
    *response = canned;
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " PORT\n";
    return 2;
  }
  CannedService service;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(std::string("127.0.0.1:") + argv[1], grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  if (!server) return 1;
  server->Wait();
  return 0;
}
