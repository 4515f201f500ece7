#include "common/algo/trainer.h"

#include <vector>

#include <gtest/gtest.h>

#include "common/algo/worker_round.h"
#include "common/data/partition.h"
#include "common/data/synthetic.h"

namespace anchorage::algo {
namespace {

// Two trainers on a small synthetic problem, starting from one model.
class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StatusOr<data::TrainTest> data =
        data::MakeGaussianMixture(4, 8, 512, 128, /*seed=*/3);
    ASSERT_TRUE(data.ok());
    data_ = std::move(data).value();
    partition_ = data::PartitionIid(data_.train.size(), 2, 5).value();
  }

  Trainer Make(int worker, std::span<const float> initial) {
    return Trainer(model::MakeModel("mlp:8", 8, 4).value(), &data_.train,
                   partition_[static_cast<size_t>(worker)], 16,
                   optim::SgdOptions{.lr = 0.1F, .momentum = 0.9F}, initial,
                   static_cast<uint64_t>(worker) + 11);
  }

  std::vector<float> Initial() {
    auto model = model::MakeModel("mlp:8", 8, 4).value();
    std::vector<float> params(static_cast<size_t>(model->dim()));
    model->Initialize(1, params);
    return params;
  }

  data::TrainTest data_;
  data::Partition partition_;
};

TEST_F(TrainerTest, AlphaZeroLeavesWorkersIndependent) {
  const std::vector<float> initial = Initial();
  Trainer alone = Make(0, initial);
  Trainer pulled = Make(0, initial);
  Trainer other = Make(1, initial);
  for (int round = 0; round < 5; ++round) {
    for (int step = 0; step < 3; ++step) {
      alone.Step();
      pulled.Step();
      other.Step();
    }
    const std::vector<float> anchor(other.params().begin(),
                                    other.params().end());
    pulled.Pull(anchor, 0.0F);
  }
  ASSERT_EQ(alone.params().size(), pulled.params().size());
  for (size_t i = 0; i < alone.params().size(); ++i) {
    ASSERT_EQ(alone.params()[i], pulled.params()[i]) << i;
  }
}

TEST_F(TrainerTest, AlphaOnePullAdoptsTheAnchor) {
  const std::vector<float> initial = Initial();
  Trainer trainer = Make(0, initial);
  for (int step = 0; step < 4; ++step) {
    trainer.Step();
  }
  std::vector<float> anchor(initial.size(), 0.25F);
  trainer.Pull(anchor, 1.0F);
  for (size_t i = 0; i < anchor.size(); ++i) {
    ASSERT_EQ(trainer.params()[i], anchor[i]);
  }
}

TEST_F(TrainerTest, PullIsConvexCombination) {
  const std::vector<float> initial = Initial();
  Trainer trainer = Make(0, initial);
  for (int step = 0; step < 4; ++step) {
    trainer.Step();
  }
  const std::vector<float> before(trainer.params().begin(),
                                  trainer.params().end());
  std::vector<float> anchor(initial.size(), -1.0F);
  trainer.Pull(anchor, 0.6F);
  for (size_t i = 0; i < anchor.size(); ++i) {
    ASSERT_NEAR(trainer.params()[i], 0.4F * before[i] + 0.6F * anchor[i],
                1e-6F);
  }
}

TEST_F(TrainerTest, LocalStepsReduceTrainingLoss) {
  Trainer trainer = Make(0, Initial());
  double first = 0;
  for (int step = 0; step < 10; ++step) {
    first += trainer.Step();
  }
  for (int step = 0; step < 300; ++step) {
    trainer.Step();
  }
  double last = 0;
  for (int step = 0; step < 10; ++step) {
    last += trainer.Step();
  }
  EXPECT_LT(last, 0.5 * first);
  EXPECT_EQ(trainer.steps(), 320);
}

// A round run from the run's progress starts at the run's rate when the
// worker is behind (a straggler after the others decayed), and at its own
// when it is ahead.
TEST_F(TrainerTest, ARoundCatchesTheScheduleUpWithTheRun) {
  const std::vector<float> initial = Initial();
  Trainer trainer(
      model::MakeModel("mlp:8", 8, 4).value(), &data_.train, partition_[0], 16,
      optim::SgdOptions{.lr = 0.1F, .decay_steps = {4}}, initial, 11);
  WorkerRound<float> round(&trainer, {.local_steps = 2});
  round.Compute(/*run_step=*/0);
  EXPECT_EQ(trainer.steps(), 2);
  EXPECT_NEAR(trainer.learning_rate(), 0.1, 1e-7);
  round.Compute(/*run_step=*/10);
  EXPECT_EQ(trainer.steps(), 12);
  EXPECT_NEAR(trainer.learning_rate(), 0.01, 1e-7);
  round.Compute(/*run_step=*/3);
  EXPECT_EQ(trainer.steps(), 14);
}

}  // namespace
}  // namespace anchorage::algo
