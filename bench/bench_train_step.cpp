// One training step of a Conformer CTC model, our side: forward, CTC loss (summed / batch),
// backward, Adam step. Default: the benchmark Conformer of issue #8 (12 blocks, d_model 256,
// 4 heads, FFN 4 x d_model, conv kernel 15, relative positions, batch-norm conv modules,
// dropout 0, 80 fbank bins, a 5000-token CTC head) on a batch of 32 x 250 input frames at
// full length, with random features and 10-30 labels per utterance. The batch is
// uploaded once, before timing. Prints the parameter count, the median ms/step and one JSON
// line. bench/train_step_pytorch.py is the same step in PyTorch eager.
//
//   bench_train_step [--device cpu|cuda] [--batch 32] [--frames 250] [--layers 12]
//                    [--d-model 256] [--vocab 5000] [--steps 10] [--warmup 3] [--threads 0]
//                    [--tf32]
#include <omp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "asr/model/asr_model.h"
#include "asr/model/device.h"
#include "autograd/cuda.h"
#include "autograd/ops.h"
#include "nn/optim.h"
#include "nn/subsampling.h"
#include "timer.h"

namespace {

struct Options {
  std::string device = "cpu";
  int64_t batch = 32, frames = 250, layers = 12, d_model = 256, vocab = 5000;
  int steps = 10, warmup = 3, threads = 0;
  bool tf32 = false;
};

nn::EncoderConfig conformer(const Options& o) {
  nn::EncoderConfig c;
  c.input_dim = 80;
  c.d_model = o.d_model;
  c.num_layers = o.layers;
  c.attention.num_heads = 4;
  c.attention.dropout = 0;
  c.ffn_dim = 4 * o.d_model;
  c.conv_kernel = 15;
  c.positional_encoding = "relative";
  c.conv_norm = "batch_norm";
  c.dropout = 0;
  c.positional_dropout = 0;
  return c;
}

// Utterance b: n = min(10 + (7 b mod 21), max(1, T' / 2)) labels (T' encoder frames, so every
// target is feasible), label i = 1 + (31 b + 17 i) mod (vocab - 1). The PyTorch side makes
// the same.
std::vector<std::vector<int64_t>> fixed_targets(int64_t batch, int64_t vocab, int64_t frames) {
  const int64_t t_out = nn::Conv2dSubsampling::output_length(frames);
  std::vector<std::vector<int64_t>> targets(batch);
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t n = std::min<int64_t>(10 + (7 * b) % 21, std::max<int64_t>(1, t_out / 2));
    for (int64_t i = 0; i < n; ++i) targets[b].push_back(1 + (31 * b + 17 * i) % (vocab - 1));
  }
  return targets;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"One Conformer CTC training step (forward, CTC, backward, Adam), timed."};
  Options o;
  app.add_option("--device", o.device, "cpu | cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  const auto positive = CLI::PositiveNumber;
  app.add_option("--batch", o.batch, "utterances per batch")->check(positive);
  app.add_option("--frames", o.frames, "input frames per utterance")->check(CLI::Range(7, 100000));
  app.add_option("--layers", o.layers, "Conformer blocks")->check(positive);
  app.add_option("--d-model", o.d_model, "model width (4 heads, FFN 4x)")->check(positive);
  app.add_option("--vocab", o.vocab, "CTC tokens, blank included")->check(CLI::Range(2, 1000000));
  app.add_option("--steps", o.steps, "timed steps (the median is reported)")->check(positive);
  app.add_option("--warmup", o.warmup, "untimed steps first")->check(CLI::NonNegativeNumber);
  app.add_option("--threads", o.threads, "CPU threads (0: OpenMP's default)");
  app.add_flag("--tf32", o.tf32, "TF32 tensor-core matmuls on CUDA");
  CLI11_PARSE(app, argc, argv);
  try {
    if (o.threads > 0) omp_set_num_threads(o.threads);
    const ag::Device device = asr::select_device(o.device, "--device");
    ag::cuda::set_allow_tf32(o.tf32);
    ag::manual_seed(0);
    asr::AsrModel model(conformer(o), o.vocab);
    model.to(device);
    model.train();
    nn::Adam opt(model.named_parameters(), 1e-4f);
    const ag::Tensor feats = ag::normal({o.batch, o.frames, 80}).to(device);  // [B, T, 80]
    const std::vector<int64_t> lengths(o.batch, o.frames);
    const auto targets = fixed_targets(o.batch, o.vocab, o.frames);
    float last_loss = 0;
    auto step = [&] {
      nn::EncoderOutput out = model.logits(feats, lengths);  // [B, T', vocab]
      ag::CtcResult ctc = ag::ctc_loss(out.out, out.lengths, targets);
      ag::Tensor loss = ag::div(ag::sum(ctc.nll), static_cast<float>(o.batch));
      loss.backward();
      opt.step();
      opt.zero_grad();
      if (device == ag::Device::cuda) ag::cuda::synchronize();  // the step's kernels are done
      last_loss = loss.item();
    };
    const double ms = bench::median_ms(step, o.warmup, o.steps, 0.0);
    std::cout << "latentasr train step: " << model.num_parameters() << " parameters, "
              << o.device << ", batch " << o.batch << " x " << o.frames << " frames, " << o.layers
              << " layers, d_model " << o.d_model << ": " << std::fixed << std::setprecision(2)
              << ms << " ms/step (median of " << o.steps << "; loss " << std::setprecision(3)
              << last_loss << ")\n";
    const nlohmann::json j = {{"bench", "train_step"}, {"impl", "latentasr"},
                              {"device", o.device}, {"batch", o.batch}, {"frames", o.frames},
                              {"layers", o.layers}, {"d_model", o.d_model}, {"vocab", o.vocab},
                              {"params", model.num_parameters()},
                              {"threads", omp_get_max_threads()}, {"tf32", o.tf32},
                              {"steps", o.steps}, {"ms", std::round(ms * 1000) / 1000}};
    std::cout << j.dump() << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bench_train_step: " << e.what() << "\n";
    return 1;
  }
}
