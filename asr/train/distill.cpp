#include "asr/train/distill.h"

#include <filesystem>

#include "asr/config/config.h"
#include "asr/data/model_assets.h"
#include "asr/model/checkpoint.h"
#include "autograd/ops.h"

namespace asr {

Tensor distillation_loss(const Tensor& student, const Tensor& teacher,
                         const std::vector<int64_t>& lengths, float temperature) {
  AG_CHECK(student.shape() == teacher.shape(), "distillation: student logits ",
           ag::shape_str(student.shape()), " and teacher logits ", ag::shape_str(teacher.shape()),
           " differ (the teacher needs the same vocabulary and subsampling)");
  AG_CHECK(student.dim() == 3 && static_cast<int64_t>(lengths.size()) == student.size(0),
           "distillation: ", lengths.size(), " lengths for logits ", ag::shape_str(student.shape()));
  AG_CHECK(temperature > 0, "distillation: temperature ", temperature, " must be positive");
  const int64_t B = student.size(0), T = student.size(1);
  std::vector<float> real(static_cast<size_t>(B * T), 0.0f);  // [B, T, 1]: 1 on real frames
  for (int64_t b = 0; b < B; ++b) {
    AG_CHECK(lengths[b] >= 0 && lengths[b] <= T, "distillation: length ", lengths[b],
             " outside [0, ", T, "]");
    for (int64_t t = 0; t < lengths[b]; ++t) real[static_cast<size_t>(b * T + t)] = 1;
  }
  const Tensor mask = ag::from_vector(real, {B, T, 1}).to(student.device());
  const Tensor z_teacher = ag::div(teacher.detach(), temperature);  // [B, T, V]
  const Tensor log_p_teacher = ag::log_softmax(z_teacher, -1);
  const Tensor log_p_student = ag::log_softmax(ag::div(student, temperature), -1);
  const Tensor kl = ag::mul(ag::exp(log_p_teacher), ag::sub(log_p_teacher, log_p_student));
  return ag::mul(ag::sum(ag::mul(kl, mask)), temperature * temperature);
}

std::unique_ptr<AsrModel> load_teacher(const std::string& path, int64_t vocab_size,
                                       ag::Device device) {
  const std::string key = "train.distill.teacher " + path;
  AG_CHECK(std::filesystem::is_regular_file(path), key, ": file not found");
  LoadedCheckpoint ckpt = read_checkpoint(path);
  AG_CHECK(!ckpt.config_yaml.empty(), key, ": carries no config in its metadata");
  const Config cfg = parse_config(ckpt.config_yaml, path + " (embedded config)");
  const nn::NamedTensors weights = model_weights(ckpt.model.tensors);
  for (const auto& [name, t] : weights)
    if (name == "ctc.ctc_lo.weight")
      AG_CHECK(t.size(0) == vocab_size, key, ": vocabulary of ", t.size(0),
               " tokens, the student's has ", vocab_size, " (train both with one tokenizer)");
  auto teacher = std::make_unique<AsrModel>(cfg.model, vocab_size, cfg.hybrid.decoder_config());
  try {
    teacher->load_state_dict(weights);
  } catch (const ag::Error& e) {
    throw ag::Error(key + ": " + e.what());
  }
  teacher->eval();
  teacher->to(device);
  return teacher;
}

}  // namespace asr
