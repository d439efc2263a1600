#include "asr/model/label_smoothing.h"

#include <cmath>

#include "autograd/ops.h"

namespace asr {
namespace {

void check(const ag::Tensor& logits, const std::vector<std::vector<int64_t>>& targets,
           const char* what) {
  AG_CHECK(logits.dim() == 3 && logits.size(0) == static_cast<int64_t>(targets.size()), what,
           ": logits ", ag::shape_str(logits.shape()), " are not [B, L, V] for ", targets.size(),
           " target sequences");
  const int64_t L = logits.size(1), V = logits.size(2);
  for (size_t b = 0; b < targets.size(); ++b) {
    AG_CHECK(static_cast<int64_t>(targets[b].size()) <= L, what, ": target ", b, " has ",
             targets[b].size(), " tokens, more than the ", L, " positions");
    for (int64_t id : targets[b])
      AG_CHECK(id >= 0 && id < V, what, ": target ", b, " holds id ", id, " outside [0, ", V,
               ")");
  }
}

}  // namespace

ag::Tensor label_smoothing_loss(const ag::Tensor& logits,
                                const std::vector<std::vector<int64_t>>& targets,
                                float smoothing) {
  check(logits, targets, "label_smoothing_loss");
  AG_CHECK(smoothing >= 0 && smoothing < 1, "label_smoothing_loss: smoothing ", smoothing,
           " outside [0, 1)");
  const int64_t B = logits.size(0), L = logits.size(1), V = logits.size(2);
  const float other = smoothing / static_cast<float>(V - 1), label = 1.0f - smoothing;
  // The target distribution [B, L, V] (0 rows at padding) and its sum of t log t.
  std::vector<float> dist(static_cast<size_t>(B * L * V), 0.0f);
  double entropy_part = 0;
  const double per_token = label * std::log(static_cast<double>(label)) +
                           (other > 0 ? (V - 1) * other * std::log(static_cast<double>(other)) : 0);
  for (int64_t b = 0; b < B; ++b)
    for (size_t i = 0; i < targets[b].size(); ++i) {
      float* row = dist.data() + (b * L + static_cast<int64_t>(i)) * V;
      std::fill(row, row + V, other);
      row[targets[b][i]] = label;
      entropy_part += per_token;
    }
  ag::Tensor t = ag::to_device(ag::from_vector(dist, {B, L, V}), logits.device());
  ag::Tensor cross = ag::sum(ag::mul(t, ag::log_softmax(logits, -1)));  // sum t log p
  return ag::div(ag::rsub(static_cast<float>(entropy_part), cross), static_cast<float>(B));
}

double token_accuracy(const ag::Tensor& logits, const std::vector<std::vector<int64_t>>& targets) {
  check(logits, targets, "token_accuracy");
  const int64_t L = logits.size(1);
  const std::vector<int64_t> best = ag::argmax(logits.detach(), -1).to_int_vector();  // [B * L]
  int64_t right = 0, total = 0;
  for (size_t b = 0; b < targets.size(); ++b)
    for (size_t i = 0; i < targets[b].size(); ++i, ++total)
      right += best[b * L + i] == targets[b][i];
  return total == 0 ? 0.0 : static_cast<double>(right) / static_cast<double>(total);
}

}  // namespace asr
