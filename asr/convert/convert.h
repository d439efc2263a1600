// MHA -> MLA / GQA conversion of a trained CTC model (docs/conversion.md).
//
// mla_simple, mla: per layer, the stacked key/value projection W = [W_k; W_v] [2d, d] is
// factored through a rank-R latent, W ~ W_up W_dkv with W_dkv [R, d] (linear_dkv) and
// W_up = [W_uk; W_uv] [2d, R] (linear_uk, linear_uv), from the SVD of W L = U S V^T:
//   W_dkv = S_R^1/2 V_R^T L^-1,   W_up = U_R S_R^1/2,
// L = I (plain SVD, best in ||W - W_r||_F) or the Cholesky factor of the Gram matrix
// G = X^T X = L L^T of the layer's real inputs X (calibrated, best in ||X (W - W_r)^T||_F).
// Optionally the rows are weighted too, M = diag(M_k, M_v) (best in ||M (W - W_r) L||_F, from
// the SVD of M W L, W_up = M^-1 U_R S_R^1/2): values through the output projection (M_v^T M_v
// = W_o^T W_o: each frame's value error as W_o maps it, the attention's mixing of frames
// ignored) and keys and values balanced to equal weighted norms (M_k = a I, TransMLA). cache_input keeps the layer input itself as the latent
// (W_dkv = I, W_uk = W_k, W_uv = W_v; R = d): the exact equal-bytes baseline.
// Key and value biases are kept exactly (linear_uk.bias = b_k, linear_uv.bias = b_v). R >= the
// rank of W is exact; R may exceed d (up to 2d): the extra directions are zero. With
// q_latent_dim Q (mla), W_q is factored the same way into linear_dq [Q, d] and linear_uq [d, Q]
// (bias b_q). Everything else is copied by name. R is the same in every layer (latent_dim),
// given per layer (latent_dims) or chosen per layer from the spectrum of M W L (energy, or a
// cache budget: ranks.h).
// gqa: the key and value heads of each group of num_heads / G consecutive heads are averaged
// (weights and biases; Ainslie et al. 2023).
// part decoder (hybrid models): the Transformer decoder's attentions instead of the encoder's,
// each layer's self-attention (keys and values from the tokens) and cross-attention (from the
// encoder's output), in that order, the same way; one rank for all (latent_dim), calibrated
// on the inputs that reach them in teacher-forced decoding.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "asr/config/config.h"
#include "asr/model/asr_model.h"
#include "asr/convert/ranks.h"
#include "asr/convert/svd.h"

namespace asr {

struct ConvertOptions {
  std::string part = "encoder";         // encoder | decoder: whose attentions are converted
  std::string to;                       // mla_simple | mla | gqa
  std::optional<int64_t> latent_dim;    // mla*: R for every layer, 1 <= R <= 2 d_model
  std::vector<int64_t> latent_dims;     // mla*: R of each layer (num_layers entries; empty: none)
  std::optional<double> energy;         // mla*: per-layer R keeping this fraction of sum s^2
  std::optional<int64_t> cache_budget;  // mla*: per-layer R within this many fp32 cache bytes
                                        // per frame, all layers (ranks.h's allocate_ranks)
  std::optional<double> cache_fraction;  // mla*: the same, as this fraction of the MHA's bytes
  std::optional<int64_t> q_latent_dim;  // mla: low-rank query, 1 <= Q <= d_model
  std::optional<int64_t> kv_heads;      // gqa: G dividing num_heads
  bool cache_input = false;      // mla*: the latent is the layer input x (R = d_model, exact)
  bool output_weighted = false;  // mla*: value rows weighted by the output projection (M_v)
  bool balance_kv = false;       // mla*: keys scaled so ||M_k W_k L|| = ||M_v W_v L|| (TransMLA)
};

// The rank flags given, as "--flag value" each (--latent-dim, --latent-dims, --energy,
// --cache-budget, --cache-fraction).
std::vector<std::string> rank_flags(const ConvertOptions& o);

// Throws ag::Error naming the flag and its value when `o` does not fit the source config
// (not an MHA model, a rank out of range, G not dividing the heads, a decoder part without a
// decoder or with options only the encoder takes, ...).
void check_convert_options(const Config& source, const ConvertOptions& o);

// The latent floats per frame, all layers, that o.cache_budget or o.cache_fraction allow:
// floor(bytes / sizeof(float)), the bytes those of mha's fp32 cache per frame
// (Encoder::cache_bytes_formula) for a fraction. Throws ag::Error naming the flag when that is
// below rank 1 in every layer. 0 when neither is given.
int64_t budget_floats(const AsrModel& mha, const ConvertOptions& o);

struct LayerConversion {
  int64_t latent_dim = 0;               // the rank kept (gqa: 0)
  double energy_kept = -1;              // sum of the kept s^2 / sum of all s^2 of M W L (gqa: -1)
  double weight_relative_error = 0;     // ||W - W_r||_F / ||W||_F of W = [W_k; W_v]
  std::vector<double> singular_values;  // of M W L, descending (gqa: none)
};

struct Conversion {
  std::string part = "encoder";     // whose attentions were converted
  Config config;                    // the converted model's config
  std::shared_ptr<AsrModel> model;  // the converted model, in eval mode
  std::vector<LayerConversion> layers;
  int64_t budget_floats = 0;  // the cache budget's floats per frame (0: no budget)
};

// Converts `mha` (built from `source`) as `o` asks. grams: per layer the Gram matrix
// X^T X [d, d] of the inputs reaching its attention (calibration), or empty for plain SVD.
Conversion convert_model(const Config& source, const AsrModel& mha, const ConvertOptions& o,
                         const std::vector<Matrix>& grams = {});

// An invertible weighting of a factorization's rows, with its inverse; empty: the identity.
struct RowWeighting {
  Matrix m, m_inv;  // [rows, rows]
};

// A rank-r factorization w ~ up * down of w [m, n] in the norm ||m (w - up down) l||_F:
// down = S_r^1/2 V_r^T l^-1 [r, n], up = m^-1 U_r S_r^1/2 [m, r] from the SVD of m w l
// (l lower triangular [n, n]; identity for the plain SVD). r may exceed min(m, n): the extra
// rows of down and columns of up are zero.
struct LowRank {
  Matrix up, down;
  std::vector<double> s;  // singular values of m w l
};
LowRank factorize(const Matrix& w, const Matrix& l, int64_t r, const RowWeighting& rows = {});

// The lower Cholesky factor of gram + ridge I, ridge = 1e-6 trace(gram) / n (positive
// definite even when some input directions never occur).
Matrix gram_factor(const Matrix& gram);

}  // namespace asr
