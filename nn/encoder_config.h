// Sizes and choices of a CTC encoder (the `model:` section of a YAML config).
#pragma once
#include <string>
#include <vector>

#include "attention.h"

namespace nn {

struct EncoderConfig {
  std::string type = "conformer";          // conformer | branchformer
  int64_t input_dim = 80;                  // fbank bins
  int64_t d_model = 256;
  int64_t num_layers = 12;
  AttentionConfig attention;               // its d_model and relative follow the fields here
  std::vector<int64_t> latent_dims;        // mla, mla_simple: per-layer latent_dim (num_layers
                                           // entries) overriding attention.latent_dim; empty: none
  std::string positional_encoding = "relative";  // relative | absolute
  int64_t ffn_dim = 1024;                  // conformer: feed-forward hidden size
  int64_t conv_kernel = 31;                // conformer conv module / branchformer cgMLP kernel
  int64_t cgmlp_dim = 2048;                // branchformer: cgMLP hidden size
  std::string merge = "concat";            // branchformer: concat | learned_ave
  float dropout = 0.1f;                    // residual / feed-forward dropout
  float positional_dropout = 0.1f;
  bool causal = false;                     // causal depthwise convolutions (streaming)
  std::string conv_norm = "batch_norm";    // conformer conv module: batch_norm | layer_norm
  bool activation_checkpointing = false;   // recompute each block in backward
};

}  // namespace nn
