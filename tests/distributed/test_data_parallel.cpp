// Run by ctest under `mpirun -np 2` (also passes as a single process): data-parallel
// training on N ranks ends with the parameters of one process on the same global batches,
// activation checkpointing included.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "autograd/ops.h"
#include "distributed/data_parallel.h"
#include "nn/checkpoint.h"
#include "nn/linear.h"
#include "nn/optim.h"

namespace {

constexpr int64_t kMicroRows = 4;  // rows of one micro-batch, all ranks together
constexpr int64_t kAccum = 2;      // micro-batches per optimizer step
constexpr int kSteps = 5;

struct TinyNet : nn::Module {
  std::shared_ptr<nn::Linear> fc1 = register_module("fc1", std::make_shared<nn::Linear>(4, 8));
  std::shared_ptr<nn::Linear> fc2 = register_module("fc2", std::make_shared<nn::Linear>(8, 3));
  ag::Tensor forward(const ag::Tensor& x) const { return fc2->forward(ag::tanh(fc1->forward(x))); }
};

// fc1 used in two activation-checkpointed segments and once outside them (or the same
// function without checkpointing): its gradient has three parts, and the all-reduce must
// start only when all three are in.
struct SharedNet : nn::Module {
  std::shared_ptr<nn::Linear> fc1 = register_module("fc1", std::make_shared<nn::Linear>(4, 4));
  std::shared_ptr<nn::Linear> fc2 = register_module("fc2", std::make_shared<nn::Linear>(4, 3));
  bool checkpointed = false;
  ag::Tensor forward(const ag::Tensor& x) const {
    auto segment = [this](const std::vector<ag::Tensor>& in) {
      return ag::tanh(fc1->forward(in[0]));
    };
    auto run = [&](const ag::Tensor& h) {
      return checkpointed ? nn::checkpoint(segment, {h}, {}, fc1->parameters()) : segment({h});
    };
    return fc2->forward(ag::add(run(run(x)), fc1->forward(x)));
  }
};

// Rows [first, first + n) of the synthetic data of one micro-step: x [n, 4], y [n, 3].
std::pair<ag::Tensor, ag::Tensor> rows(int64_t micro_step, int64_t first, int64_t n) {
  std::vector<float> x, y;
  for (int64_t r = first; r < first + n; ++r) {
    for (int64_t c = 0; c < 4; ++c) x.push_back(std::sin(0.7f * static_cast<float>(micro_step * 13 + r * 4 + c)));
    for (int64_t c = 0; c < 3; ++c) y.push_back(std::cos(0.3f * static_cast<float>(micro_step * 7 + r * 3 + c)));
  }
  return {ag::from_vector(x, {n, 4}), ag::from_vector(y, {n, 3})};
}

// Squared error summed over the rows, divided by the global micro-batch and the accumulation.
template <class Net>
void backward_on(const Net& net, int64_t micro_step, int64_t first, int64_t n) {
  auto [x, y] = rows(micro_step, first, n);
  ag::Tensor d = ag::sub(net.forward(x), y);
  ag::div(ag::sum(ag::mul(d, d)), static_cast<float>(kMicroRows * kAccum)).backward();
}

void update(nn::Optimizer& opt) {
  nn::clip_grad_norm(opt.params(), 0.5f);
  opt.step();
  opt.zero_grad();
}

std::vector<float> flat_params(const nn::Module& net) {
  std::vector<float> all;
  for (auto& [name, p] : net.named_parameters()) {
    std::vector<float> v = p.to_vector();
    all.insert(all.end(), v.begin(), v.end());
  }
  return all;
}

template <class Net = TinyNet>
std::vector<float> train_one_process() {
  ag::manual_seed(11);
  Net net;
  nn::Adam opt(net.named_parameters(), 0.05f);
  for (int s = 0; s < kSteps; ++s) {
    for (int64_t m = 0; m < kAccum; ++m) backward_on(net, s * kAccum + m, 0, kMicroRows);
    update(opt);
  }
  return flat_params(net);
}

template <class Net = TinyNet>
std::vector<float> train_data_parallel(double bucket_mb, size_t* buckets = nullptr,
                                       void (*setup)(Net&) = nullptr) {
  dist::Communicator& comm = dist::world();
  ag::manual_seed(11 + static_cast<uint64_t>(comm.rank()));  // rank 0's start must win
  Net net;
  if (setup) setup(net);
  nn::Adam opt(net.named_parameters(), 0.05f);
  dist::DataParallel dp(comm, opt.params(), bucket_mb);
  dp.broadcast_from_root(net);
  const int64_t mine = kMicroRows / comm.world_size();
  for (int s = 0; s < kSteps; ++s) {
    for (int64_t m = 0; m < kAccum; ++m) {
      dp.set_sync(m == kAccum - 1);  // no communication on accumulation micro-steps
      backward_on(net, s * kAccum + m, comm.rank() * mine, mine);
    }
    dp.finish();
    update(opt);
  }
  if (buckets) *buckets = dp.num_buckets();
  BOOST_TEST(dp.stats().syncs == kSteps);
  return flat_params(net);
}

void check_close(const std::vector<float>& a, const std::vector<float>& b) {
  BOOST_REQUIRE_EQUAL(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    BOOST_TEST(std::abs(a[i] - b[i]) <= 1e-5f * std::max(1.0f, std::abs(b[i])),
               "parameter " << i << ": " << a[i] << " vs " << b[i]);
}

}  // namespace

BOOST_AUTO_TEST_CASE(ranks_match_one_process_on_the_global_batch) {
  BOOST_REQUIRE_EQUAL(kMicroRows % dist::world().world_size(), 0);
  check_close(train_data_parallel(25), train_one_process());
}

BOOST_AUTO_TEST_CASE(bucket_boundaries_do_not_change_the_result) {
  size_t many = 0, one = 0;
  std::vector<float> tiny = train_data_parallel(1e-5, &many);  // one parameter per bucket
  std::vector<float> whole = train_data_parallel(25, &one);
  BOOST_TEST(many == 4u);
  BOOST_TEST(one == 1u);
  check_close(tiny, whole);
}

BOOST_AUTO_TEST_CASE(a_parameter_shared_by_checkpointed_segments_is_reduced_whole) {
  // One parameter per bucket: a bucket sent on a partial gradient would change the result.
  std::vector<float> plain = train_one_process<SharedNet>();
  std::vector<float> ckpt = train_data_parallel<SharedNet>(
      1e-5, nullptr, [](SharedNet& n) { n.checkpointed = true; });
  check_close(ckpt, plain);
}

BOOST_AUTO_TEST_CASE(a_rank_without_backward_still_syncs) {
  // A rank whose micro-batch had nothing to learn from runs no backward; it must still
  // take part in every bucket (its gradients count as zero) instead of hanging the others.
  dist::Communicator& comm = dist::world();
  ag::manual_seed(3);
  TinyNet net;
  nn::SGD opt(net.named_parameters(), 0.1f);
  dist::DataParallel dp(comm, opt.params(), 1e-5);
  dp.set_sync(true);
  if (comm.rank() == 0) backward_on(net, 0, 0, 1);
  dp.finish();
  for (auto& [name, p] : opt.params()) BOOST_TEST(p.grad().defined(), name);
}
