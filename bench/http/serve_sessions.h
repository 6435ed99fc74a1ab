#pragma once

// The accept loop the bench/http baseline servers share: listens on 127.0.0.1:PORT, hands each
// connection to a Session (constructed from the socket, started with Read()) on one of THREADS
// io_contexts in turn, as Meridian's server does, and runs until killed.
//
// Usage of a server built on it: NAME PORT THREADS

#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"

template <class Session>
int ServeSessions(int argc, char** argv) {
  namespace net = boost::asio;
  using tcp = net::ip::tcp;
  if (argc != 3) {
    std::cerr << "usage: " << argv[0] << " PORT THREADS\n";
    return 2;
  }
  const auto port = static_cast<unsigned short>(std::atoi(argv[1]));
  const int threads = std::max(1, std::atoi(argv[2]));
  std::vector<std::unique_ptr<net::io_context>> contexts;
  for (int i = 0; i < threads; ++i) contexts.push_back(std::make_unique<net::io_context>(1));
  tcp::acceptor acceptor(*contexts[0], tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  size_t next = 0;
  std::function<void()> accept = [&] {
    acceptor.async_accept(*contexts[next++ % contexts.size()], [&](boost::system::error_code ec, tcp::socket socket) {
      if (!ec) {
        socket.set_option(tcp::no_delay(true));
        auto executor = socket.get_executor();
        auto session = std::make_shared<Session>(std::move(socket));
        net::post(executor, [session] { session->Read(); });
      }
      accept();
    });
  };
  accept();
  std::vector<std::thread> pool;
  for (auto& context : contexts) {
    pool.emplace_back([&context] {
      auto guard = net::make_work_guard(*context);
      context->run();
    });
  }
  for (auto& thread : pool) thread.join();
  return 0;
}
