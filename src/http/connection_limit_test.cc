#include "http/connection_limit.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace meridian::http {
namespace {

TEST(ConnectionLimitTest, GivesSlotsUpToTheLimitRefusesMoreAndTakesThemBack) {
  std::shared_ptr<ConnectionLimit> limit = ConnectionLimit::Create(2);
  std::optional<ConnectionLimit::Slot> first = limit->TryTake();
  std::optional<ConnectionLimit::Slot> second = limit->TryTake();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(limit->open(), 2u);
  EXPECT_FALSE(limit->TryTake());
  EXPECT_FALSE(limit->TryTake());
  EXPECT_EQ(limit->refused(), 2u);
  EXPECT_EQ(limit->open(), 2u);  // a refusal holds nothing

  first.reset();  // its connection is gone
  EXPECT_EQ(limit->open(), 1u);
  std::optional<ConnectionLimit::Slot> third = limit->TryTake();
  EXPECT_TRUE(third);
  EXPECT_EQ(limit->open(), 2u);
  EXPECT_EQ(limit->refused(), 2u);
}

TEST(ConnectionLimitTest, AMovedSlotIsGivenBackOnceByWhoeverHoldsItLast) {
  std::shared_ptr<ConnectionLimit> limit = ConnectionLimit::Create(3);
  {
    ConnectionLimit::Slot held = *limit->TryTake();
    ConnectionLimit::Slot moved(std::move(held));
    EXPECT_EQ(limit->open(), 1u);
    ConnectionLimit::Slot other = *limit->TryTake();
    EXPECT_EQ(limit->open(), 2u);
    other = std::move(moved);  // `other` gives its own back and holds the moved one
    EXPECT_EQ(limit->open(), 1u);
    other = ConnectionLimit::Slot();  // an empty slot holds nothing
    EXPECT_EQ(limit->open(), 0u);
    ConnectionLimit::Slot kept = *limit->TryTake();
    EXPECT_EQ(limit->open(), 1u);
  }
  EXPECT_EQ(limit->open(), 0u);
}

TEST(ConnectionLimitTest, ASlotKeepsItsLimitAliveAfterEveryOtherOwnerHasLetGo) {
  std::shared_ptr<ConnectionLimit> limit = ConnectionLimit::Create(1);
  std::weak_ptr<ConnectionLimit> watch = limit;
  std::optional<ConnectionLimit::Slot> slot = limit->TryTake();
  ASSERT_TRUE(slot);
  limit.reset();  // the server that held the limit is gone; its connection is not
  EXPECT_FALSE(watch.expired());
  slot.reset();  // gives its place back to a limit still alive (ASan would see a freed one)
  EXPECT_TRUE(watch.expired());
}

TEST(ConnectionLimitTest, ZeroCountsConnectionsWithoutRefusingAny) {
  std::shared_ptr<ConnectionLimit> limit = ConnectionLimit::Create(0);
  std::vector<ConnectionLimit::Slot> slots;
  for (int i = 0; i < 10000; ++i) {
    std::optional<ConnectionLimit::Slot> slot = limit->TryTake();
    ASSERT_TRUE(slot) << i;
    slots.push_back(*std::move(slot));
  }
  EXPECT_EQ(limit->open(), 10000u);
  EXPECT_EQ(limit->refused(), 0u);
  slots.clear();
  EXPECT_EQ(limit->open(), 0u);
}

TEST(ConnectionLimitTest, ThreadsTakingAtOnceNeverHoldMoreThanTheLimit) {
  constexpr uint64_t kLimit = 3;
  std::shared_ptr<ConnectionLimit> limit = ConnectionLimit::Create(kLimit);
  std::atomic<uint64_t> holding{0};
  std::atomic<uint64_t> most{0};
  std::atomic<uint64_t> taken{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        std::optional<ConnectionLimit::Slot> slot = limit->TryTake();
        if (!slot) continue;
        taken.fetch_add(1);
        const uint64_t now = holding.fetch_add(1) + 1;
        uint64_t seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::yield();  // hold it a while, so that the threads overlap
        holding.fetch_sub(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_LE(most.load(), kLimit);
  EXPECT_EQ(taken.load() + limit->refused(), 4u * 20000u);
  EXPECT_EQ(limit->open(), 0u);
}

}  // namespace
}  // namespace meridian::http
