#include "asr/convert/convert.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "autograd/ops.h"
#include "nn/mha.h"

namespace asr {

namespace {

// The MHA modules of a model's part (encoder or decoder) in layer order, with their dotted
// names ("encoder.layers.3.self_attn"; "decoder.decoders.0.self_attn", then its src_attn).
std::vector<std::pair<std::string, const nn::MultiHeadAttention*>> mha_layers(
    const AsrModel& m, const std::string& part) {
  std::vector<std::pair<std::string, const nn::MultiHeadAttention*>> r;
  for (const auto& [name, module] : m.named_modules())
    if (auto* a = dynamic_cast<const nn::MultiHeadAttention*>(module))
      if (name.rfind(part + ".", 0) == 0) r.emplace_back(name, a);
  return r;
}

// bias [n] -> [n, 1]
Matrix bias_column(const Tensor& bias) { return to_matrix(ag::reshape(bias, {bias.numel(), 1})); }
// [n, 1] -> bias [n]
Tensor bias_tensor(const Matrix& column) { return ag::reshape(to_tensor(column), {column.rows}); }

double relative_error(const Matrix& w, const Matrix& w_r) {
  const double norm = frobenius_norm(w);
  return norm > 0 ? frobenius_norm(subtract(w, w_r)) / norm : 0;
}

// w [H*d_k, n] -> [G*d_k, n]: each group of H/G consecutive head blocks replaced by its mean.
Matrix pool_heads(const Matrix& w, int64_t heads, int64_t groups) {
  const int64_t d_k = w.rows / heads, per_group = heads / groups;
  Matrix pooled(groups * d_k, w.cols);
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < d_k; ++i)
      for (int64_t j = 0; j < w.cols; ++j)
        pooled((h / per_group) * d_k + i, j) += w(h * d_k + i, j) / static_cast<double>(per_group);
  return pooled;
}

// pooled [G*d_k, n] -> [H*d_k, n]: each head reads its group's block (to measure the error).
Matrix expand_heads(const Matrix& pooled, int64_t heads, int64_t groups) {
  const int64_t d_k = pooled.rows / groups, per_group = heads / groups;
  Matrix w(heads * d_k, pooled.cols);
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < d_k; ++i)
      for (int64_t j = 0; j < w.cols; ++j) w(h * d_k + i, j) = pooled((h / per_group) * d_k + i, j);
  return w;
}

// What one layer's conversion adds to the state dict, and the names it replaces.
struct LayerTensors {
  nn::NamedTensors added;
  std::vector<std::string> dropped;
  LayerConversion summary;
};

// [W_k; W_v] [2d, d]
Matrix key_value_weight(const nn::MultiHeadAttention& a) {
  return stack_rows(to_matrix(a.linear_k->weight), to_matrix(a.linear_v->weight));
}

Matrix scaled_identity(int64_t n, double s) {
  Matrix m = identity(n);
  for (int64_t i = 0; i < n; ++i) m(i, i) = s;
  return m;
}

// The row weighting M = diag(M_k, M_v) [2d, 2d] of [W_k; W_v] that o asks for (empty: none),
// for the input weighting l [d, d]: M_v^T M_v = W_o^T W_o (+ ridge) when output_weighted, else
// I; M_k = a I with a = ||M_v W_v l||_F / ||W_k l||_F when balance_kv, else I.
RowWeighting key_value_rows(const nn::MultiHeadAttention& a, const ConvertOptions& o,
                            const Matrix& l) {
  if (!o.output_weighted && !o.balance_kv) return {};
  const int64_t d = a.config().d_model;
  Matrix m_v = identity(d), m_v_inv = identity(d);
  if (o.output_weighted) {
    const Matrix w_o = to_matrix(a.linear_out->weight);  // [d, d]: out = W_o v
    const Matrix l_o = gram_factor(matmul(transpose(w_o), w_o));
    m_v = transpose(l_o);
    m_v_inv = transpose(lower_inverse(l_o));
  }
  double scale = 1;
  if (o.balance_kv) {
    const double k_norm = frobenius_norm(matmul(to_matrix(a.linear_k->weight), l));
    const double v_norm = frobenius_norm(matmul(m_v, matmul(to_matrix(a.linear_v->weight), l)));
    if (k_norm > 0 && v_norm > 0) scale = v_norm / k_norm;
  }
  return {block_diagonal(scaled_identity(d, scale), m_v),
          block_diagonal(scaled_identity(d, 1 / scale), m_v_inv)};
}

// One layer at latent rank r, factored in the input weighting l [d, d] and the row weighting
// o asks for.
LayerTensors convert_latent(const std::string& p, const nn::MultiHeadAttention& a,
                            const ConvertOptions& o, int64_t r, const Matrix& l) {
  const int64_t d = a.config().d_model;
  const Matrix w = key_value_weight(a);                          // [2d, d]
  const LowRank f = factorize(w, l, r, key_value_rows(a, o, l));  // up [2d, R], down [R, d]
  LayerTensors t;
  t.summary = {r, energy_kept(f.s, r), relative_error(w, matmul(f.up, f.down)), f.s};
  t.dropped = {p + "linear_k.weight", p + "linear_k.bias", p + "linear_v.weight",
               p + "linear_v.bias"};
  t.added = {{p + "linear_dkv.weight", to_tensor(f.down)},
             {p + "linear_uk.weight", to_tensor(row_block(f.up, 0, d))},
             {p + "linear_uk.bias", a.linear_k->bias},
             {p + "linear_uv.weight", to_tensor(row_block(f.up, d, 2 * d))},
             {p + "linear_uv.bias", a.linear_v->bias}};
  if (o.q_latent_dim) {
    const LowRank q = factorize(to_matrix(a.linear_q->weight), l, *o.q_latent_dim);
    t.dropped.insert(t.dropped.end(), {p + "linear_q.weight", p + "linear_q.bias"});
    t.added.insert(t.added.end(), {{p + "linear_dq.weight", to_tensor(q.down)},
                                   {p + "linear_uq.weight", to_tensor(q.up)},
                                   {p + "linear_uq.bias", a.linear_q->bias}});
  }
  return t;
}

// One layer caching its input: latent = x (W_dkv = I [d, d]), W_uk = W_k, W_uv = W_v. Exact.
LayerTensors convert_input_cache(const std::string& p, const nn::MultiHeadAttention& a) {
  const int64_t d = a.config().d_model;
  LayerTensors t;
  t.summary = {d, 1.0, 0.0, {}};
  t.dropped = {p + "linear_k.weight", p + "linear_k.bias", p + "linear_v.weight",
               p + "linear_v.bias"};
  t.added = {{p + "linear_dkv.weight", to_tensor(identity(d))},
             {p + "linear_uk.weight", a.linear_k->weight},
             {p + "linear_uk.bias", a.linear_k->bias},
             {p + "linear_uv.weight", a.linear_v->weight},
             {p + "linear_uv.bias", a.linear_v->bias}};
  return t;
}

LayerTensors convert_gqa(const std::string& p, const nn::MultiHeadAttention& a, int64_t groups) {
  const int64_t H = a.config().num_heads;
  LayerTensors t;
  Matrix w, w_r;
  for (const auto* linear : {a.linear_k.get(), a.linear_v.get()}) {
    const std::string name = p + (linear == a.linear_k.get() ? "linear_k" : "linear_v");
    const Matrix weight = to_matrix(linear->weight);      // [d, d]
    const Matrix pooled = pool_heads(weight, H, groups);  // [G*d_k, d]
    t.dropped.insert(t.dropped.end(), {name + ".weight", name + ".bias"});
    t.added.insert(
        t.added.end(),
        {{name + ".weight", to_tensor(pooled)},
         {name + ".bias", bias_tensor(pool_heads(bias_column(linear->bias), H, groups))}});
    w = w.rows ? stack_rows(w, weight) : weight;
    const Matrix expanded = expand_heads(pooled, H, groups);
    w_r = w_r.rows ? stack_rows(w_r, expanded) : expanded;
  }
  t.summary.weight_relative_error = relative_error(w, w_r);
  return t;
}

Config converted_config(const Config& source, const ConvertOptions& o,
                        const std::vector<LayerConversion>& layers) {
  Config c = source;
  if (o.part == "decoder") {  // one rank for every decoder attention (check_convert_options)
    for (nn::AttentionConfig* a : {&c.hybrid.decoder_conf.self_attention,
                                   &c.hybrid.decoder_conf.src_attention}) {
      a->type = o.to;
      a->num_kv_heads = o.to == "gqa" ? *o.kv_heads : 0;
      a->latent_dim = o.to == "gqa" ? 0 : layers.front().latent_dim;
      a->q_latent_dim = o.q_latent_dim.value_or(0);
    }
    return c;
  }
  nn::AttentionConfig& a = c.model.attention;
  a.type = o.to;
  if (o.to == "gqa") {
    a.num_kv_heads = *o.kv_heads;
    return c;
  }
  std::vector<int64_t> ranks;
  for (const auto& l : layers) ranks.push_back(l.latent_dim);
  a.latent_dim = *std::max_element(ranks.begin(), ranks.end());
  bool uniform = std::all_of(ranks.begin(), ranks.end(), [&](int64_t r) { return r == ranks[0]; });
  c.model.latent_dims = uniform ? std::vector<int64_t>{} : ranks;
  a.q_latent_dim = o.q_latent_dim.value_or(0);
  return c;
}

// Each layer's latent rank, from the spectra of its W L [layer][d].
std::vector<int64_t> latent_ranks(const ConvertOptions& o, int64_t budget,
                                  const std::vector<std::vector<double>>& spectra) {
  if (budget > 0) return allocate_ranks(spectra, budget);
  if (!o.latent_dims.empty()) return o.latent_dims;
  std::vector<int64_t> ranks;
  for (const auto& s : spectra) ranks.push_back(o.latent_dim ? *o.latent_dim
                                                             : rank_for_energy(s, *o.energy));
  return ranks;
}

}  // namespace

std::vector<std::string> rank_flags(const ConvertOptions& o) {
  std::vector<std::string> given;
  auto add = [&](const char* flag, const auto& v) {
    if (!v) return;
    std::ostringstream os;
    os << flag << " " << *v;
    given.push_back(os.str());
  };
  add("--latent-dim", o.latent_dim);
  if (!o.latent_dims.empty()) {
    std::string list;
    for (int64_t r : o.latent_dims) {
      if (!list.empty()) list += ',';
      list += std::to_string(r);
    }
    given.push_back("--latent-dims " + list);
  }
  add("--energy", o.energy);
  add("--cache-budget", o.cache_budget);
  add("--cache-fraction", o.cache_fraction);
  return given;
}

int64_t budget_floats(const AsrModel& mha, const ConvertOptions& o) {
  if (!o.cache_budget && !o.cache_fraction) return 0;
  const nn::Encoder& e = *mha.encoder;
  const int64_t mha_bytes = e.cache_bytes_formula(1) - e.cache_bytes_formula(0);  // per frame
  const int64_t bytes = o.cache_budget
                            ? *o.cache_budget
                            : static_cast<int64_t>(std::floor(*o.cache_fraction *
                                                              static_cast<double>(mha_bytes)));
  const std::string flag = rank_flags(o).front();
  const auto per_float = static_cast<int64_t>(sizeof(float));  // fp32, as cache_bytes_formula
  const int64_t floats = bytes / per_float, layers = static_cast<int64_t>(e.layers->size());
  AG_CHECK(floats >= layers, flag, " allows ", bytes, " bytes per frame (", floats,
           " fp32 floats), below rank 1 in each of the model's ", layers, " layers (",
           layers * per_float, " bytes; the MHA cache is ", mha_bytes, " bytes per frame)");
  return floats;
}

LowRank factorize(const Matrix& w, const Matrix& l, int64_t r, const RowWeighting& rows) {
  AG_CHECK(l.rows == w.cols && l.cols == w.cols, "factorize: weighting [", l.rows, ",", l.cols,
           "] for a matrix with ", w.cols, " columns");
  const bool weighted = rows.m.rows > 0;
  AG_CHECK(!weighted || (rows.m.rows == w.rows && rows.m.cols == w.rows &&
                         rows.m_inv.rows == w.rows && rows.m_inv.cols == w.rows),
           "factorize: row weighting [", rows.m.rows, ",", rows.m.cols, "] for a matrix with ",
           w.rows, " rows");
  Svd f = svd(matmul(weighted ? matmul(rows.m, w) : w, l));
  const int64_t k = std::min<int64_t>(r, static_cast<int64_t>(f.s.size()));
  Matrix up(w.rows, r), scaled_vt(r, w.cols);  // extra rows/columns beyond k stay zero
  for (int64_t j = 0; j < k; ++j) {
    const double root = std::sqrt(f.s[static_cast<size_t>(j)]);
    for (int64_t i = 0; i < w.rows; ++i) up(i, j) = f.u(i, j) * root;
    for (int64_t i = 0; i < w.cols; ++i) scaled_vt(j, i) = f.vt(j, i) * root;
  }
  return {weighted ? matmul(rows.m_inv, up) : up, matmul(scaled_vt, lower_inverse(l)), f.s};
}

Matrix gram_factor(const Matrix& gram) {
  double trace = 0;
  for (int64_t i = 0; i < gram.rows; ++i) trace += gram(i, i);
  const double ridge = trace > 0 ? 1e-6 * trace / static_cast<double>(gram.rows) : 1e-6;
  Matrix g = gram;
  for (int64_t i = 0; i < g.rows; ++i) g(i, i) += ridge;
  return cholesky(g);
}

void check_convert_options(const Config& source, const ConvertOptions& o) {
  AG_CHECK(o.part == "encoder" || o.part == "decoder", "--part '", o.part,
           "' is not encoder or decoder");
  const nn::AttentionConfig& a = source.model.attention;
  const int64_t d = source.model.d_model;
  if (o.part == "decoder") {
    const nn::DecoderConfig& dc = source.hybrid.decoder_conf;
    AG_CHECK(source.hybrid.decoder != "none", "--part decoder: the input model has no ",
             "attention decoder (model.decoder: none)");
    AG_CHECK(dc.self_attention.type == "mha" && dc.src_attention.type == "mha",
             "--part decoder: the decoder's attentions are ", dc.self_attention.type, " and ",
             dc.src_attention.type, "; asr-convert converts mha ones only");
    AG_CHECK(o.latent_dims.empty() && !o.energy && !o.cache_budget && !o.cache_fraction &&
                 !o.cache_input,
             "--part decoder takes one rank for all its attentions (--latent-dim) or --to gqa; "
             "not --latent-dims, --energy, --cache-budget, --cache-fraction or --cache-input");
  } else {
    AG_CHECK(a.type == "mha", "the input model has attention_type ", a.type,
             "; asr-convert converts mha models only");
  }
  AG_CHECK(o.to == "mla_simple" || o.to == "mla" || o.to == "gqa", "--to '", o.to,
           "' is not one of mla_simple, mla, gqa");
  if (o.to == "gqa") {
    AG_CHECK(rank_flags(o).empty() && !o.q_latent_dim && !o.cache_input && !o.output_weighted &&
                 !o.balance_kv,
             "--latent-dim(s), --energy, --cache-budget, --cache-fraction, --q-latent-dim, "
             "--cache-input, --weight-values-by-output and --balance-kv are for --to mla_simple "
             "or mla, not gqa");
    AG_CHECK(o.kv_heads, "--to gqa needs --kv-heads G");
    const int64_t heads = o.part == "decoder"
                              ? source.hybrid.decoder_conf.self_attention.num_heads
                              : a.num_heads;
    AG_CHECK(*o.kv_heads >= 1 && heads % *o.kv_heads == 0, "--kv-heads ", *o.kv_heads,
             " must be at least 1 and divide the ", o.part == "decoder" ? "decoder" : "model",
             "'s num_heads (", heads, ")");
    return;
  }
  AG_CHECK(!o.kv_heads, "--kv-heads is for --to gqa, not ", o.to);
  const std::vector<std::string> given = rank_flags(o);
  if (o.cache_input) {
    AG_CHECK(given.empty() && !o.q_latent_dim && !o.output_weighted && !o.balance_kv,
             "--cache-input keeps the layer input (latent d_model, exact): it takes no "
             "--latent-dim(s), --energy, --cache-budget, --cache-fraction, --q-latent-dim, "
             "--weight-values-by-output or --balance-kv");
    return;
  }
  std::string list;
  for (const auto& g : given) {
    if (!list.empty()) list += ", ";
    list += g;
  }
  AG_CHECK(given.size() <= 1, "--latent-dim, --latent-dims, --energy, --cache-budget and ",
           "--cache-fraction exclude each other: give one (got ", list, ")");
  AG_CHECK(given.size() == 1, "--to ", o.to, " needs --latent-dim R, --latent-dims R0,R1,..., ",
           "--energy E, --cache-budget BYTES or --cache-fraction F");
  if (!o.latent_dims.empty()) {
    AG_CHECK(static_cast<int64_t>(o.latent_dims.size()) == source.model.num_layers,
             given.front(), " has ", o.latent_dims.size(), " entries for the model's ",
             source.model.num_layers, " layers");
    for (int64_t r : o.latent_dims)
      AG_CHECK(r >= 1 && r <= 2 * d, given.front(), ": ", r, " must lie in [1, 2 * d_model = ",
               2 * d, "]");
  }
  if (o.latent_dim)
    AG_CHECK(*o.latent_dim >= 1 && *o.latent_dim <= 2 * d, "--latent-dim ", *o.latent_dim,
             " must lie in [1, 2 * d_model = ", 2 * d, "]");
  if (o.energy)
    AG_CHECK(*o.energy > 0 && *o.energy <= 1, "--energy ", *o.energy, " must lie in (0, 1]");
  if (o.cache_budget)
    AG_CHECK(*o.cache_budget > 0, "--cache-budget ", *o.cache_budget,
             " (bytes per frame) must be positive");
  if (o.cache_fraction)
    AG_CHECK(*o.cache_fraction > 0 && *o.cache_fraction <= 1, "--cache-fraction ",
             *o.cache_fraction, " must lie in (0, 1]");
  if (o.q_latent_dim) {
    AG_CHECK(o.to == "mla", "--q-latent-dim is for --to mla, not ", o.to);
    AG_CHECK(*o.q_latent_dim >= 1 && *o.q_latent_dim <= d, "--q-latent-dim ", *o.q_latent_dim,
             " must lie in [1, d_model = ", d, "]");
  }
}

Conversion convert_model(const Config& source, const AsrModel& mha, const ConvertOptions& o,
                         const std::vector<Matrix>& grams) {
  check_convert_options(source, o);
  const auto layers = mha_layers(mha, o.part);
  const int64_t d = source.model.d_model;
  AG_CHECK(grams.empty() || (o.to != "gqa" && grams.size() == layers.size()),
           "convert_model: ", grams.size(), " Gram matrices for ", layers.size(),
           " layers converted to ", o.to, " (calibration applies to mla and mla_simple)");
  const int64_t budget = budget_floats(mha, o);
  std::vector<Matrix> weightings;            // latent: L of each layer [d, d]
  std::vector<std::vector<double>> spectra;  // latent: singular values of W L [layer][d]
  for (size_t i = 0; i < layers.size() && o.to != "gqa" && !o.cache_input; ++i) {
    AG_CHECK(grams.empty() || (grams[i].rows == d && grams[i].cols == d), "convert_model: Gram ",
             "matrix of layer ", i, " is [", grams[i].rows, ",", grams[i].cols, "], expected [", d,
             ",", d, "]");
    weightings.push_back(grams.empty() ? identity(d) : gram_factor(grams[i]));
    const nn::MultiHeadAttention& a = *layers[i].second;
    const RowWeighting rows = key_value_rows(a, o, weightings.back());
    const Matrix w = key_value_weight(a);
    spectra.push_back(svd(matmul(rows.m.rows ? matmul(rows.m, w) : w, weightings.back())).s);
  }
  const std::vector<int64_t> ranks =
      spectra.empty() || o.cache_input ? std::vector<int64_t>{} : latent_ranks(o, budget, spectra);
  std::vector<LayerConversion> summaries;
  std::set<std::string> dropped;
  nn::NamedTensors added;
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto& [name, a] = layers[i];
    LayerTensors t = o.to == "gqa"   ? convert_gqa(name + ".", *a, *o.kv_heads)
                     : o.cache_input ? convert_input_cache(name + ".", *a)
                                     : convert_latent(name + ".", *a, o, ranks[i], weightings[i]);
    summaries.push_back(t.summary);
    dropped.insert(t.dropped.begin(), t.dropped.end());
    added.insert(added.end(), t.added.begin(), t.added.end());
  }
  nn::NamedTensors tensors;
  for (const auto& entry : mha.state_dict())
    if (!dropped.contains(entry.first)) tensors.push_back(entry);
  tensors.insert(tensors.end(), added.begin(), added.end());

  Conversion c{o.part, converted_config(source, o, summaries), nullptr, summaries, budget};
  c.model = std::make_shared<AsrModel>(c.config.model, mha.vocab_size(),
                                       c.config.hybrid.decoder_config());
  c.model->load_state_dict(tensors);  // strict: every parameter set, every shape checked
  c.model->eval();
  return c;
}

}  // namespace asr
