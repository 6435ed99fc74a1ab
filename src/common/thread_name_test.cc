#include "common/thread_name.h"

#include <thread>

#include "gtest/gtest.h"

namespace meridian {
namespace {

TEST(ThreadNameTest, NamesTheCallingThreadAndCutsLongNames) {
  std::string short_name, long_name;
  std::thread([&] {
    NameThisThread("http-io");
    short_name = ThisThreadName();
    NameThisThread("instance:a-model-with-a-long-name");
    long_name = ThisThreadName();
  }).join();
  EXPECT_EQ(short_name, "http-io");
  EXPECT_EQ(long_name, "instance:a-mode");  // 15 bytes
}

}  // namespace
}  // namespace meridian
