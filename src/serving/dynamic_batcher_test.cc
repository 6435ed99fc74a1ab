#include "serving/dynamic_batcher.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <map>
#include <thread>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"

namespace meridian::serving {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

// Adds one to every FP32 element; a NaN input makes the whole execution fail (a poisoned
// request); records the rows of each execution; can hold executions until released.
class FakeRecordingModel final : public LoadedModel {
 public:
  explicit FakeRecordingModel(Shape input_shape = {-1, 2})
      : signature_{.inputs = {{"x", DataType::kFp32, input_shape}}, .outputs = {{"y", DataType::kFp32, input_shape}}} {}
  const ModelSignature& signature() const override { return signature_; }
  absl::StatusOr<std::vector<Tensor>> Execute(const std::vector<Tensor>& inputs, const std::vector<std::string>&) override {
    if (entered_ != nullptr) entered_->DecrementCount();
    if (gate_ != nullptr) gate_->WaitForNotification();
    if (delay_ > absl::ZeroDuration()) absl::SleepFor(delay_);
    {
      absl::MutexLock lock(&mutex_);
      threads_.push_back(std::this_thread::get_id());
      executions_.push_back(inputs[0].shape().empty() ? 1 : inputs[0].shape()[0]);
      first_values_.push_back(inputs[0].byte_size() >= 4 ? inputs[0].At<float>(0) : 0);
    }
    std::string out(inputs[0].bytes());
    for (size_t i = 0; i < out.size() / 4; ++i) {
      float v = inputs[0].At<float>(static_cast<int64_t>(i));
      if (std::isnan(v)) return absl::InvalidArgumentError("poisoned input");
      v += 1;
      std::memcpy(out.data() + i * 4, &v, 4);
    }
    return std::vector<Tensor>{Tensor::Owned("y", DataType::kFp32, inputs[0].shape(), out)};
  }
  std::vector<int64_t> executions() {
    absl::MutexLock lock(&mutex_);
    return executions_;
  }
  std::vector<float> first_values() {
    absl::MutexLock lock(&mutex_);
    return first_values_;
  }
  // The thread each execution ran on.
  std::vector<std::thread::id> threads() {
    absl::MutexLock lock(&mutex_);
    return threads_;
  }
  absl::Notification* gate_ = nullptr;
  absl::BlockingCounter* entered_ = nullptr;  // counted down as each execution starts
  absl::Duration delay_;

 private:
  ModelSignature signature_;
  absl::Mutex mutex_;
  std::vector<int64_t> executions_ ABSL_GUARDED_BY(mutex_);
  std::vector<float> first_values_ ABSL_GUARDED_BY(mutex_);
  std::vector<std::thread::id> threads_ ABSL_GUARDED_BY(mutex_);
};

InferenceRequest Request(std::vector<float> values, Shape shape, Parameters parameters = {}) {
  InferenceRequest request;
  request.parameters = std::move(parameters);
  request.inputs.push_back(Tensor::Owned("x", DataType::kFp32, std::move(shape),
                                         std::string(reinterpret_cast<const char*>(values.data()), values.size() * 4)));
  return request;
}

// Collects answers in the order they arrive.
struct Answers {
  absl::Mutex mutex;
  std::vector<std::pair<int, absl::StatusOr<InferenceResponse>>> got ABSL_GUARDED_BY(mutex);
  InferenceCallback For(int tag) {
    return [this, tag](absl::StatusOr<InferenceResponse> r) {
      absl::MutexLock lock(&mutex);
      got.emplace_back(tag, std::move(r));
    };
  }
  void WaitFor(size_t n) {
    std::pair<Answers*, size_t> wanted(this, n);
    absl::MutexLock lock(&mutex);
    mutex.Await(absl::Condition(
        +[](std::pair<Answers*, size_t>* a) ABSL_NO_THREAD_SAFETY_ANALYSIS { return a->first->got.size() >= a->second; },
        &wanted));
  }
};

absl::Status Enqueue(DynamicBatcher& batcher, InferenceRequest request, InferenceCallback done) {
  return batcher.Enqueue(std::move(request), std::move(done), absl::Now());
}

TEST(DynamicBatcherTest, FormsBatchesUpToTheMaximumAndSplitsAnswers) {
  FakeRecordingModel model;
  absl::Notification gate;
  model.gate_ = &gate;
  Answers answers;
  {
    DynamicBatcher batcher({.config = {.max_batch_size = 4, .max_queue_delay = absl::Milliseconds(50)}, .model = &model});
    // The first request occupies the instance; the next eight queue up behind it.
    ASSERT_TRUE(Enqueue(batcher, Request({0, 0}, {1, 2}), answers.For(0)).ok());
    absl::SleepFor(absl::Milliseconds(120));  // past its batching delay: it executes alone
    for (int i = 1; i <= 8; ++i) ASSERT_TRUE(Enqueue(batcher, Request({float(i), float(i)}, {1, 2}), answers.For(i)).ok());
    gate.Notify();
    answers.WaitFor(9);
  }
  EXPECT_THAT(model.executions(), ElementsAre(1, 4, 4));
  absl::MutexLock lock(&answers.mutex);
  for (auto& [tag, response] : answers.got) {
    ASSERT_TRUE(response.ok()) << response.status();
    ASSERT_EQ(response->outputs[0].shape(), (Shape{1, 2}));
    EXPECT_FLOAT_EQ(response->outputs[0].At<float>(0), tag + 1.0f) << "request " << tag << " got another's answer";
  }
}

TEST(DynamicBatcherTest, APreferredSizeGoesWithoutWaitingAndAPartialBatchAfterTheDelay) {
  FakeRecordingModel model;
  Answers answers;
  DynamicBatcher batcher({.config = {.max_batch_size = 8, .preferred_batch_sizes = {2},
                                     .max_queue_delay = absl::Milliseconds(1000)},
                          .model = &model});
  const absl::Time start = absl::Now();
  ASSERT_TRUE(Enqueue(batcher, Request({1, 1}, {1, 2}), answers.For(1)).ok());
  ASSERT_TRUE(Enqueue(batcher, Request({2, 2}, {1, 2}), answers.For(2)).ok());
  answers.WaitFor(2);
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(800));  // did not wait out the delay
  ASSERT_TRUE(Enqueue(batcher, Request({3, 3, 4, 4, 5, 5}, {3, 2}), answers.For(3)).ok());
  answers.WaitFor(3);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(1000));  // three rows: waited for more
  EXPECT_THAT(model.executions(), ElementsAre(2, 3));
}

TEST(DynamicBatcherTest, AFullBatchGoesAsSoonAsItsLastRowArrives) {
  FakeRecordingModel model;
  Answers answers;
  DynamicBatcher batcher({.config = {.max_batch_size = 4, .max_queue_delay = absl::Seconds(5)}, .model = &model});
  const absl::Time start = absl::Now();
  // The instance is already waiting for the batch to fill when each later row arrives.
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(Enqueue(batcher, Request({float(i), float(i)}, {1, 2}), answers.For(i)).ok());
    absl::SleepFor(absl::Milliseconds(20));
  }
  answers.WaitFor(4);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2)) << "the full batch waited for the queue delay";
  EXPECT_THAT(model.executions(), ElementsAre(4));
}

// Requests of 3 rows never make a batch of exactly 4: a batch goes as soon as a compatible request
// that does not fit is queued behind it, not after the queue delay (found with 64 requests of 3
// rows pipelined on one gRPC stream, which waited out a 30 s delay with 192 rows queued).
TEST(DynamicBatcherTest, ABatchGoesAtOnceWhenTheNextRequestDoesNotFitInIt) {
  FakeRecordingModel model;
  Answers answers;
  DynamicBatcher batcher({.config = {.max_batch_size = 4, .max_queue_delay = absl::Seconds(5)}, .model = &model});
  const absl::Time start = absl::Now();
  ASSERT_TRUE(Enqueue(batcher, Request({1, 1, 1, 1, 1, 1}, {3, 2}), answers.For(1)).ok());
  ASSERT_TRUE(Enqueue(batcher, Request({2, 2, 2, 2, 2, 2}, {3, 2}), answers.For(2)).ok());
  answers.WaitFor(1);  // the first alone: the second does not fit beside it
  // The second's batch has room for one row: a row completes it.
  ASSERT_TRUE(Enqueue(batcher, Request({3, 3}, {1, 2}), answers.For(3)).ok());
  answers.WaitFor(3);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2)) << "a batch waited for the queue delay";
  EXPECT_THAT(model.executions(), ElementsAre(3, 4));
  absl::MutexLock lock(&answers.mutex);
  for (auto& [tag, response] : answers.got) {
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_FLOAT_EQ(response->outputs[0].At<float>(0), tag + 1.0f);
  }
}

TEST(DynamicBatcherTest, WithoutAQueueDelayBatchesAreWhatQueuedWhileTheInstanceWasBusy) {
  // maxQueueDelay 0: nothing waits for rows to come, yet requests that arrive while the instance
  // executes go together in its next execution, so batches grow with the load by themselves.
  FakeRecordingModel model;
  absl::Notification gate;
  model.gate_ = &gate;
  absl::BlockingCounter first_started(1);
  model.entered_ = &first_started;
  Answers answers;
  {
    DynamicBatcher batcher({.config = {.max_batch_size = 8, .max_queue_delay = absl::ZeroDuration()}, .model = &model});
    ASSERT_TRUE(Enqueue(batcher, Request({0, 0}, {1, 2}), answers.For(0)).ok());
    first_started.Wait();  // the instance took it alone and waits at the gate
    model.entered_ = nullptr;  // the next execution starts only after the gate opens below
    for (int i = 1; i <= 5; ++i) ASSERT_TRUE(Enqueue(batcher, Request({float(i), float(i)}, {1, 2}), answers.For(i)).ok());
    gate.Notify();
    answers.WaitFor(6);
  }
  EXPECT_THAT(model.executions(), ElementsAre(1, 5));
}

TEST(DynamicBatcherTest, AHigherPriorityBatchIsNotHeldBehindALowerOneFilling) {
  FakeRecordingModel model;
  Answers answers;
  DynamicBatcher batcher({.config = {.max_batch_size = 8, .preferred_batch_sizes = {2},
                                     .max_queue_delay = absl::Seconds(5), .priority_levels = 2, .default_priority = 2},
                          .model = &model});
  const absl::Time start = absl::Now();
  // Three low-priority rows: past the preferred size, so the instance waits for 8.
  ASSERT_TRUE(Enqueue(batcher, Request({1, 1, 1, 1, 1, 1}, {3, 2}), answers.For(1)).ok());
  absl::SleepFor(absl::Milliseconds(50));
  // Two high-priority rows: a preferred size, though all queued rows (5) are still short of the 8
  // the low batch waits for.
  ASSERT_TRUE(Enqueue(batcher, Request({2, 2, 3, 3}, {2, 2}, {{"priority", int64_t{1}}}), answers.For(2)).ok());
  answers.WaitFor(1);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2)) << "the high-priority batch waited behind the low one";
  absl::MutexLock lock(&answers.mutex);
  EXPECT_EQ(answers.got[0].first, 2);
}

TEST(DynamicBatcherTest, DifferentNonBatchShapesAreNotMixed) {
  FakeRecordingModel model({-1, -1});
  absl::Notification gate;
  model.gate_ = &gate;
  Answers answers;
  {
    DynamicBatcher batcher({.config = {.max_batch_size = 8, .max_queue_delay = absl::Milliseconds(20)}, .model = &model});
    ASSERT_TRUE(Enqueue(batcher, Request({0, 0}, {1, 2}), answers.For(0)).ok());
    absl::SleepFor(absl::Milliseconds(80));
    ASSERT_TRUE(Enqueue(batcher, Request({1, 1}, {1, 2}), answers.For(1)).ok());
    ASSERT_TRUE(Enqueue(batcher, Request({2, 2, 2}, {1, 3}), answers.For(2)).ok());
    ASSERT_TRUE(Enqueue(batcher, Request({3, 3}, {1, 2}), answers.For(3)).ok());
    gate.Notify();
    answers.WaitFor(4);
  }
  // The second batch was taken from around the odd one out, which stayed queued for the third.
  EXPECT_THAT(model.executions(), ElementsAre(1, 2, 1));
  EXPECT_THAT(model.first_values(), ElementsAre(0, 1, 2));
  absl::MutexLock lock(&answers.mutex);
  for (auto& [tag, response] : answers.got) {
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->outputs[0].shape(), (Shape{1, tag == 2 ? 3 : 2}));
    EXPECT_FLOAT_EQ(response->outputs[0].At<float>(0), tag + 1.0f) << "request " << tag << " got another's answer";
  }
}

TEST(DynamicBatcherTest, RequestsWithOtherInputNamesDatatypesOrRequestedOutputsAreNotMixed) {
  FakeRecordingModel model;
  absl::Notification gate;
  model.gate_ = &gate;
  Answers answers;
  auto with_input = [](float value, const std::string& name, DataType type) {
    InferenceRequest request = Request({value, value}, {1, 2});
    request.inputs[0] = Tensor::Owned(name, type, {1, 2}, std::string(request.inputs[0].bytes()));
    return request;
  };
  InferenceRequest asks_for_y = Request({2, 2}, {1, 2});
  asks_for_y.outputs.push_back({.name = "y"});
  {
    DynamicBatcher batcher({.config = {.max_batch_size = 8, .max_queue_delay = absl::Milliseconds(20)}, .model = &model});
    ASSERT_TRUE(Enqueue(batcher, Request({0, 0}, {1, 2}), answers.For(0)).ok());
    absl::SleepFor(absl::Milliseconds(80));  // the instance holds request 0 at the gate
    ASSERT_TRUE(Enqueue(batcher, Request({1, 1}, {1, 2}), answers.For(1)).ok());
    ASSERT_TRUE(Enqueue(batcher, std::move(asks_for_y), answers.For(2)).ok());
    ASSERT_TRUE(Enqueue(batcher, with_input(3, "z", DataType::kFp32), answers.For(3)).ok());
    ASSERT_TRUE(Enqueue(batcher, with_input(4, "x", DataType::kInt32), answers.For(4)).ok());
    ASSERT_TRUE(Enqueue(batcher, Request({5, 5}, {1, 2}), answers.For(5)).ok());
    gate.Notify();
    answers.WaitFor(6);
  }
  // Only the two plain requests shared an execution; the others each ran alone, in arrival order.
  EXPECT_THAT(model.executions(), ElementsAre(1, 2, 1, 1, 1));
  EXPECT_THAT(model.first_values(), ElementsAre(0, 1, 2, 3, 4));
}

TEST(DynamicBatcherTest, AnInstanceWhosePriorityAnotherEmptiedTurnsToTheLowerOne) {
  FakeRecordingModel model;
  absl::Notification gate;
  model.gate_ = &gate;
  absl::BlockingCounter entered(2);
  model.entered_ = &entered;
  Answers answers;
  {
    DynamicBatcher batcher({.config = {.max_batch_size = 4, .max_queue_delay = absl::Seconds(2), .priority_levels = 2,
                                       .default_priority = 2, .instances = 2},
                            .model = &model});
    const absl::Time start = absl::Now();
    // A low-priority row, due at 2 s; both instances wait for its batch to fill.
    ASSERT_TRUE(Enqueue(batcher, Request({1, 1}, {1, 2}), answers.For(1)).ok());
    absl::SleepFor(absl::Seconds(1));
    // High-priority rows: both instances turn to them (due at 3 s); a fourth fills a batch, which
    // one instance takes and executes (held at the gate).
    ASSERT_TRUE(Enqueue(batcher, Request({2, 2, 2, 2, 2, 2}, {3, 2}, {{"priority", int64_t{1}}}), answers.For(2)).ok());
    absl::SleepFor(absl::Milliseconds(100));
    ASSERT_TRUE(Enqueue(batcher, Request({3, 3}, {1, 2}, {{"priority", int64_t{1}}}), answers.For(3)).ok());
    // The other instance, left waiting on an empty priority, turns back to the low row at its own
    // time, not at the high rows' 3 s.
    entered.Wait();
    EXPECT_LT(absl::Now() - start, absl::Milliseconds(2800)) << "the low row waited out the high rows' delay";
    gate.Notify();
    answers.WaitFor(3);
  }
  // Both were held at the gate, so either may be recorded first.
  EXPECT_THAT(model.executions(), UnorderedElementsAre(4, 1));
}

TEST(DynamicBatcherTest, ARequestArrivingWhileAnInstanceWatchesTheEmptyQueueComesDueAtItsOwnTime) {
  // After a batch, the instance watches the empty queue on a timer of one delay instead of waiting
  // to be woken. A request arriving halfway through that watch is neither taken when the watch
  // ends (before its delay is out) nor left beyond its delay.
  FakeRecordingModel model;
  Answers answers;
  const absl::Duration delay = absl::Milliseconds(400);
  DynamicBatcher batcher({.config = {.max_batch_size = 4, .max_queue_delay = delay}, .model = &model});
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Enqueue(batcher, Request({1, 1}, {1, 2}), answers.For(i)).ok());
  answers.WaitFor(4);  // a full batch: the watch begins about now
  absl::SleepFor(delay / 2);
  const absl::Time arrival = absl::Now();
  ASSERT_TRUE(Enqueue(batcher, Request({2, 2}, {1, 2}), answers.For(4)).ok());
  answers.WaitFor(5);
  const absl::Duration waited = absl::Now() - arrival;
  EXPECT_GE(waited, delay) << "taken when the watch ended, before its own delay was out";
  EXPECT_LT(waited, delay + absl::Milliseconds(300)) << "left waiting past its delay";
  EXPECT_THAT(model.executions(), ElementsAre(4, 1));
}

TEST(DynamicBatcherTest, ManyThreadsSubmittingAtOnceHaveEveryRequestAnswered) {
  // Instances waiting in every way (watching a filling batch, watching the empty queue, idle) while
  // four threads submit requests of one to three rows at two priorities: none is left unlooked-at.
  FakeRecordingModel model;
  Answers answers;
  constexpr int kThreads = 4;
  constexpr int kEach = 400;
  {
    DynamicBatcher batcher({.config = {.max_batch_size = 8, .preferred_batch_sizes = {4},
                                       .max_queue_delay = absl::Microseconds(300), .max_queue_size = kThreads * kEach,
                                       .priority_levels = 2, .default_priority = 2, .instances = 2},
                            .model = &model});
    std::vector<std::thread> submitters;
    for (int t = 0; t < kThreads; ++t) {
      submitters.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          const int tag = t * kEach + i;
          const int rows = 1 + tag % 3;
          Parameters priority{{"priority", int64_t{1 + tag % 2}}};
          ASSERT_TRUE(Enqueue(batcher, Request(std::vector<float>(rows * 2, float(tag)), {rows, 2}, priority),
                              answers.For(tag))
                          .ok());
          if (i % 50 == 0) absl::SleepFor(absl::Milliseconds(2));  // let the queue drain now and then
        }
      });
    }
    for (std::thread& submitter : submitters) submitter.join();
    std::pair<Answers*, size_t> wanted(&answers, kThreads * kEach);
    absl::MutexLock lock(&answers.mutex);
    ASSERT_TRUE(answers.mutex.AwaitWithTimeout(
        absl::Condition(
            +[](std::pair<Answers*, size_t>* a) ABSL_NO_THREAD_SAFETY_ANALYSIS { return a->first->got.size() >= a->second; },
            &wanted),
        absl::Seconds(30)))
        << "only " << answers.got.size() << " of " << kThreads * kEach << " requests were answered";
  }
  absl::MutexLock lock(&answers.mutex);
  for (auto& [tag, response] : answers.got) {
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_FLOAT_EQ(response->outputs[0].At<float>(0), tag + 1.0f) << "request " << tag << " got another's answer";
  }
}

TEST(DynamicBatcherTest, APoisonedRequestFailsOnlyItself) {
  FakeRecordingModel model;
  absl::Notification gate;
  model.gate_ = &gate;
  Answers answers;
  {
    DynamicBatcher batcher({.config = {.max_batch_size = 8, .max_queue_delay = absl::Milliseconds(20)}, .model = &model});
    ASSERT_TRUE(Enqueue(batcher, Request({0, 0}, {1, 2}), answers.For(0)).ok());
    absl::SleepFor(absl::Milliseconds(80));
    ASSERT_TRUE(Enqueue(batcher, Request({1, 1}, {1, 2}), answers.For(1)).ok());
    ASSERT_TRUE(Enqueue(batcher, Request({NAN, 2}, {1, 2}), answers.For(2)).ok());
    ASSERT_TRUE(Enqueue(batcher, Request({3, 3}, {1, 2}), answers.For(3)).ok());
    gate.Notify();
    answers.WaitFor(4);
  }
  absl::MutexLock lock(&answers.mutex);
  for (auto& [tag, response] : answers.got) {
    EXPECT_EQ(response.ok(), tag != 2) << tag;
    if (response.ok()) {
      EXPECT_FLOAT_EQ(response->outputs[0].At<float>(0), tag + 1.0f);
    }
  }
}

TEST(DynamicBatcherTest, ExpiredRequestsAnswer504WithoutRunning) {
  FakeRecordingModel model;
  absl::Notification gate;
  model.gate_ = &gate;
  Answers answers;
  {
    DynamicBatcher batcher({.config = {.max_batch_size = 1}, .model = &model});
    ASSERT_TRUE(Enqueue(batcher, Request({0, 0}, {1, 2}), answers.For(0)).ok());
    absl::SleepFor(absl::Milliseconds(10));
    ASSERT_TRUE(Enqueue(batcher, Request({1, 1}, {1, 2}, {{"timeout", int64_t{1000}}}), answers.For(1)).ok());
    absl::SleepFor(absl::Milliseconds(20));
    gate.Notify();
    answers.WaitFor(2);
  }
  EXPECT_THAT(model.executions(), ElementsAre(1));
  absl::MutexLock lock(&answers.mutex);
  EXPECT_EQ(answers.got[1].second.status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST(DynamicBatcherTest, RequestsOfDepartedClientsAreDroppedUnexecuted) {
  FakeRecordingModel model;
  absl::Notification gate;
  model.gate_ = &gate;
  Answers answers;
  std::atomic<bool> left{false};
  prometheus::Registry registry;
  metrics::InferenceMetrics metrics(registry);
  {
    DynamicBatcher batcher({.config = {.max_batch_size = 1},
                            .model = &model,
                            .model_name = "m",
                            .version = "1.0.0",
                            .metrics = &metrics,
                            .client_check_after = absl::ZeroDuration()});
    ASSERT_TRUE(Enqueue(batcher, Request({0, 0}, {1, 2}), answers.For(0)).ok());  // occupies the instance
    absl::SleepFor(absl::Milliseconds(10));
    InferenceRequest queued = Request({1, 1}, {1, 2});
    queued.client_gone = [&left] { return left.load(); };
    ASSERT_TRUE(Enqueue(batcher, std::move(queued), answers.For(1)).ok());
    InferenceRequest stays = Request({2, 2}, {1, 2});
    stays.client_gone = [] { return false; };
    ASSERT_TRUE(Enqueue(batcher, std::move(stays), answers.For(2)).ok());
    left = true;  // the client of request 1 disconnects while it waits
    gate.Notify();
    answers.WaitFor(3);
  }
  EXPECT_THAT(model.executions(), ElementsAre(1, 1));  // requests 0 and 2 only
  absl::MutexLock lock(&answers.mutex);
  for (auto& [tag, response] : answers.got) {
    if (tag == 1) {
      EXPECT_EQ(response.status().code(), absl::StatusCode::kCancelled);
    } else {
      EXPECT_TRUE(response.ok()) << tag;
    }
  }
  // Counted as the client's leaving, not as the model failing.
  std::map<std::string, double> outcomes;
  for (const auto& family : registry.Collect()) {
    if (family.name != "inference_requests_total") continue;
    for (const auto& metric : family.metric) {
      for (const auto& label : metric.label) {
        if (label.name == "outcome") outcomes[label.value] += metric.counter.value;
      }
    }
  }
  EXPECT_EQ(outcomes["cancelled"], 1);
  EXPECT_EQ(outcomes.count("execution_failed"), 0u);
}

TEST(DynamicBatcherTest, AFreshRequestIsNotAskedWhetherItsClientLeft) {
  FakeRecordingModel model;
  Answers answers;
  std::atomic<int> asked{0};
  {
    DynamicBatcher batcher({.config = {.max_batch_size = 1}, .model = &model, .client_check_after = absl::Hours(1)});
    InferenceRequest request = Request({1, 1}, {1, 2});
    request.client_gone = [&asked] {
      ++asked;
      return true;
    };
    ASSERT_TRUE(Enqueue(batcher, std::move(request), answers.For(0)).ok());
    answers.WaitFor(1);
  }
  EXPECT_EQ(asked.load(), 0);
  EXPECT_THAT(model.executions(), ElementsAre(1));
}

TEST(DynamicBatcherTest, HigherPriorityRunsFirst) {
  FakeRecordingModel model;
  absl::Notification gate;
  model.gate_ = &gate;
  Answers answers;
  {
    DynamicBatcher batcher({.config = {.max_batch_size = 1, .priority_levels = 2, .default_priority = 2}, .model = &model});
    ASSERT_TRUE(Enqueue(batcher, Request({0, 0}, {1, 2}), answers.For(0)).ok());
    absl::SleepFor(absl::Milliseconds(10));
    ASSERT_TRUE(Enqueue(batcher, Request({1, 1}, {1, 2}), answers.For(1)).ok());  // default: low
    ASSERT_TRUE(Enqueue(batcher, Request({2, 2}, {1, 2}, {{"priority", int64_t{1}}}), answers.For(2)).ok());
    EXPECT_EQ(Enqueue(batcher, Request({3, 3}, {1, 2}, {{"priority", int64_t{3}}}), answers.For(3)).code(),
              absl::StatusCode::kInvalidArgument);
    gate.Notify();
    answers.WaitFor(3);
  }
  EXPECT_THAT(model.first_values(), ElementsAre(0, 2, 1));
}

TEST(DynamicBatcherTest, AFullQueueRefusesAtOnceAndKeepsTheCallback) {
  FakeRecordingModel model;
  absl::Notification gate;
  model.gate_ = &gate;
  Answers answers;
  DynamicBatcher batcher({.config = {.max_batch_size = 1, .max_queue_size = 2}, .model = &model});
  ASSERT_TRUE(Enqueue(batcher, Request({0, 0}, {1, 2}), answers.For(0)).ok());
  absl::SleepFor(absl::Milliseconds(10));
  ASSERT_TRUE(Enqueue(batcher, Request({1, 1}, {1, 2}), answers.For(1)).ok());
  ASSERT_TRUE(Enqueue(batcher, Request({2, 2}, {1, 2}), answers.For(2)).ok());
  InferenceCallback refused = answers.For(3);
  absl::Status full = batcher.Enqueue(Request({3, 3}, {1, 2}), std::move(refused), absl::Now());
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(static_cast<bool>(refused));  // still ours to call
  EXPECT_EQ(batcher.queue_depth(), 2u);
  gate.Notify();
  answers.WaitFor(3);
}

TEST(DynamicBatcherTest, PreserveOrderingAnswersInArrivalOrder) {
  FakeRecordingModel model;
  Answers answers;
  {
    DynamicBatcher batcher({.config = {.max_batch_size = 1, .preserve_ordering = true, .instances = 2}, .model = &model});
    model.delay_ = absl::Milliseconds(40);  // both instances busy; the first to start finishes last
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(Enqueue(batcher, Request({float(i), 0}, {1, 2}), answers.For(i)).ok());
    answers.WaitFor(6);
  }
  absl::MutexLock lock(&answers.mutex);
  for (size_t i = 0; i < answers.got.size(); ++i) EXPECT_EQ(answers.got[i].first, static_cast<int>(i));
}

// With preserveOrdering, an answer found without running (the response cache's) waits for the
// requests admitted before it, and a request refused for a full queue holds up nobody.
TEST(DynamicBatcherTest, PreserveOrderingKeepsCachedAnswersInPlaceAndSkipsRefusals) {
  FakeRecordingModel model;
  absl::Notification gate;
  absl::BlockingCounter first_started(1);
  model.gate_ = &gate;
  model.entered_ = &first_started;
  Answers answers;
  {
    DynamicBatcher batcher(
        {.config = {.max_batch_size = 1, .max_queue_size = 1, .preserve_ordering = true, .instances = 1},
         .model = &model});
    ASSERT_TRUE(Enqueue(batcher, Request({0, 0}, {1, 2}), answers.For(0)).ok());  // held at the gate
    first_started.Wait();
    model.entered_ = nullptr;  // read again only after the gate opens
    absl::StatusOr<DynamicBatcher::Admission> cached = batcher.Admit(Request({1, 1}, {1, 2}), absl::Now());
    ASSERT_TRUE(cached.ok());
    batcher.Answered(*cached, InferenceResponse{.id = "from the cache"}, answers.For(1));
    ASSERT_TRUE(Enqueue(batcher, Request({2, 2}, {1, 2}), answers.For(2)).ok());  // fills the queue
    EXPECT_EQ(Enqueue(batcher, Request({3, 3}, {1, 2}), answers.For(3)).code(), absl::StatusCode::kResourceExhausted);
    {
      absl::MutexLock lock(&answers.mutex);
      EXPECT_TRUE(answers.got.empty()) << "the cached answer went out before the request admitted first";
    }
    gate.Notify();
    answers.WaitFor(3);
    ASSERT_TRUE(Enqueue(batcher, Request({4, 4}, {1, 2}), answers.For(4)).ok());
    answers.WaitFor(4);  // not held for the refused request's place
  }
  absl::MutexLock lock(&answers.mutex);
  std::vector<int> order;
  for (const auto& [tag, answer] : answers.got) order.push_back(tag);
  EXPECT_THAT(order, ElementsAre(0, 1, 2, 4));
}

TEST(DynamicBatcherTest, TooManyRowsForOneRequestIsRejected) {
  FakeRecordingModel model;
  DynamicBatcher batcher({.config = {.max_batch_size = 2}, .model = &model});
  Answers answers;
  EXPECT_EQ(Enqueue(batcher, Request({1, 1, 2, 2, 3, 3}, {3, 2}), answers.For(0)).code(),
            absl::StatusCode::kInvalidArgument);
}

// Three versions, two instances each, busy at once, on a process with one compute slot: never
// more than one execution at a time, and every request still answered.
TEST(DynamicBatcherTest, ExecutionsAcrossVersionsNeverExceedTheComputeSlots) {
  auto slots = std::make_shared<ComputeSlots>(1);
  std::vector<std::unique_ptr<FakeRecordingModel>> models;
  std::vector<std::unique_ptr<DynamicBatcher>> batchers;
  for (int v = 0; v < 3; ++v) {
    models.push_back(std::make_unique<FakeRecordingModel>());
    models.back()->delay_ = absl::Milliseconds(5);
    batchers.push_back(std::make_unique<DynamicBatcher>(
        DynamicBatcherOptions{.config = {.instances = 2}, .model = models.back().get(), .compute_slots = slots}));
  }
  Answers answers;
  for (int i = 0; i < 24; ++i) {
    ASSERT_TRUE(Enqueue(*batchers[i % 3], Request({1, 1}, {1, 2}), answers.For(i)).ok());
  }
  answers.WaitFor(24);
  batchers.clear();  // joins the instance threads: the last one may still hold its slot while it answers
  EXPECT_EQ(slots->peak(), 1);
  EXPECT_EQ(slots->in_use(), 0);
}

// An instance thread counts its request done just after answering it.
void WaitUntilIdle(DynamicBatcher& batcher) {
  while (batcher.outstanding() > 0) absl::SleepFor(absl::Microseconds(100));
}

// Executes one request on an instance thread and waits for it, so that the version's execution
// time is known (a version executes on the submitting thread only once it is).
void MeasureOnce(DynamicBatcher& batcher) {
  Answers answers;
  ASSERT_TRUE(Enqueue(batcher, Request({0, 0}, {1, 2}), answers.For(0)).ok());
  answers.WaitFor(1);
  WaitUntilIdle(batcher);
}

// Whether Enqueue answered the request before returning, and on which thread it ran.
struct Submitted {
  bool answered_before_return = false;
  std::thread::id executed_on;
};

Submitted SubmitAndWait(DynamicBatcher& batcher, FakeRecordingModel& model, InferenceRequest request) {
  Answers answers;
  Submitted result;
  EXPECT_TRUE(Enqueue(batcher, std::move(request), answers.For(1)).ok());
  {
    absl::MutexLock lock(&answers.mutex);
    result.answered_before_return = !answers.got.empty();
  }
  answers.WaitFor(1);
  {
    absl::MutexLock lock(&answers.mutex);
    EXPECT_TRUE(answers.got[0].second.ok()) << answers.got[0].second.status();
  }
  result.executed_on = model.threads().back();
  WaitUntilIdle(batcher);
  return result;
}

TEST(DynamicBatcherTest, AnIdleQuickVersionExecutesALoneRequestOnTheSubmittingThread) {
  FakeRecordingModel model;
  // A generous limit: the fake model is quick, but the sanitizer build's first executions are not.
  DynamicBatcher batcher({.config = {.instances = 2}, .model = &model, .execute_inline_below = absl::Seconds(1)});
  const Submitted first = SubmitAndWait(batcher, model, Request({1, 1}, {1, 2}));
  EXPECT_NE(first.executed_on, std::this_thread::get_id()) << "nothing measured yet: an instance thread runs it";
  for (int i = 0; i < 3; ++i) {
    const Submitted next = SubmitAndWait(batcher, model, Request({1, 1}, {1, 2}));
    EXPECT_EQ(next.executed_on, std::this_thread::get_id());
    EXPECT_TRUE(next.answered_before_return);
  }
  EXPECT_THAT(model.executions(), ElementsAre(1, 1, 1, 1));
}

TEST(DynamicBatcherTest, ARequestGoesToTheInstancesWhenTurnedOffSlowMarkedOrWaitingForABatch) {
  auto instance_ran = [](DynamicBatcherOptions options, FakeRecordingModel& model, InferenceRequest request) {
    options.model = &model;
    DynamicBatcher batcher(options);
    MeasureOnce(batcher);
    const Submitted next = SubmitAndWait(batcher, model, std::move(request));
    return next.executed_on != std::this_thread::get_id();
  };
  FakeRecordingModel quick;
  EXPECT_TRUE(instance_ran({.execute_inline_below = absl::ZeroDuration()}, quick, Request({1, 1}, {1, 2})))
      << "turned off";
  FakeRecordingModel slow;
  slow.delay_ = absl::Milliseconds(2);
  EXPECT_TRUE(instance_ran({}, slow, Request({1, 1}, {1, 2}))) << "slower than the limit";
  FakeRecordingModel marked;
  InferenceRequest must_not_hold_its_caller = Request({1, 1}, {1, 2});
  must_not_hold_its_caller.may_execute_inline = false;
  EXPECT_TRUE(instance_ran({}, marked, std::move(must_not_hold_its_caller))) << "a shadow's copy";
  FakeRecordingModel batching;
  EXPECT_TRUE(instance_ran({.config = {.max_batch_size = 8, .max_queue_delay = absl::Milliseconds(1)}}, batching,
                           Request({1, 1}, {1, 2})))
      << "a queue delay to wait out for company";
  FakeRecordingModel batching_without_delay;
  EXPECT_FALSE(instance_ran({.config = {.max_batch_size = 8}, .execute_inline_below = absl::Seconds(1)},
                            batching_without_delay, Request({1, 1}, {1, 2})))
      << "without a delay a lone request goes at once anyway";
}

TEST(DynamicBatcherTest, OnTheSubmittingThreadAFailureIsOnlyItsOwnAndAnExpiredRequestDoesNotRun) {
  FakeRecordingModel model;
  DynamicBatcher batcher({.config = {.instances = 2}, .model = &model, .execute_inline_below = absl::Seconds(1)});
  MeasureOnce(batcher);
  // A request the model fails answers its error at once, on the submitting thread.
  Answers failed;
  ASSERT_TRUE(Enqueue(batcher, Request({std::nanf(""), 1}, {1, 2}), failed.For(1)).ok());
  {
    absl::MutexLock lock(&failed.mutex);
    ASSERT_EQ(failed.got.size(), 1u) << "not answered before Enqueue returned";
    EXPECT_EQ(failed.got[0].second.status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(model.threads().back(), std::this_thread::get_id());
  WaitUntilIdle(batcher);
  // The version goes on serving on the submitting thread.
  const Submitted next = SubmitAndWait(batcher, model, Request({2, 2}, {1, 2}));
  EXPECT_EQ(next.executed_on, std::this_thread::get_id());
  EXPECT_TRUE(next.answered_before_return);

  // A request already past its timeout when it is submitted is answered 504 and never executed.
  const size_t executions = model.executions().size();
  Answers expired;
  ASSERT_TRUE(batcher
                  .Enqueue(Request({3, 3}, {1, 2}, {{"timeout", int64_t{1000}}}), expired.For(3),
                           absl::Now() - absl::Seconds(1))
                  .ok());
  expired.WaitFor(1);
  {
    absl::MutexLock lock(&expired.mutex);
    EXPECT_EQ(expired.got[0].second.status().code(), absl::StatusCode::kDeadlineExceeded);
  }
  EXPECT_EQ(model.executions().size(), executions);
}

TEST(DynamicBatcherTest, ARequestLargerThanTheMeasuredOnesIsExpectedToTakeLonger) {
  FakeRecordingModel model;
  model.delay_ = absl::Milliseconds(1);  // 1 ms for the 8 bytes of a one-row request
  DynamicBatcher batcher({.config = {.max_batch_size = 64}, .model = &model,
                          .execute_inline_below = absl::Milliseconds(10)});
  MeasureOnce(batcher);
  EXPECT_EQ(SubmitAndWait(batcher, model, Request({1, 1}, {1, 2})).executed_on, std::this_thread::get_id());
  // Far from the limit on either side: a loaded machine's sleep of 1 ms can measure several.
  EXPECT_EQ(SubmitAndWait(batcher, model, Request(std::vector<float>(4, 1), {2, 2})).executed_on,
            std::this_thread::get_id())
      << "two rows: about 2 ms expected";
  EXPECT_NE(SubmitAndWait(batcher, model, Request(std::vector<float>(128, 1), {64, 2})).executed_on,
            std::this_thread::get_id())
      << "sixty-four rows: about 64 ms expected, above the limit";
}

TEST(DynamicBatcherTest, ABusyVersionOrNoFreeComputeSlotSendsRequestsToTheInstances) {
  FakeRecordingModel model;
  auto slots = std::make_shared<ComputeSlots>(2);
  DynamicBatcher batcher({.config = {.instances = 2}, .model = &model, .compute_slots = slots});
  MeasureOnce(batcher);
  // One request executing (held in the model) makes the version busy: the next one queues.
  absl::Notification gate;
  absl::BlockingCounter entered(1);
  model.gate_ = &gate;
  model.entered_ = &entered;
  Answers answers;
  InferenceRequest held = Request({1, 1}, {1, 2});
  held.may_execute_inline = false;
  ASSERT_TRUE(Enqueue(batcher, std::move(held), answers.For(1)).ok());
  entered.Wait();
  absl::BlockingCounter second_entered(1);
  model.entered_ = &second_entered;
  ASSERT_TRUE(Enqueue(batcher, Request({2, 2}, {1, 2}), answers.For(2)).ok());  // returns: it was queued
  second_entered.Wait();  // taken by the other instance
  gate.Notify();
  answers.WaitFor(2);
  model.gate_ = nullptr;
  model.entered_ = nullptr;
  for (std::thread::id thread : model.threads()) EXPECT_NE(thread, std::this_thread::get_id());

  // Idle again, but every compute slot held elsewhere: the request waits for one on an instance.
  DynamicBatcher idle({.config = {.instances = 1}, .model = &model, .compute_slots = slots});
  MeasureOnce(idle);
  Answers later;
  {
    ComputeSlots::Hold a = slots->Acquire();
    ComputeSlots::Hold b = slots->Acquire();
    ASSERT_TRUE(Enqueue(idle, Request({3, 3}, {1, 2}), later.For(3)).ok());
    absl::SleepFor(absl::Milliseconds(20));
    absl::MutexLock lock(&later.mutex);
    EXPECT_TRUE(later.got.empty()) << "it ran without a compute slot";
  }
  later.WaitFor(1);
  EXPECT_NE(model.threads().back(), std::this_thread::get_id());
}

// A one-row request from a transport that lets its thread execute the batch it completes.
InferenceRequest BatchableHere(float value, Parameters parameters = {}) {
  InferenceRequest request = Request({value, value}, {1, 2}, std::move(parameters));
  request.may_execute_batch_inline = true;
  return request;
}

// Enqueues `rows` such requests from this thread and waits for their answers, and for the
// thread that executed them to count itself done (just after answering).
void EnqueueRows(DynamicBatcher& batcher, Answers& answers, int rows, size_t answered_before,
                 Parameters parameters = {}) {
  for (int i = 0; i < rows; ++i) {
    ASSERT_TRUE(Enqueue(batcher, BatchableHere(float(i), parameters), answers.For(i)).ok());
  }
  answers.WaitFor(answered_before + static_cast<size_t>(rows));
  while (batcher.outstanding() > 0) absl::SleepFor(absl::Milliseconds(1));
}

TEST(DynamicBatcherTest, AFullBatchRunsOnTheThreadThatCompletedItOnceBatchesAreMeasuredQuick) {
  FakeRecordingModel model;
  Answers answers;
  DynamicBatcher batcher({.config = {.max_batch_size = 4, .max_queue_delay = absl::Seconds(5)},
                          .model = &model,
                          .execute_inline_below = absl::Milliseconds(50)});
  EnqueueRows(batcher, answers, 4, 0);  // nothing measured yet: an instance runs it
  EnqueueRows(batcher, answers, 4, 4);  // measured quick: the fourth request's thread runs it
  const std::vector<std::thread::id> threads = model.threads();
  ASSERT_EQ(threads.size(), 2u);
  EXPECT_NE(threads[0], std::this_thread::get_id());
  EXPECT_EQ(threads[1], std::this_thread::get_id());
  EXPECT_THAT(model.executions(), ElementsAre(4, 4));
  absl::MutexLock lock(&answers.mutex);
  for (auto& [tag, response] : answers.got) {
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_FLOAT_EQ(response->outputs[0].At<float>(0), tag + 1.0f);
  }
}

// The same rule on the submitting thread: a batch with no room for the request just queued
// behind it is full.
TEST(DynamicBatcherTest, ABatchWithNoRoomForTheNextRequestRunsOnTheThreadThatQueuedIt) {
  FakeRecordingModel model;
  Answers answers;
  DynamicBatcher batcher({.config = {.max_batch_size = 4, .max_queue_delay = absl::Seconds(5)},
                          .model = &model,
                          .execute_inline_below = absl::Milliseconds(50)});
  EnqueueRows(batcher, answers, 4, 0);  // measured quick
  for (int i = 0; i < 2; ++i) {
    InferenceRequest request = Request({5, 5, 5, 5, 5, 5}, {3, 2});
    request.may_execute_batch_inline = true;
    ASSERT_TRUE(Enqueue(batcher, std::move(request), answers.For(10 + i)).ok());
  }
  {
    absl::MutexLock lock(&answers.mutex);
    ASSERT_EQ(answers.got.size(), 5u) << "the second request's thread did not run the first one's batch";
  }
  EXPECT_EQ(model.threads().back(), std::this_thread::get_id());
  EXPECT_THAT(model.executions(), ElementsAre(4, 3));
}  // the batcher's end runs the second at once, without waiting out the delay

TEST(DynamicBatcherTest, AFullBatchOfRequestsThatWaitedRunsHereUnlessOneOfTheirClientsHasGone) {
  FakeRecordingModel model;
  Answers answers;
  DynamicBatcher batcher({.config = {.max_batch_size = 4, .max_queue_delay = absl::Milliseconds(50)},
                          .model = &model,
                          .execute_inline_below = absl::Milliseconds(50)});
  EnqueueRows(batcher, answers, 4, 0);  // measured
  // Requests that arrived 5 ms ago, past client_check_after: whether their clients are there is asked.
  const absl::Time arrived = absl::Now() - absl::Milliseconds(5);
  auto waited = [](int value, bool client_gone) {
    InferenceRequest request = BatchableHere(static_cast<float>(value));
    request.client_gone = [client_gone] { return client_gone; };
    return request;
  };
  for (int i = 10; i < 14; ++i) ASSERT_TRUE(batcher.Enqueue(waited(i, false), answers.For(i), arrived).ok());
  answers.WaitFor(8);
  EXPECT_EQ(model.threads().back(), std::this_thread::get_id()) << "their clients are there: it runs here";
  while (batcher.outstanding() > 0) absl::SleepFor(absl::Milliseconds(1));
  // One client of the next batch has gone: an instance takes it, drops that request unexecuted and
  // runs the others once their delay is out.
  for (int i = 20; i < 24; ++i) ASSERT_TRUE(batcher.Enqueue(waited(i, i == 21), answers.For(i), arrived).ok());
  answers.WaitFor(12);
  EXPECT_NE(model.threads().back(), std::this_thread::get_id());
  EXPECT_THAT(model.executions(), ElementsAre(4, 4, 3));
  absl::MutexLock lock(&answers.mutex);
  for (auto& [tag, response] : answers.got) {
    if (tag == 21) {
      EXPECT_EQ(response.status().code(), absl::StatusCode::kCancelled);
    } else {
      ASSERT_TRUE(response.ok()) << tag << ": " << response.status();
    }
  }
}

TEST(DynamicBatcherTest, AFullBatchGoesToTheInstancesWhenSlowTurnedOffBehindAHigherPriorityOrEveryInstanceIsBusy) {
  const DynamicBatcherOptions quick{.config = {.max_batch_size = 4, .max_queue_delay = absl::Seconds(5)},
                                    .execute_inline_below = absl::Milliseconds(50)};
  auto last_ran_here = [](FakeRecordingModel& model) { return model.threads().back() == std::this_thread::get_id(); };
  // Two full batches; whether the second ran on this thread.
  auto second_ran_here = [&](absl::Duration execution, absl::Duration limit) {
    FakeRecordingModel model;
    model.delay_ = execution;
    Answers answers;
    DynamicBatcherOptions options = quick;
    options.model = &model;
    options.execute_inline_below = limit;
    DynamicBatcher batcher(options);
    EnqueueRows(batcher, answers, 4, 0);
    EnqueueRows(batcher, answers, 4, 4);
    return last_ran_here(model);
  };
  EXPECT_FALSE(second_ran_here(absl::Milliseconds(5), absl::Milliseconds(1))) << "a batch measured slower than the limit";
  EXPECT_FALSE(second_ran_here(absl::ZeroDuration(), absl::ZeroDuration())) << "turned off";
  {
    FakeRecordingModel model;
    Answers answers;
    DynamicBatcherOptions options = quick;
    options.model = &model;
    DynamicBatcher batcher(options);
    EnqueueRows(batcher, answers, 4, 0);
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(Enqueue(batcher, Request({1, 1}, {1, 2}), answers.For(i)).ok());
    answers.WaitFor(8);
    EXPECT_FALSE(last_ran_here(model)) << "a request whose transport does not allow it (HTTP/1.1)";
  }
  {
    FakeRecordingModel model;
    Answers answers;
    DynamicBatcherOptions options = quick;
    options.model = &model;
    options.config.priority_levels = 2;
    options.config.default_priority = 2;
    DynamicBatcher batcher(options);
    EnqueueRows(batcher, answers, 4, 0);
    // A high-priority row waits for its batch to fill; four low-priority rows that complete a
    // batch must not run ahead of it on this thread.
    ASSERT_TRUE(Enqueue(batcher, BatchableHere(7, {{"priority", int64_t{1}}}), answers.For(7)).ok());
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(Enqueue(batcher, BatchableHere(1), answers.For(i)).ok());
    EXPECT_EQ(model.executions().size(), 1u) << "the low batch ran here ahead of the waiting high row";
    // A low row waiting does not keep a high batch from running here.
    EnqueueRows(batcher, answers, 3, 4, {{"priority", int64_t{1}}});  // with the high row: a full batch
    const std::vector<float> first_values = model.first_values();
    const auto high = std::find(first_values.begin(), first_values.end(), 7.0f);
    ASSERT_NE(high, first_values.end());
    EXPECT_EQ(model.threads()[static_cast<size_t>(high - first_values.begin())], std::this_thread::get_id())
        << "a waiting lower priority kept the high batch from running here";
  }
  {
    // The version's one instance is executing (held at the gate): a full batch waits for it
    // rather than running beside it.
    FakeRecordingModel model;
    Answers answers;
    DynamicBatcherOptions options = quick;
    options.model = &model;
    options.config.max_queue_delay = absl::Milliseconds(50);
    DynamicBatcher batcher(options);
    EnqueueRows(batcher, answers, 4, 0);
    absl::Notification gate;
    model.gate_ = &gate;
    absl::BlockingCounter entered(1);
    model.entered_ = &entered;
    ASSERT_TRUE(Enqueue(batcher, Request({1, 1}, {1, 2}), answers.For(1)).ok());  // runs alone after its delay
    entered.Wait();
    model.entered_ = nullptr;
    // From another thread, which the gate would hold if it ran the batch itself.
    std::thread submitter([&] {
      for (int i = 0; i < 4; ++i) ASSERT_TRUE(Enqueue(batcher, BatchableHere(2), answers.For(i)).ok());
    });
    for (int i = 0; i < 2000 && batcher.queue_depth() < 4; ++i) absl::SleepFor(absl::Milliseconds(1));
    EXPECT_EQ(batcher.queue_depth(), 4u) << "the full batch ran beside the busy instance instead of queueing";
    gate.Notify();
    submitter.join();
    answers.WaitFor(9);
  }
}

TEST(ComputeSlotsTest, HoldsAreCountedAndWaitedFor) {
  ComputeSlots slots(2);
  {
    ComputeSlots::Hold a = slots.Acquire();
    ComputeSlots::Hold b = slots.Acquire();
    EXPECT_EQ(slots.in_use(), 2);
    std::atomic<bool> third{false};
    std::thread waiter([&] {
      ComputeSlots::Hold c = slots.Acquire();
      third = true;
    });
    absl::SleepFor(absl::Milliseconds(50));
    EXPECT_FALSE(third) << "a third hold waits while two are held";
    { ComputeSlots::Hold released = std::move(a); }
    waiter.join();
    EXPECT_TRUE(third);
  }
  EXPECT_EQ(slots.in_use(), 0);
  EXPECT_EQ(slots.peak(), 2);
  EXPECT_EQ(ComputeSlots(0).capacity(), 1) << "never zero slots";
}

TEST(BatchingConfigTest, MetadataOverridesDefaultsAndNamesBadFields) {
  auto config = BatchingFromMetadata(
      R"({"batching":{"maxBatchSize":16,"preferredBatchSizes":[4,8],"maxQueueDelay":"500us","preserveOrdering":true}})",
      BatchingConfig{});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->max_batch_size, 16);
  EXPECT_EQ(config->max_queue_delay, absl::Microseconds(500));
  EXPECT_TRUE(config->preserve_ordering);
  EXPECT_THAT(std::string(BatchingFromMetadata(R"({"batching":{"maxBatchSize":0}})", {}).status().message()),
              ::testing::HasSubstr("maxBatchSize"));
  EXPECT_THAT(std::string(BatchingFromMetadata(R"({"batching":{"maxBatchSize":4,"preferredBatchSizes":[8]}})", {})
                              .status()
                              .message()),
              ::testing::HasSubstr("preferredBatchSizes"));
  EXPECT_THAT(std::string(BatchingFromMetadata(R"({"batching":{"maxQueueDelay":"soon"}})", {}).status().message()),
              ::testing::HasSubstr("duration"));
  EXPECT_THAT(std::string(BatchingFromMetadata(R"({"batching":{"batchSize":4}})", {}).status().message()),
              ::testing::HasSubstr("not a batching setting"));
}

}  // namespace
}  // namespace meridian::serving
