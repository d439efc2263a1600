// The streaming cost model per output frame (nn/chunk_cost.h; equal to the counted matrix
// products, tests/nn/test_chunk_cost.cpp): for one attention layer of the demo's size
// (d_model 128, 4 heads) and of LibriSpeech's (d_model 256, 4 heads), relative positions,
// chunks of 16 frames, the multiply-adds and the bytes its matrix products read per output
// frame after 100 .. 10,000 frames of history, per variant (mla in the form each chunk takes:
// A absorbed, E re-expanded). No timing: the numbers are the model's, exact.
#include <cstdio>
#include <string>
#include <vector>

#include "nn/mla.h"

namespace {

constexpr int64_t kChunk = 16;
const std::vector<int64_t> kHistories = {100, 300, 1000, 3000, 10000};

struct Variant {
  std::string name, type;
  int64_t latent = 0, kv_heads = 0;
};

void table(int64_t d) {
  const std::vector<Variant> variants = {
      {"mha", "mha"},          {"gqa kv2", "gqa", 0, 2},  {"gqa kv1", "gqa", 0, 1},
      {"mla L=d", "mla", d},   {"mla L=d/2", "mla", d / 2}, {"mla L=d/4", "mla", d / 4},
      {"mla L=d/8", "mla", d / 8}, {"linear", "linear"}};
  std::printf("\nd_model %lld, 4 heads, chunk %lld: multiply-adds (M) / KB read per output frame"
              ", one layer\n\n| variant |",
              static_cast<long long>(d), static_cast<long long>(kChunk));
  for (int64_t S : kHistories) std::printf(" S=%lld |", static_cast<long long>(S));
  std::printf("\n|---|");
  for (size_t i = 0; i < kHistories.size(); ++i) std::printf("---|");
  std::printf("\n");
  for (const Variant& v : variants) {
    nn::AttentionConfig c;
    c.type = v.type;
    c.d_model = d;
    c.num_heads = 4;
    c.latent_dim = v.latent;
    c.num_kv_heads = v.kv_heads;
    auto a = nn::make_attention(c);
    const auto* mla = dynamic_cast<const nn::MultiHeadLatentAttention*>(a.get());
    std::printf("| %s |", v.name.c_str());
    for (int64_t S : kHistories) {
      const nn::ChunkCost cost = a->chunk_cost(kChunk, S);
      std::printf(" %.3f / %.1f", static_cast<double>(cost.multiply_adds) / kChunk / 1e6,
                  static_cast<double>(cost.bytes_read) / kChunk / 1e3);
      if (mla)
        std::printf(" %s", mla->chunk_form(kChunk, S) ==
                                   nn::MultiHeadLatentAttention::ChunkForm::absorbed
                               ? "A"
                               : "E");
      std::printf(" |");
    }
    std::printf("\n");
  }
}

}  // namespace

int main() {
  for (int64_t d : {128, 256}) table(d);
}
