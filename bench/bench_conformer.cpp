// Conformer training-step benchmark, our side: 12 Conformer blocks (d_model 256, 4 heads,
// FFN 1024, kernel 31, absolute positions, dropout 0.1) on x [8, 250, 256], one step =
// forward, mean-square loss, backward, Adam update. Prints one JSON line per attention type:
// median step ms and the peak resident memory the steps added (MiB).
// Usage: bench_conformer [attention types...] (default: mha). bench/conformer.py drives it.
#include <sys/resource.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "autograd/ops.h"
#include "nn/conformer_block.h"
#include "nn/encoder.h"
#include "nn/optim.h"
#include "timer.h"

namespace {

constexpr int64_t kLayers = 12, kD = 256, kHeads = 4, kFfn = 1024, kKernel = 31, kBatch = 8,
                  kFrames = 250;

double rss_mib() {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

struct Stack : nn::Module {
  std::shared_ptr<nn::ModuleList<nn::ConformerBlock>> layers;
  explicit Stack(const nn::EncoderConfig& c) {
    layers = register_module("layers", std::make_shared<nn::ModuleList<nn::ConformerBlock>>());
    for (int64_t i = 0; i < c.num_layers; ++i)
      layers->push_back(std::make_shared<nn::ConformerBlock>(
          c, nn::make_attention(nn::layer_attention_config(c))));
  }
};

nn::EncoderConfig config(const std::string& type) {
  nn::EncoderConfig c;
  c.d_model = kD;
  c.num_layers = kLayers;
  c.ffn_dim = kFfn;
  c.conv_kernel = kKernel;
  c.positional_encoding = "absolute";
  c.dropout = 0.1f;
  c.attention.type = type;
  c.attention.num_heads = kHeads;
  c.attention.dropout = 0.1f;
  c.attention.latent_dim = type == "mla" || type == "mla_simple" ? kD : 0;
  c.attention.num_kv_heads = type == "gqa" ? 2 : 0;
  return c;
}

void run(const std::string& type) {
  ag::manual_seed(0);
  Stack model(config(type));
  model.train();
  nn::Adam opt(model.named_parameters(), 1e-4f);
  ag::Tensor x = ag::normal({kBatch, kFrames, kD});
  double base = rss_mib();
  auto step = [&] {
    ag::Tensor h = x;
    for (auto& block : *model.layers) h = block->forward(h, ag::Tensor(), ag::Tensor(), ag::Tensor());
    ag::mean(ag::mul(h, h)).backward();
    opt.step();
    opt.zero_grad();
  };
  double ms = bench::median_ms(step, 1, 5, 0.0);
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  std::printf("{\"attention\": \"%s\", \"ms\": %.2f, \"peak_mib\": %.1f, \"params\": %lld}\n",
              type.c_str(), ms, usage.ru_maxrss / 1024.0 - base,
              static_cast<long long>(model.num_parameters()));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> types;
  for (int i = 1; i < argc; ++i) types.push_back(argv[i]);
  if (types.empty()) types.push_back("mha");
  for (const auto& t : types) run(t);
  return 0;
}
