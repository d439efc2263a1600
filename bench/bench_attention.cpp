// Attention benchmark, our side: forward + backward of each variant (relative positions,
// padding mask) on Conformer shapes (d_model 256, 4 heads, 4 x 200 frames). Prints one JSON
// object per row with the median milliseconds; bench/attention.py runs the same in PyTorch.
#include <cstdio>
#include <string>

#include "autograd/ops.h"
#include "nn/attention.h"
#include "timer.h"

namespace {

constexpr int64_t kB = 4, kT = 200, kD = 256;

void row(const std::string& name, double ms) {
  std::printf("{\"row\": \"%s\", \"ms\": %.4f}\n", name.c_str(), ms);
}

void run(const std::string& type, bool relative) {
  nn::AttentionConfig c;
  c.type = type;
  c.d_model = kD;
  c.num_heads = 4;
  c.latent_dim = 128;
  c.num_kv_heads = 2;
  c.dropout = 0.1f;
  c.relative = relative;
  auto m = nn::make_attention(c);
  ag::Tensor x = ag::normal({kB, kT, kD}).set_requires_grad(true);
  ag::Tensor pos = relative ? ag::normal({1, 2 * kT - 1, kD}) : ag::Tensor();
  ag::Tensor mask = ag::reshape(ag::lengths_to_mask({200, 180, 150, 120}, kT), {kB, 1, kT});
  ag::Tensor g = ag::normal({kB, kT, kD});
  row(type + (relative ? "_rel" : "_abs"), bench::median_ms([&] {
        m->forward(x, mask, pos).backward(g);
        m->zero_grad();
        x.set_grad(ag::Tensor());
      }));
}

}  // namespace

int main() {
  for (const char* type : {"mha", "mla", "mla_simple", "gqa", "linear"}) run(type, true);
  run("mha", false);
}
