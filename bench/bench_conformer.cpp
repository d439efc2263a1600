// Conformer training-step benchmark, our side: 12 Conformer blocks (d_model 256, 4 heads,
// FFN 1024, kernel 31) on x [8, T, 256], one step = forward, mean-square loss, backward, Adam
// update. Prints one JSON line per attention type: median step ms, the peak resident memory
// the steps added (MiB), the step's analytic FLOP count (flops.h) and GFLOP/s, and the time
// OpenBLAS sgemm takes for the step's matrix products alone (same shapes, same threads).
// Usage: bench_conformer [--frames T] [--relative] [--dropout P] [attention types...]
// (defaults: T 250, absolute positions, dropout 0.1, mha). bench/conformer.py drives it.
#include <cblas.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "autograd/ops.h"
#include "flops.h"
#include "nn/conformer_block.h"
#include "nn/encoder.h"
#include "nn/optim.h"
#include "nn/positional_encoding.h"
#include "timer.h"

namespace {

constexpr int64_t kLayers = 12, kD = 256, kHeads = 4, kFfn = 1024, kKernel = 31, kBatch = 8;

struct Options {
  int64_t frames = 250;
  bool relative = false;
  float dropout = 0.1f;
};

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

nn::EncoderConfig config(const std::string& type, const Options& o) {
  nn::EncoderConfig c;
  c.d_model = kD;
  c.num_layers = kLayers;
  c.ffn_dim = kFfn;
  c.conv_kernel = kKernel;
  c.positional_encoding = o.relative ? "relative" : "absolute";
  c.dropout = o.dropout;
  c.attention.type = type;
  c.attention.num_heads = kHeads;
  c.attention.dropout = o.dropout;
  c.attention.latent_dim = type == "mla" || type == "mla_simple" ? kD : 0;
  c.attention.num_kv_heads = type == "gqa" ? 2 : 0;
  return c;
}

// Seconds sgemm takes for every matrix product of the step (each shape timed alone).
double sgemm_seconds(const std::vector<bench::Gemm>& gemms) {
  double total = 0;
  for (const bench::Gemm& g : gemms) {
    ag::Tensor a = ag::normal({g.M * g.K}), b = ag::normal({g.K * g.N}), c = ag::empty({g.M * g.N});
    const double ms = bench::median_ms([&] {
      cblas_sgemm(CblasRowMajor, g.ta ? CblasTrans : CblasNoTrans, g.tb ? CblasTrans : CblasNoTrans,
                  g.M, g.N, g.K, 1.0f, a.data(), g.ta ? g.M : g.K, b.data(), g.tb ? g.K : g.N,
                  0.0f, c.data(), g.N);
    }, 1, 3, 0.05);
    total += ms * 1e-3 * static_cast<double>(g.count);
  }
  return total;
}

void run(const std::string& type, const Options& o) {
  ag::manual_seed(0);
  const nn::EncoderConfig c = config(type, o);
  Stack model(c);
  model.train();
  nn::Adam opt(model.named_parameters(), 1e-4f);
  ag::Tensor x = ag::normal({kBatch, o.frames, kD});
  std::optional<nn::RelPositionalEncoding> rel;
  if (o.relative) rel.emplace(kD, o.dropout);
  double base = rss_mib();
  auto step = [&] {
    ag::Tensor h = x, pos;
    if (rel) std::tie(h, pos) = rel->forward(x);
    for (auto& block : *model.layers) h = block->forward(h, ag::Tensor(), ag::Tensor(), pos);
    ag::mean(ag::mul(h, h)).backward();
    opt.step();
    opt.zero_grad();
  };
  double ms = bench::median_ms(step, 1, 5, 0.0);
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  const double peak = usage.ru_maxrss / 1024.0 - base;
  std::printf("{\"attention\": \"%s\", \"frames\": %lld, \"positions\": \"%s\", "
              "\"ms\": %.2f, \"peak_mib\": %.1f, \"params\": %lld",
              type.c_str(), static_cast<long long>(o.frames), o.relative ? "relative" : "absolute",
              ms, peak, static_cast<long long>(model.num_parameters()));
  if (type == "mha" || type == "gqa") {  // the types flops.h models
    const bench::StepCost cost = bench::conformer_step_cost(c, kBatch, o.frames);
    const double sgemm_s = sgemm_seconds(cost.gemms);
    std::printf(", \"gflop\": %.2f, \"gemm_gflop\": %.2f, \"gflops\": %.1f, "
                "\"sgemm_ms\": %.2f, \"sgemm_gflops\": %.1f",
                cost.flops * 1e-9, cost.gemm_flops() * 1e-9, cost.flops * 1e-9 / (ms * 1e-3),
                sgemm_s * 1e3, cost.gemm_flops() * 1e-9 / sgemm_s);
  }
  std::printf("}\n");
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::vector<std::string> types;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--frames" && i + 1 < argc) {
      o.frames = std::atoll(argv[++i]);
    } else if (arg == "--relative") {
      o.relative = true;
    } else if (arg == "--dropout" && i + 1 < argc) {
      o.dropout = std::strtof(argv[++i], nullptr);
    } else if (arg.rfind("--", 0) == 0) {
      std::fprintf(stderr, "bench_conformer: unknown option %s\n", arg.c_str());
      return 2;
    } else {
      types.push_back(arg);
    }
  }
  if (o.frames < 1 || o.dropout < 0 || o.dropout >= 1) {
    std::fprintf(stderr, "bench_conformer: --frames must be >= 1 and --dropout in [0, 1)\n");
    return 2;
  }
  if (types.empty()) types.push_back("mha");
  for (const auto& t : types) run(t, o);
  return 0;
}
