// Core-op benchmark, our side: prints one JSON object per row with the median time in
// milliseconds. bench/core.py runs it beside the same computations in PyTorch.
// Shapes come from a Conformer (d_model 256, 4 heads, FFN 1024, 8 x 250 frames).
#include <cblas.h>
#include <omp.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "autograd/ops.h"
#include "timer.h"

using namespace ag;

namespace {

void row(const char* name, double ms) { std::printf("{\"row\": \"%s\", \"ms\": %.4f}\n", name, ms); }

// x [2000, 256] @ W^T, W [1024, 256]: the feed-forward up-projection.
void matmul_rows() {
  Tensor x = normal({2000, 256}), w = normal({1024, 256});
  row("matmul_ffn", bench::median_ms([&] { matmul(x, w, false, true); }));
  Tensor out = empty({2000, 1024});
  row("matmul_ffn_sgemm", bench::median_ms([&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, 2000, 1024, 256, 1.0f, x.data(), 256,
                    w.data(), 256, 0.0f, out.data(), 1024);
      }));
  // Attention scores: q, k [32, 250, 64] (8 utterances x 4 heads) -> [32, 250, 250].
  Tensor q = normal({32, 250, 64}), k = normal({32, 250, 64});
  row("matmul_attn", bench::median_ms([&] { matmul(q, k, false, true); }));
  Tensor s = empty({32, 250, 250});
  row("matmul_attn_sgemm", bench::median_ms([&] {
        for (int b = 0; b < 32; ++b)
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, 250, 250, 64, 1.0f,
                      q.data() + b * 250 * 64, 64, k.data() + b * 250 * 64, 64, 0.0f,
                      s.data() + b * 250 * 250, 250);
      }));
}

void softmax_rows() {
  Tensor scores = normal({8, 4, 250, 250});
  row("softmax", bench::median_ms([&] { softmax(scores, -1); }));
  Tensor s = normal({8, 4, 250, 250}).set_requires_grad(true);
  Tensor g = normal({8, 4, 250, 250});
  row("softmax_fwd_bwd", bench::median_ms([&] {
        softmax(s, -1).backward(g);
        s.set_grad(Tensor());
      }));
}

void layer_norm_rows() {
  Tensor x = normal({8, 250, 256}), w = ones({256}), b = zeros({256});
  row("layer_norm", bench::median_ms([&] { layer_norm(x, w, b); }));
  Tensor xg = normal({8, 250, 256}).set_requires_grad(true), g = normal({8, 250, 256});
  w.set_requires_grad(true);
  b.set_requires_grad(true);
  row("layer_norm_fwd_bwd", bench::median_ms([&] {
        layer_norm(xg, w, b).backward(g);
        for (Tensor* t : {&xg, &w, &b}) t->set_grad(Tensor());
      }));
}

// 4-layer MLP 256 -> 1024 -> 1024 -> 1024 -> 256 with ReLU, on 2000 frames; mean-square loss.
void mlp_row() {
  std::vector<Tensor> params;
  int64_t dims[5] = {256, 1024, 1024, 1024, 256};
  for (int i = 0; i < 4; ++i) {
    float bound = 1.0f / std::sqrt(static_cast<float>(dims[i]));
    params.push_back(uniform({dims[i + 1], dims[i]}, -bound, bound).set_requires_grad(true));
    params.push_back(zeros({dims[i + 1]}).set_requires_grad(true));
  }
  Tensor x = normal({2000, 256});
  row("mlp_fwd_bwd", bench::median_ms([&] {
        Tensor h = x;
        for (int i = 0; i < 4; ++i) {
          h = linear(h, params[2 * i], params[2 * i + 1]);
          if (i < 3) h = relu(h);
        }
        mean(mul(h, h)).backward();
        for (Tensor& p : params) p.set_grad(Tensor());
      }));
}

}  // namespace

int main(int argc, char** argv) {
  // Threads come from OMP_NUM_THREADS (bench/core.py sets it per run).
  std::fprintf(stderr, "bench_core: %d threads\n", omp_get_max_threads());
  manual_seed(0);
  matmul_rows();
  softmax_rows();
  layer_norm_rows();
  mlp_row();
  return 0;
}
