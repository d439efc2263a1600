// Distillation: the loss is T^2 KL(teacher || student) over the real frames (checked against
// a direct computation), zero when the student is the teacher, blind to padding, its gradient
// matches finite differences and never reaches the teacher; the teacher checkpoint and the
// config are refused with a message when they do not fit.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>

#include "asr/config/config_schema.h"
#include "asr/train/distill.h"
#include "autograd/ops.h"
#include "autograd/random.h"
#include "common/error_of.h"
#include "common/gradcheck.h"

namespace {

bool has(const std::string& text, const std::string& part) {
  bool found = text.find(part) != std::string::npos;
  if (!found) BOOST_TEST_MESSAGE("'" << part << "' not in: " << text);
  return found;
}

// T^2 sum over real frames of KL(softmax(t / T) || softmax(s / T)), in double.
double direct_kl(const ag::Tensor& s, const ag::Tensor& t, const std::vector<int64_t>& lengths,
                 double temp) {
  const int64_t T = s.size(1), V = s.size(2);
  const std::vector<float> vs = s.to_vector(), vt = t.to_vector();
  double sum = 0;
  for (size_t b = 0; b < lengths.size(); ++b)
    for (int64_t f = 0; f < lengths[b]; ++f) {
      const size_t at = (b * static_cast<size_t>(T) + static_cast<size_t>(f)) * static_cast<size_t>(V);
      double zs = 0, zt = 0;
      for (int64_t v = 0; v < V; ++v) {
        zs += std::exp(vs[at + v] / temp);
        zt += std::exp(vt[at + v] / temp);
      }
      for (int64_t v = 0; v < V; ++v) {
        const double log_pt = vt[at + v] / temp - std::log(zt);
        const double log_ps = vs[at + v] / temp - std::log(zs);
        sum += std::exp(log_pt) * (log_pt - log_ps);
      }
    }
  return temp * temp * sum;
}

}  // namespace

BOOST_AUTO_TEST_CASE(loss_is_the_kl_over_real_frames) {
  ag::manual_seed(4);
  const ag::Tensor student = ag::mul(ag::normal({2, 6, 5}), 2.0f);
  const ag::Tensor teacher = ag::mul(ag::normal({2, 6, 5}), 2.0f);
  const std::vector<int64_t> lengths = {6, 3};
  for (float temp : {1.0f, 2.0f, 0.5f}) {
    BOOST_TEST_CONTEXT("T " << temp) {
      const float loss = asr::distillation_loss(student, teacher, lengths, temp).item();
      BOOST_CHECK_GT(loss, 0);
      BOOST_CHECK_CLOSE(loss, direct_kl(student, teacher, lengths, temp), 1e-3);
      BOOST_CHECK_EQUAL(asr::distillation_loss(student, student, lengths, temp).item(), 0.0f);
    }
  }
  // Padding frames (b 1, t >= 3) do not count.
  std::vector<float> padded = teacher.to_vector();
  for (size_t i = (6 + 3) * 5; i < padded.size(); ++i) padded[i] += 7;
  BOOST_CHECK_EQUAL(
      asr::distillation_loss(student, ag::from_vector(padded, {2, 6, 5}), lengths, 1).item(),
      asr::distillation_loss(student, teacher, lengths, 1).item());
}

BOOST_AUTO_TEST_CASE(gradient_matches_finite_differences_and_spares_the_teacher) {
  ag::manual_seed(6);
  const ag::Tensor teacher = ag::normal({2, 4, 5});
  for (float temp : {1.0f, 2.0f}) {
    ag::Tensor student = ag::normal({2, 4, 5});
    student.set_requires_grad(true);
    testing::check_gradients(
        [&](const std::vector<ag::Tensor>& in) {
          return asr::distillation_loss(in[0], teacher, {4, 2}, temp);
        },
        {student});
  }
  ag::Tensor s = ag::normal({2, 4, 5}), t = ag::normal({2, 4, 5});
  s.set_requires_grad(true);
  t.set_requires_grad(true);
  asr::distillation_loss(s, t, {4, 2}, 1).backward();
  BOOST_CHECK(s.grad().defined());
  BOOST_CHECK(!t.grad().defined());
}

BOOST_AUTO_TEST_CASE(mismatches_and_bad_configs_are_refused) {
  const ag::Tensor a = ag::normal({2, 4, 5});
  BOOST_CHECK(has(testing::error_of([&] {
                    asr::distillation_loss(a, ag::normal({2, 4, 6}), {4, 4}, 1);
                  }),
                  "the teacher needs the same vocabulary and subsampling"));
  BOOST_CHECK(has(testing::error_of([&] { asr::distillation_loss(a, a, {4}, 1); }),
                  "1 lengths for logits [2,4,5]"));
  const std::string missing = (std::filesystem::temp_directory_path() / "no_teacher.safetensors").string();
  BOOST_CHECK(has(testing::error_of([&] { asr::load_teacher(missing, 5, ag::Device::cpu); }),
                  "train.distill.teacher " + missing + ": file not found"));

  const asr::Config defaults;
  const std::string yaml = asr::to_yaml(defaults);
  auto error = [&](const std::vector<std::string>& overrides) {
    return testing::error_of([&] { asr::parse_config(yaml, "c", overrides); });
  };
  BOOST_CHECK(has(error({"train.distill.weight=0.5"}),
                  "'train.distill.weight' (0.5) needs 'train.distill.teacher'"));
  BOOST_CHECK(has(error({"train.distill.teacher=mha.safetensors"}),
                  "'train.distill.teacher' is set but 'train.distill.weight' is 0"));
  BOOST_CHECK(has(error({"train.distill.teacher=m", "train.distill.weight=-1"}),
                  "'train.distill.weight' must be a finite number >= 0"));
  BOOST_CHECK(has(error({"train.distill.teacher=m", "train.distill.weight=1",
                         "train.distill.temperature=0"}),
                  "'train.distill.temperature' must be a finite number > 0"));
  BOOST_CHECK_EQUAL(error({"train.distill.teacher=m", "train.distill.weight=1"}), "(no error)");
}
