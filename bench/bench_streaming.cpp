// Streaming benchmark: random-weight demo-sized encoders (Conformer, 8 layers, d_model 128,
// 4 heads, FFN 512, causal kernel 15, relative positions, 80 fbank bins) per attention
// variant stream 60 s of random features (6000 input frames, 1499 encoder frames) in chunks of
// 16 encoder frames, with unlimited history and with left_chunks 4. Prints per variant the
// real-time factor, the mean chunk latency, the attention cache measured after 1000 encoder
// frames, the weights all streams share (projected position tables, absorbed weights; held
// for the whole run and not counted in the cache), and each RTF over MHA's from the same
// run. The variants take turns, kRounds rounds, and each keeps its fastest stream, so that
// load from other processes hits them alike; the process CPU time beside the wall time shows
// what the load did not.
// Run with OMP_NUM_THREADS=1. Arguments, if any, name the variants to run (e.g. "mha" "mla L32",
// or one alone for a profiler); the first named is the base of the ratios.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <memory>
#include <cstdio>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "common/encoder_testing.h"
#include "nn/encoder.h"

namespace {

constexpr int64_t kInput = 6000, kChunk = 16, kProbeFrames = 1000, kRounds = 3;
constexpr double kAudioSeconds = kInput * 0.01;

using testing::AttentionVariant;

// The AN4 demo's encoder (recipes/an4/demo.yaml), causal, with attention v.
nn::EncoderConfig demo_config(const AttentionVariant& v) {
  nn::EncoderConfig c;
  c.input_dim = 80;
  c.d_model = 128;
  c.num_layers = 8;
  c.ffn_dim = 512;
  c.conv_kernel = 15;
  c.causal = true;
  c.attention.num_heads = 4;
  testing::set_attention(c, v);
  return c;
}

struct Run {
  double rtf = 0, cpu_rtf = 0, chunk_ms = 0;  // wall and process-CPU time over audio time
};

// Streams feats [1, N, 80] chunk by chunk; returns the RTFs over 60 s and the mean chunk ms.
Run stream(nn::Encoder& enc, const ag::Tensor& feats, int64_t left_chunks) {
  using Clock = std::chrono::steady_clock;
  nn::EncoderCache cache = enc.make_cache(kChunk, left_chunks);
  std::vector<nn::FrameWindow> windows = nn::stream_windows(feats.size(1), kChunk);
  const auto t0 = Clock::now();
  const std::clock_t c0 = std::clock();
  for (const nn::FrameWindow& w : windows)
    enc.forward_chunk(ag::narrow(feats, 1, w.start, w.length), cache);
  const double cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return {seconds / kAudioSeconds, cpu / kAudioSeconds,
          1000 * seconds / static_cast<double>(windows.size())};
}

// Attention-cache MB after streaming exactly kProbeFrames encoder frames, unlimited history.
double cache_mb_at_1000(nn::Encoder& enc, const ag::Tensor& feats) {
  nn::EncoderCache cache = enc.make_cache(kChunk, -1);
  const ag::Tensor probe = ag::narrow(feats, 1, 0, 4 * kProbeFrames + 3);
  for (const nn::FrameWindow& w : nn::stream_windows(probe.size(1), kChunk))
    enc.forward_chunk(ag::narrow(probe, 1, w.start, w.length), cache);
  return static_cast<double>(cache.attention_bytes()) / 1e6;
}

// One variant's encoder, the weights its streams share (held, so that every stream of the
// benchmark uses the same ones, derived once), and its fastest runs so far.
struct Entry {
  AttentionVariant variant;
  std::unique_ptr<nn::Encoder> encoder;
  std::shared_ptr<nn::EncoderStreamWeights> shared;
  Run all{1e9, 0}, left{1e9, 0};
};

void keep_faster(Run& best, const Run& r) {
  if (r.rtf < best.rtf) best = r;
}

// "a / b" RTF ratios, wall and CPU.
std::string ratios(const Run& r, const Run& base) {
  char s[32];
  std::snprintf(s, sizeof s, "%.2f / %.2f", r.rtf / base.rtf, r.cpu_rtf / base.cpu_rtf);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<AttentionVariant> all_variants = {
      {"mha", "mha"},         {"mla L128", "mla", 128}, {"mla L64", "mla", 64},
      {"mla L32", "mla", 32}, {"mla_simple L64", "mla_simple", 64},
      {"gqa kv1", "gqa", 0, 1}, {"linear", "linear"}};
  // The named variants, in order, each once (none named: all); the first is the ratios' base.
  std::vector<AttentionVariant> variants;
  for (int i = 1; i < argc; ++i) {
    auto known = std::find_if(all_variants.begin(), all_variants.end(),
                              [&](const AttentionVariant& v) { return v.name == argv[i]; });
    if (known == all_variants.end()) {
      std::fprintf(stderr, "bench_streaming: unknown variant \"%s\"; the variants:", argv[i]);
      for (const AttentionVariant& v : all_variants) std::fprintf(stderr, " \"%s\"", v.name.c_str());
      std::fprintf(stderr, "\n");
      return 1;
    }
    if (std::none_of(variants.begin(), variants.end(),
                     [&](const AttentionVariant& v) { return v.name == known->name; }))
      variants.push_back(*known);
  }
  if (variants.empty()) variants = all_variants;
  if (variants.front().type == "linear") {
    std::fprintf(stderr, "bench_streaming: linear streams no window, so it cannot be the base "
                         "of the ratios: name another variant first\n");
    return 1;
  }
  ag::manual_seed(1);
  const ag::Tensor feats = ag::normal({1, kInput, 80});
  std::vector<Entry> entries;
  for (const AttentionVariant& v : variants) {
    auto encoder = std::make_unique<nn::Encoder>(demo_config(v));
    encoder->eval();
    auto shared = encoder->stream_weights();
    entries.push_back({v, std::move(encoder), std::move(shared)});
    stream(*entries.back().encoder, ag::narrow(feats, 1, 0, 4 * 2 * kChunk + 3), -1);  // warm-up
  }
  for (int64_t round = 0; round < kRounds; ++round)
    for (Entry& e : entries) {
      keep_faster(e.all, stream(*e.encoder, feats, -1));
      if (e.variant.type != "linear") keep_faster(e.left, stream(*e.encoder, feats, 4));
    }
  const char* base = variants.front().name.c_str();
  std::printf("| variant | RTF all (CPU) | chunk ms all | RTF left 4 (CPU) | chunk ms left 4 |"
              " cache MB @1000 | shared MB | RTF / %s all (wall / CPU) |"
              " RTF / %s left 4 (wall / CPU) |\n"
              "|---|---|---|---|---|---|---|---|---|\n",
              base, base);
  const Run base_all = entries[0].all, base_left = entries[0].left;
  for (Entry& e : entries) {
    const double mb = cache_mb_at_1000(*e.encoder, feats);
    const double shared_mb = static_cast<double>(e.shared->bytes()) / 1e6;
    std::printf("| %s | %.4f (%.4f) | %.2f | ", e.variant.name.c_str(), e.all.rtf, e.all.cpu_rtf,
                e.all.chunk_ms);
    if (e.variant.type == "linear")  // refuses a finite history
      std::printf("- | - | %.3f | %.3f | %s | - |\n", mb, shared_mb,
                  ratios(e.all, base_all).c_str());
    else
      std::printf("%.4f (%.4f) | %.2f | %.3f | %.3f | %s | %s |\n", e.left.rtf, e.left.cpu_rtf,
                  e.left.chunk_ms, mb, shared_mb, ratios(e.all, base_all).c_str(),
                  ratios(e.left, base_left).c_str());
  }
}
