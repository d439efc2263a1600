#include "ctc.h"

#include "../autograd.h"
#include "../kernels/ctc.h"
#include "binary.h"
#include "elementwise_impl.h"
#include "shape.h"

namespace ag {

CtcResult ctc_loss(const Tensor& logits, const std::vector<int64_t>& input_lengths,
                   const std::vector<std::vector<int64_t>>& targets) {
  detail::check_float(logits, "ctc_loss");
  AG_CHECK(logits.dim() == 3, "ctc_loss: logits ", shape_str(logits.shape()), " are not [B, T, V]");
  const int64_t B = logits.size(0), T = logits.size(1), V = logits.size(2);
  AG_CHECK(static_cast<int64_t>(input_lengths.size()) == B &&
               static_cast<int64_t>(targets.size()) == B,
           "ctc_loss: ", input_lengths.size(), " input lengths and ", targets.size(),
           " targets for a batch of ", B);
  int64_t L_max = 1;
  for (const auto& t : targets) L_max = std::max<int64_t>(L_max, static_cast<int64_t>(t.size()));
  std::vector<int64_t> padded(B * L_max, 0), target_lengths(B);
  for (int64_t b = 0; b < B; ++b) {
    AG_CHECK(input_lengths[b] >= 0 && input_lengths[b] <= T, "ctc_loss: input length ",
             input_lengths[b], " of utterance ", b, " outside [0, ", T, "]");
    target_lengths[b] = static_cast<int64_t>(targets[b].size());
    for (size_t i = 0; i < targets[b].size(); ++i) {
      int64_t id = targets[b][i];
      AG_CHECK(id >= 1 && id < V, "ctc_loss: label ", id, " of utterance ", b,
               " outside [1, ", V, ") (0 is the blank)");
      padded[b * L_max + i] = id;
    }
  }
  Tensor lengths_t = from_int_vector(input_lengths, {B});
  Tensor targets_t = from_int_vector(padded, {B, L_max});
  Tensor target_lengths_t = from_int_vector(target_lengths, {B});
  Tensor nll = empty({B}, DType::f32, logits.device());
  Tensor feasible = empty({B}, DType::u8);
  Tensor grad = logits.requires_grad() && grad_enabled() ? empty_like(logits) : Tensor();
  kernels::ctc[logits.device()](logits.data(), lengths_t.data_as<int64_t>(),
                                targets_t.data_as<int64_t>(), target_lengths_t.data_as<int64_t>(),
                                B, T, V, L_max, nll.data(), feasible.data_as<uint8_t>(),
                                grad.defined() ? grad.data() : nullptr);
  CtcResult r;
  for (int64_t b = 0; b < B; ++b) r.feasible.push_back(feasible.data_as<uint8_t>()[b] != 0);
  r.nll = attach(nll, "ctc_loss", {logits}, {}, [grad, B](const Tensor& g, const Needs&) {
    return std::vector<Tensor>{mul(grad, reshape(g, {B, 1, 1}))};
  });
  return r;
}

}  // namespace ag
