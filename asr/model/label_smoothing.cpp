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
  AG_CHECK(V >= 2, what, ": a vocabulary of ", V, " token; smoothing needs at least 2");
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
  const double other = smoothing / static_cast<double>(V - 1), label = 1.0 - smoothing;
  // KL(t || p) = sum t log t - sum t log p, where per real position
  //   sum_k t_k log p_k = (label - other) log p_y + other sum_k log p_k
  // so the target distribution is never formed.
  std::vector<int64_t> ids(static_cast<size_t>(B * L), 0);
  std::vector<float> real(static_cast<size_t>(B * L), 0.0f);
  int64_t tokens = 0;
  for (int64_t b = 0; b < B; ++b)
    for (size_t i = 0; i < targets[b].size(); ++i, ++tokens) {
      ids[b * L + static_cast<int64_t>(i)] = targets[b][i];
      real[b * L + static_cast<int64_t>(i)] = 1.0f;
    }
  const double t_log_t =
      label * std::log(label) + (other > 0 ? (V - 1) * other * std::log(other) : 0.0);
  const ag::Device dev = logits.device();
  ag::Tensor index = ag::to_device(ag::from_int_vector(ids, {B, L, 1}), dev);
  ag::Tensor mask = ag::to_device(ag::from_vector(real, {B, L, 1}), dev);
  ag::Tensor logp = ag::log_softmax(logits, -1);  // [B, L, V]
  ag::Tensor per_position =
      ag::add(ag::mul(ag::gather(logp, 2, index), static_cast<float>(label - other)),
              ag::mul(ag::sum(logp, {2}, true), static_cast<float>(other)));  // [B, L, 1]
  ag::Tensor cross = ag::sum(ag::mul(per_position, mask));
  return ag::rsub(static_cast<float>(t_log_t * static_cast<double>(tokens)), cross);
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
