// Helpers shared by the layer, block and encoder tests.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "common/gradcheck.h"
#include "nn/module.h"

namespace layers_testing {

using ag::Tensor;

// {x (marked to need a gradient), every parameter of m}: the inputs for check_gradients
// when the function reads the parameters through m itself.
inline std::vector<Tensor> with_parameters(Tensor x, nn::Module& m) {
  m.zero_grad();
  x.set_requires_grad(true);
  std::vector<Tensor> inputs{x};
  for (const Tensor& p : m.parameters()) inputs.push_back(p);
  return inputs;
}

// The positions in with_parameters(x, m) of m's parameters whose names end in one of `tails`.
inline std::vector<size_t> inputs_named(const nn::Module& m,
                                         const std::vector<std::string>& tails) {
  auto ends_with = [](const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
  };
  std::vector<size_t> out;
  size_t index = 1;  // input 0 is x
  for (const auto& [name, p] : m.named_parameters()) {
    for (const std::string& tail : tails)
      if (ends_with(name, tail)) {
        out.push_back(index);
        break;
      }
    ++index;
  }
  return out;
}

// The inputs of with_parameters(x, m) whose gradient is 0 by construction: biases added to
// every score of a softmax row, which the softmax cancels (the keys' bias of a softmax
// attention: linear_k of mha and gqa, linear_uk of mla and mla_simple; the Branchformer's
// pooling scores). Linear attention has no softmax: its key bias counts.
inline std::vector<size_t> softmax_cancelled_biases(const nn::Module& m,
                                                    const std::string& attention_type) {
  std::vector<std::string> tails{"pooling_proj1.bias", "pooling_proj2.bias"};
  if (attention_type != "linear") tails.insert(tails.end(), {"linear_k.bias", "linear_uk.bias"});
  return inputs_named(m, tails);
}

// Sets every parameter of m to normal(0, std) (initial values like the cgMLP's near-zero
// conv weights would hide errors).
inline void randomize(nn::Module& m, float std = 0.5f) {
  ag::NoGradGuard no_grad;
  for (const Tensor& p : m.parameters()) ag::copy_(p, ag::normal(p.shape(), 0.0f, std));
}

// Name -> shape of every parameter.
inline std::map<std::string, ag::Shape> parameter_shapes(const nn::Module& m) {
  std::map<std::string, ag::Shape> out;
  for (auto& [n, t] : m.named_parameters()) out[n] = t.shape();
  return out;
}

// x [B, T, C] with frames t of item b (and only those) replaced by fresh noise wherever
// pick(b, t) holds.
template <class Pick>
Tensor perturb_frames(const Tensor& x, Pick pick) {
  Tensor y = ag::clone_data(x);
  const int64_t B = x.size(0), T = x.size(1), C = x.size(2);
  float* p = y.data();
  Tensor noise = ag::normal({B, T, C}, 0.0f, 3.0f);
  const float* n = noise.data();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      if (pick(b, t))
        for (int64_t c = 0; c < C; ++c) p[(b * T + t) * C + c] = n[(b * T + t) * C + c];
  return y;
}

// Largest |a - b| over frames t of item b where keep(b, t) holds; a, b [B, T, C].
template <class Keep>
float max_diff_at(const Tensor& a, const Tensor& b, Keep keep) {
  BOOST_REQUIRE(a.shape() == b.shape());
  const int64_t B = a.size(0), T = a.size(1), C = a.size(2);
  std::vector<float> x = a.to_vector(), y = b.to_vector();
  float m = 0;
  for (int64_t i = 0; i < B; ++i)
    for (int64_t t = 0; t < T; ++t)
      if (keep(i, t))
        for (int64_t c = 0; c < C; ++c) {
          const size_t k = (i * T + t) * C + c;
          m = std::max(m, std::fabs(x[k] - y[k]));
        }
  return m;
}

}  // namespace layers_testing
