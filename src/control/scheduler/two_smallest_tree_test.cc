#include "control/scheduler/two_smallest_tree.h"

#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace meridian::scheduler {
namespace {

TEST(TwoSmallestTreeTest, EmptyHasNoSmallest) {
  TwoSmallestTree tree(5);
  EXPECT_EQ(tree.smallest_slot(), TwoSmallestTree::kNoSlot);
  EXPECT_EQ(tree.smallest(), TwoSmallestTree::kEmpty);
  EXPECT_EQ(tree.second_smallest(), TwoSmallestTree::kEmpty);
}

TEST(TwoSmallestTreeTest, EqualValuesGoToTheLowestSlotAndCountTwice) {
  TwoSmallestTree tree(3);
  tree.Set(2, 4.0);
  tree.Set(1, 4.0);
  EXPECT_EQ(tree.smallest_slot(), 1u);
  EXPECT_EQ(tree.smallest(), 4.0);
  EXPECT_EQ(tree.second_smallest(), 4.0);
  tree.Set(1, 9.0);  // a slot's new value replaces its old one
  EXPECT_EQ(tree.smallest_slot(), 2u);
  EXPECT_EQ(tree.second_smallest(), 9.0);
}

TEST(TwoSmallestTreeTest, OneSlot) {
  TwoSmallestTree tree(1);
  tree.Set(0, -1.5);
  EXPECT_EQ(tree.smallest_slot(), 0u);
  EXPECT_EQ(tree.smallest(), -1.5);
  EXPECT_EQ(tree.second_smallest(), TwoSmallestTree::kEmpty);
}

// Against a scan that keeps the first minimum, over random updates with many repeated values.
TEST(TwoSmallestTreeTest, AgreesWithAScanUnderRandomUpdates) {
  for (size_t slots : {2u, 7u, 64u, 1000u}) {
    TwoSmallestTree tree(slots);
    std::vector<double> values(slots, TwoSmallestTree::kEmpty);
    std::mt19937 rng(static_cast<unsigned>(slots));
    for (int step = 0; step < 5000; ++step) {
      const size_t slot = rng() % slots;
      values[slot] = rng() % 5 == 0 ? TwoSmallestTree::kEmpty : static_cast<double>(rng() % 20);
      tree.Set(slot, values[slot]);
      double first = TwoSmallestTree::kEmpty, second = TwoSmallestTree::kEmpty;
      size_t first_slot = TwoSmallestTree::kNoSlot;
      for (size_t i = 0; i < slots; ++i) {
        if (values[i] < first) {
          second = first;
          first = values[i];
          first_slot = i;
        } else if (values[i] < second) {
          second = values[i];
        }
      }
      ASSERT_EQ(tree.smallest_slot(), first_slot) << "slots " << slots << " step " << step;
      ASSERT_EQ(tree.smallest(), first);
      ASSERT_EQ(tree.second_smallest(), second);
    }
  }
}

}  // namespace
}  // namespace meridian::scheduler
