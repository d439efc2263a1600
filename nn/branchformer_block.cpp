#include "branchformer_block.h"

#include <cmath>
#include <limits>

#include "autograd/ops.h"

namespace nn {
namespace {

// Attention pooling over time: x [B, T, d] -> [B, d], weights softmax over real frames of
// proj(x) / sqrt(d) (ESPnet fills padded scores with the lowest float, then zeroes them).
Tensor attention_pool(const Linear& proj, const Tensor& x, const Tensor& pad_mask) {
  const int64_t B = x.size(0), T = x.size(1), d = x.size(2);
  Tensor score = ag::reshape(proj.forward(x), {B, 1, T}) / std::sqrt(static_cast<float>(d));
  Tensor pad = pad_mask.defined() ? ag::reshape(pad_mask, {B, 1, T}) : Tensor();  // [B, 1, T]
  if (pad.defined()) score = ag::masked_fill(score, pad, std::numeric_limits<float>::lowest());
  score = ag::softmax(score, -1);                                              // [B, 1, T]
  if (pad.defined()) score = ag::masked_fill(score, pad, 0.0f);
  return ag::reshape(ag::matmul(score, x), {B, d});                            // [B, d]
}
}  // namespace

BranchformerBlock::BranchformerBlock(const EncoderConfig& c, std::shared_ptr<Attention> attention)
    : learned_ave(c.merge == "learned_ave"), dropout(c.dropout) {
  AG_CHECK(attention != nullptr, "BranchformerBlock: no attention module");
  AG_CHECK(c.merge == "concat" || c.merge == "learned_ave", "BranchformerBlock: merge '", c.merge,
           "' is not concat or learned_ave");
  const int64_t d = c.d_model;
  // ESPnet's registration order, so the state dicts list names alike.
  attn = register_module("attn", std::move(attention));
  cgmlp = register_module("cgmlp", std::make_shared<ConvolutionalGatingMLP>(
                                       d, c.cgmlp_dim, c.conv_kernel, c.dropout, c.causal));
  norm_mha = register_module("norm_mha", espnet_layer_norm(d));
  norm_mlp = register_module("norm_mlp", espnet_layer_norm(d));
  norm_final = register_module("norm_final", espnet_layer_norm(d));
  if (learned_ave) {
    pooling_proj1 = register_module("pooling_proj1", std::make_shared<Linear>(d, 1));
    pooling_proj2 = register_module("pooling_proj2", std::make_shared<Linear>(d, 1));
    weight_proj1 = register_module("weight_proj1", std::make_shared<Linear>(d, 1));
    weight_proj2 = register_module("weight_proj2", std::make_shared<Linear>(d, 1));
  }
  merge_proj = register_module("merge_proj", std::make_shared<Linear>(learned_ave ? d : 2 * d, d));
}

std::pair<Tensor, Tensor> BranchformerBlock::merge_weights(const Tensor& x1, const Tensor& x2,
                                                           const Tensor& pad_mask) const {
  const int64_t B = x1.size(0);
  Tensor w1 = weight_proj1->forward(attention_pool(*pooling_proj1, x1, pad_mask));  // [B, 1]
  Tensor w2 = weight_proj2->forward(attention_pool(*pooling_proj2, x2, pad_mask));  // [B, 1]
  Tensor w = ag::softmax(ag::concat({w1, w2}, -1), -1);                              // [B, 2]
  std::vector<Tensor> parts = ag::split(w, {1, 1}, -1);
  return {ag::reshape(parts[0], {B, 1, 1}), ag::reshape(parts[1], {B, 1, 1})};
}

Tensor BranchformerBlock::forward(const Tensor& x, const Tensor& att_mask, const Tensor& pad_mask,
                                  const Tensor& pos_emb) {
  const bool train = is_training();
  Tensor x1 = ag::dropout(attn->forward(norm_mha->forward(x), att_mask, pos_emb), dropout, train);
  Tensor x2 = ag::dropout(cgmlp->forward(norm_mlp->forward(x), pad_mask), dropout, train);
  Tensor merged;  // [B, T, d]
  if (learned_ave) {
    auto [w1, w2] = merge_weights(x1, x2, pad_mask);
    merged = merge_proj->forward(w1 * x1 + w2 * x2);
  } else {
    merged = merge_proj->forward(ag::concat({x1, x2}, -1));
  }
  return norm_final->forward(x + ag::dropout(merged, dropout, train));  // [B, T, d]
}

Tensor BranchformerBlock::forward_chunk(const Tensor& x, BlockCache& cache,
                                        const AttentionStreamWeights& shared) {
  AG_CHECK(!learned_ave, "BranchformerBlock: streaming with merge learned_ave, whose merge ",
           "weights pool over whole utterances (use merge concat to stream)");
  const bool train = is_training();
  Tensor x1 = ag::dropout(attn->forward_chunk(norm_mha->forward(x), cache.attention, shared),
                          dropout, train);
  Tensor x2 = ag::dropout(cgmlp->forward_chunk(norm_mlp->forward(x), cache.conv), dropout, train);
  Tensor merged = merge_proj->forward(ag::concat({x1, x2}, -1));        // [B, T, d]
  return norm_final->forward(x + ag::dropout(merged, dropout, train));  // [B, T, d]
}

}  // namespace nn
