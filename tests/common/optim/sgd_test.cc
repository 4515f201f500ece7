#include "common/optim/sgd.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace anchorage::optim {
namespace {

SgdOptions Options(float lr, float momentum, bool nesterov) {
  SgdOptions options;
  options.lr = lr;
  options.momentum = momentum;
  options.nesterov = nesterov;
  return options;
}

TEST(SgdTest, PlainStepIsParamsMinusLrTimesGrad) {
  Sgd sgd(Options(0.1F, 0.0F, false), 3);
  std::vector<float> params = {1.0F, -2.0F, 0.5F};
  const std::vector<float> grad = {0.3F, 4.0F, -1.0F};
  const std::vector<float> start = params;

  sgd.Step(params, grad);

  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(params[i], start[i] - 0.1F * grad[i]) << i;
  }
  EXPECT_EQ(sgd.step(), 1);
}

// x0 = 1, lr = 0.1, mu = 0.9, gradients 1, 2, 3:
//   v: 1, 0.9 * 1 + 2 = 2.9, 0.9 * 2.9 + 3 = 5.61
//   x: 1 - 0.1 = 0.9, 0.9 - 0.29 = 0.61, 0.61 - 0.561 = 0.049
TEST(SgdTest, HeavyBallMatchesHandComputedSequence) {
  Sgd sgd(Options(0.1F, 0.9F, false), 1);
  std::vector<float> x = {1.0F};
  const double expected_x[] = {0.9, 0.61, 0.049};
  const double expected_v[] = {1.0, 2.9, 5.61};

  for (int t = 0; t < 3; ++t) {
    const std::vector<float> grad = {static_cast<float>(t + 1)};
    sgd.Step(x, grad);
    EXPECT_NEAR(x[0], expected_x[t], 1e-6) << "step " << t;
    EXPECT_NEAR(sgd.momentum_buffer()[0], expected_v[t], 1e-5) << "step " << t;
  }
}

// Same inputs, update = g + mu * v:
//   u: 1 + 0.9 = 1.9, 2 + 0.9 * 2.9 = 4.61, 3 + 0.9 * 5.61 = 8.049
//   x: 1 - 0.19 = 0.81, 0.81 - 0.461 = 0.349, 0.349 - 0.8049 = -0.4559
TEST(SgdTest, NesterovMatchesHandComputedSequence) {
  Sgd sgd(Options(0.1F, 0.9F, true), 1);
  std::vector<float> x = {1.0F};
  const double expected_x[] = {0.81, 0.349, -0.4559};

  for (int t = 0; t < 3; ++t) {
    const std::vector<float> grad = {static_cast<float>(t + 1)};
    sgd.Step(x, grad);
    EXPECT_NEAR(x[0], expected_x[t], 1e-6) << "step " << t;
  }
}

// x0 = 2, g = 0.5, wd = 0.1, lr = 0.1:
//   d = 0.5 + 0.2 = 0.7, x = 2 - 0.07 = 1.93
//   d = 0.5 + 0.193 = 0.693, x = 1.93 - 0.0693 = 1.8607
TEST(SgdTest, WeightDecayAddsToGradient) {
  SgdOptions options = Options(0.1F, 0.0F, false);
  options.weight_decay = 0.1F;
  Sgd sgd(options, 1);
  std::vector<float> x = {2.0F};
  const std::vector<float> grad = {0.5F};

  sgd.Step(x, grad);
  EXPECT_NEAR(x[0], 1.93, 1e-6);
  sgd.Step(x, grad);
  EXPECT_NEAR(x[0], 1.8607, 1e-6);
}

// With momentum 0.5 and wd 0.1 from x0 = 2, g = 0.5, lr = 0.1:
//   d = 0.7, v = 0.7, u = 0.7 + 0.35 = 1.05, x = 2 - 0.105 = 1.895
TEST(SgdTest, WeightDecayFeedsNesterovMomentum) {
  SgdOptions options = Options(0.1F, 0.5F, true);
  options.weight_decay = 0.1F;
  Sgd sgd(options, 1);
  std::vector<float> x = {2.0F};
  const std::vector<float> grad = {0.5F};

  sgd.Step(x, grad);

  EXPECT_NEAR(x[0], 1.895, 1e-6);
  EXPECT_NEAR(sgd.momentum_buffer()[0], 0.7, 1e-6);
}

TEST(SgdTest, WarmUpRampsLinearly) {
  SgdOptions options = Options(0.4F, 0.0F, false);
  options.warmup_steps = 4;
  Sgd sgd(options, 1);
  std::vector<float> x = {0.0F};
  const std::vector<float> grad = {1.0F};
  const float expected_lr[] = {0.1F, 0.2F, 0.3F, 0.4F, 0.4F, 0.4F};

  for (int t = 0; t < 6; ++t) {
    EXPECT_FLOAT_EQ(sgd.learning_rate(), expected_lr[t]) << "step " << t;
    const float before = x[0];
    sgd.Step(x, grad);
    EXPECT_FLOAT_EQ(before - x[0], expected_lr[t]) << "step " << t;
  }
}

TEST(SgdTest, DecaysAtEachMilestone) {
  SgdOptions options = Options(1.0F, 0.0F, false);
  options.decay_steps = {2, 4};
  options.decay_factor = 0.5F;
  Sgd sgd(options, 1);
  std::vector<float> x = {0.0F};
  const std::vector<float> grad = {1.0F};
  const float expected_lr[] = {1.0F, 1.0F, 0.5F, 0.5F, 0.25F, 0.25F};

  for (int t = 0; t < 6; ++t) {
    EXPECT_FLOAT_EQ(sgd.learning_rate(), expected_lr[t]) << "step " << t;
    sgd.Step(x, grad);
  }
  EXPECT_EQ(sgd.step(), 6);
}

TEST(SgdTest, WarmUpAndDecayCompose) {
  SgdOptions options = Options(1.0F, 0.0F, false);
  options.warmup_steps = 4;
  options.decay_steps = {1};
  options.decay_factor = 0.1F;
  Sgd sgd(options, 1);
  std::vector<float> x = {0.0F};
  const std::vector<float> grad = {1.0F};

  sgd.Step(x, grad);

  EXPECT_FLOAT_EQ(sgd.learning_rate(), 0.5F * 0.1F);
}

// A worker behind the run (a straggler) moves its schedule up to the run's
// step; a worker ahead of it keeps its own.
TEST(SgdTest, CatchUpMovesTheScheduleForwardOnly) {
  SgdOptions options = Options(1.0F, 0.0F, false);
  options.decay_steps = {3};
  options.decay_factor = 0.1F;
  Sgd sgd(options, 1);
  std::vector<float> x = {0.0F};
  const std::vector<float> grad = {1.0F};
  sgd.Step(x, grad);

  sgd.CatchUp(5);
  EXPECT_EQ(sgd.step(), 5);
  EXPECT_FLOAT_EQ(sgd.learning_rate(), 0.1F);
  sgd.CatchUp(2);
  EXPECT_EQ(sgd.step(), 5);
  sgd.Step(x, grad);
  EXPECT_FLOAT_EQ(x[0], -1.0F - 0.1F);
}

TEST(SgdTest, ResetMomentumZeroesBufferButKeepsSchedule) {
  SgdOptions options = Options(0.1F, 0.9F, false);
  options.decay_steps = {1};
  Sgd sgd(options, 2);
  std::vector<float> x = {1.0F, 1.0F};
  const std::vector<float> grad = {1.0F, -1.0F};
  sgd.Step(x, grad);

  sgd.ResetMomentum();

  EXPECT_EQ(sgd.momentum_buffer()[0], 0.0F);
  EXPECT_EQ(sgd.momentum_buffer()[1], 0.0F);
  EXPECT_EQ(sgd.step(), 1);
  const std::vector<float> before = x;
  sgd.Step(x, grad);
  EXPECT_NEAR(x[0], before[0] - 0.01F * grad[0], 1e-7);
  EXPECT_NEAR(x[1], before[1] - 0.01F * grad[1], 1e-7);
}

TEST(SgdTest, MomentumBufferHasDimEntriesAndStartsAtZero) {
  Sgd sgd(Options(0.1F, 0.9F, false), 5);

  ASSERT_EQ(sgd.momentum_buffer().size(), 5U);
  for (const float v : sgd.momentum_buffer()) {
    EXPECT_EQ(v, 0.0F);
  }
  EXPECT_EQ(sgd.step(), 0);
}

TEST(SgdDeathTest, StepWithWrongSizeAborts) {
  Sgd sgd(Options(0.1F, 0.0F, false), 3);
  std::vector<float> params(2);
  const std::vector<float> grad(2);

  EXPECT_DEATH(sgd.Step(params, grad), "size");
}

TEST(SgdOptionsTest, DefaultsAreValid) {
  EXPECT_TRUE(SgdOptions().Validate().ok());
}

// Returns the Validate() message after `mutate`, expecting kInvalidArgument.
template <typename Mutate>
std::string ValidateError(Mutate mutate) {
  SgdOptions options;
  mutate(options);
  const Status status = options.Validate();
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
  return status.message();
}

TEST(SgdOptionsTest, RejectsBadValuesNamingFieldAndValue) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  struct Case {
    std::string message;
    std::string field;
    std::string value;
  };
  const Case cases[] = {
      {ValidateError([](SgdOptions& o) { o.lr = 0.0F; }), "lr", "0"},
      {ValidateError([](SgdOptions& o) { o.lr = -0.5F; }), "lr", "-0.5"},
      {ValidateError([&](SgdOptions& o) { o.lr = nan; }), "lr", "nan"},
      {ValidateError([&](SgdOptions& o) { o.lr = inf; }), "lr", "inf"},
      {ValidateError([](SgdOptions& o) { o.momentum = 1.0F; }), "momentum",
       "1"},
      {ValidateError([](SgdOptions& o) { o.momentum = -0.25F; }), "momentum",
       "-0.25"},
      {ValidateError([](SgdOptions& o) { o.weight_decay = -1.0F; }),
       "weight_decay", "-1"},
      {ValidateError([](SgdOptions& o) { o.warmup_steps = -3; }),
       "warmup_steps", "-3"},
      {ValidateError([](SgdOptions& o) {
         o.decay_steps = {5, 3};
       }),
       "decay_steps", "5,3"},
      {ValidateError([](SgdOptions& o) {
         o.decay_steps = {4, 4};
       }),
       "decay_steps", "4,4"},
      {ValidateError([](SgdOptions& o) { o.decay_steps = {-1}; }),
       "decay_steps", "-1"},
      {ValidateError([](SgdOptions& o) { o.decay_factor = 0.0F; }),
       "decay_factor", "0"},
      {ValidateError([](SgdOptions& o) { o.decay_factor = 1.5F; }),
       "decay_factor", "1.5"},
  };
  for (const Case& c : cases) {
    EXPECT_NE(c.message.find(c.field), std::string::npos) << c.message;
    EXPECT_NE(c.message.find(c.value), std::string::npos) << c.message;
  }
}

TEST(SgdOptionsTest, AcceptsEdgeValues) {
  SgdOptions options;
  options.momentum = 0.0F;
  options.nesterov = true;
  options.weight_decay = 0.0F;
  options.warmup_steps = 0;
  options.decay_steps = {0, 10};
  options.decay_factor = 1.0F;

  EXPECT_TRUE(options.Validate().ok());
}

}  // namespace
}  // namespace anchorage::optim
