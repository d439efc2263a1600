// The training loop's in-place writes against the version counters (autograd/tensor.h):
// optimizer steps between steps raise nothing, while a retained graph whose weights a step
// changed, and an eval-mode BatchNorm whose running statistics a training forward updated,
// are caught.
#include <boost/test/unit_test.hpp>

#include "autograd/ops.h"
#include "common/gradcheck.h"
#include "nn/linear.h"
#include "nn/normalization.h"
#include "nn/optim.h"

using namespace ag;
using testing::check_error;

BOOST_AUTO_TEST_CASE(optimizer_steps_between_steps_are_no_false_alarm) {
  manual_seed(5);
  nn::Linear fc(3, 2);
  nn::Adam opt(fc.named_parameters(), 0.01f);
  for (int step = 0; step < 3; ++step) {
    Tensor loss = sum(mul(fc.forward(normal({4, 3})), 0.5f));
    BOOST_CHECK_NO_THROW(loss.backward());
    nn::clip_grad_norm(opt.params(), 0.1f);
    opt.step();
    opt.zero_grad();
  }
  // But a retained graph whose weights a step changed is stale, and says so.
  Tensor x = normal({4, 3}).set_requires_grad(true);
  Tensor loss = sum(fc.forward(x));
  loss.backward(Tensor(), /*retain_graph=*/true);
  opt.step();
  check_error([&] { loss.backward(); }, "'linear': the tensor it saved as 'weight'");
}

BOOST_AUTO_TEST_CASE(batch_norm_in_eval_mode_catches_a_running_statistics_update) {
  manual_seed(6);
  nn::BatchNorm1d bn(3);
  bn.eval();
  Tensor x = normal({4, 3}).set_requires_grad(true);
  Tensor loss = sum(mul(bn.forward(x), x));
  bn.train();
  bn.forward(normal({4, 3}));  // a training forward updates running_mean in place
  check_error([&] { loss.backward(); }, "'batch_norm': the tensor it saved as 'running_mean'");
}
