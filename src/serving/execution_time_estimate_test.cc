#include "serving/execution_time_estimate.h"

#include "gtest/gtest.h"

namespace meridian::serving {
namespace {

TEST(ExecutionTimeEstimateTest, TheFirstSampleAndEveryQuickerOneAreTakenAtOnce) {
  ExecutionTimeEstimate estimate;
  EXPECT_EQ(estimate.ns_per_kib(), 0);
  estimate.Add(1000);
  EXPECT_EQ(estimate.ns_per_kib(), 1000);
  estimate.Add(400);
  EXPECT_EQ(estimate.ns_per_kib(), 400);
}

TEST(ExecutionTimeEstimateTest, ASlowerSampleMovesItOnlyASixteenthOfTheWay) {
  ExecutionTimeEstimate estimate;
  estimate.Add(1000);
  estimate.Add(2600);  // preempted, say
  EXPECT_EQ(estimate.ns_per_kib(), 1100);
  // Executions measured twice as slow now and then (the instances' share of a busy machine)
  // leave it near the quick ones, where an average would rise by a third.
  for (int i = 0; i < 8; ++i) {
    estimate.Add(1000);
    estimate.Add(2000);
  }
  EXPECT_LT(estimate.ns_per_kib(), 1100);
}

TEST(ExecutionTimeEstimateTest, AModelThatBecameSlowerIsFollowed) {
  ExecutionTimeEstimate estimate;
  estimate.Add(1000);
  for (int i = 0; i < 64; ++i) estimate.Add(10000);
  EXPECT_GT(estimate.ns_per_kib(), 9000);
  EXPECT_LE(estimate.ns_per_kib(), 10000);
}

}  // namespace
}  // namespace meridian::serving
