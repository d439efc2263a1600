// Distillation from a teacher's CTC posteriors (train.distill.*; docs/training.md): the loss
// adds weight * T^2 * KL(softmax(z_teacher / T) || softmax(z_student / T)) per real frame,
// the teacher run without gradients on the same batch.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "asr/model/asr_model.h"

namespace asr {

// student, teacher: logits [B, T, V]; lengths [B]: real frames (the rest is padding).
// Returns T^2 sum_{b, t < lengths[b]} sum_v p_t (log p_t - log p_s) as a scalar [], with
// p = softmax(logits / T) over v; the gradient reaches the student only. Throws ag::Error when
// the shapes differ (another vocabulary or subsampling) or lengths do not fit.
Tensor distillation_loss(const Tensor& student, const Tensor& teacher,
                         const std::vector<int64_t>& lengths, float temperature);

// The teacher in `path` (config in its metadata, weights loaded strictly), in eval mode, on
// `device`. Throws ag::Error naming train.distill.teacher when the file is missing, carries
// no config, or its vocabulary is not vocab_size.
std::unique_ptr<AsrModel> load_teacher(const std::string& path, int64_t vocab_size,
                                       ag::Device device);

}  // namespace asr
