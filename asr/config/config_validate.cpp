// Value checks of a config: ranges, enums, and the keys that must agree with each other.
#include <cmath>
#include <sstream>
#include <utility>

#include "asr/config/config.h"
#include "asr/config/config_schema.h"

namespace asr {

namespace {

// Looks keys up in the schema and throws ConfigError naming the key and where it was set.
class Checker {
 public:
  Checker(const Config& c, const std::string& source, const KeyOrigins& origins)
      : config_(c), source_(source), origins_(origins) {
    for (auto& field : config_fields(config_)) fields_.emplace(field.key, field);
  }
  Checker(const Checker&) = delete;

  template <class... Args>
  void require(bool ok, const std::string& key, const Args&... what) const {
    if (ok) return;
    std::ostringstream os;
    os << source_ << ": '" << key << "' ";
    (os << ... << what);
    auto origin = origins_.find(key);
    if (origin != origins_.end()) os << origin->second;
    throw ConfigError(os.str());
  }

  int64_t integer(const std::string& key) const { return *std::get<int64_t*>(field(key).value); }
  float number(const std::string& key) const { return *std::get<float*>(field(key).value); }

  void at_least(const std::string& key, int64_t min) const {
    require(integer(key) >= min, key, "must be at least ", min, ", got ", integer(key));
  }
  void non_negative(const std::string& key) const {
    float v = number(key);
    require(std::isfinite(v) && v >= 0, key, "must be a finite number >= 0, got ", v);
  }
  void positive(const std::string& key) const {
    float v = number(key);
    require(std::isfinite(v) && v > 0, key, "must be a finite number > 0, got ", v);
  }
  // In [0, 1), or [0, 1] with closed.
  void fraction(const std::string& key, bool closed = false) const {
    float v = number(key);
    require(v >= 0 && (closed ? v <= 1 : v < 1), key, "must lie in [0, 1", closed ? "]" : ")",
            ", got ", v);
  }
  void enums() const {
    for (const auto& [key, field] : fields_) {
      if (field.choices.empty()) continue;
      const std::string& v = *std::get<std::string*>(field.value);
      std::string allowed;
      bool found = false;
      for (const auto& choice : field.choices) {
        allowed += (allowed.empty() ? "" : ", ") + choice;
        found = found || v == choice;
      }
      require(found, key, "must be one of ", allowed, "; got '", v, "'");
    }
  }

 private:
  const ConfigField& field(const std::string& key) const { return fields_.at(key); }

  Config config_;  // the copy that fields_ point into
  std::map<std::string, ConfigField> fields_;
  const std::string& source_;
  const KeyOrigins& origins_;
};

// The attention checks nn::validate(AttentionConfig) makes, named by config key.
void check_attention(const Checker& k, const nn::EncoderConfig& m) {
  const nn::AttentionConfig& a = m.attention;
  k.require(m.d_model % a.num_heads == 0, "model.num_heads", "(", a.num_heads,
            ") must divide 'model.d_model' (", m.d_model, ")");
  for (const char* key : {"model.attention_kwargs.latent_dim", "model.attention_kwargs.q_latent_dim",
                          "model.attention_kwargs.num_kv_heads"})
    k.at_least(key, 0);
  if (a.type == "mla" || a.type == "mla_simple")
    k.require(a.latent_dim >= 1, "model.attention_kwargs.latent_dim",
              "must be at least 1 for attention_type ", a.type, ", got ", a.latent_dim);
  k.require(a.type != "mla_simple" || a.q_latent_dim == 0, "model.attention_kwargs.q_latent_dim",
            "must be 0 for attention_type mla_simple (mla with a full-rank query), got ",
            a.q_latent_dim, "; use mla for a low-rank query");
  if (!m.latent_dims.empty()) {
    const char* key = "model.attention_kwargs.latent_dims";
    k.require(static_cast<int64_t>(m.latent_dims.size()) == m.num_layers, key, "has ",
              m.latent_dims.size(), " entries for 'model.num_layers' (", m.num_layers, ")");
    for (int64_t r : m.latent_dims) k.require(r >= 1, key, "entries must be at least 1, got ", r);
  }
  if (a.type == "gqa") {
    k.at_least("model.attention_kwargs.num_kv_heads", 1);
    k.require(a.num_heads % a.num_kv_heads == 0, "model.attention_kwargs.num_kv_heads", "(",
              a.num_kv_heads, ") must divide 'model.num_heads' (", a.num_heads, ")");
  }
  k.require(a.d_model == m.d_model && a.relative == (m.positional_encoding == "relative"),
            "model.d_model", "and 'model.positional_encoding' disagree with model.attention ",
            "(d_model ", a.d_model, ", relative ", a.relative, "): call asr::sync_attention");
}

void check_model(const Checker& k, const nn::EncoderConfig& m) {
  for (const char* key : {"model.input_dim", "model.d_model", "model.num_layers", "model.num_heads",
                          "model.ffn_dim", "model.conv_kernel", "model.cgmlp_dim"})
    k.at_least(key, 1);
  k.require(m.conv_kernel % 2 == 1, "model.conv_kernel",
            "must be odd (a same-length depthwise convolution), got ", m.conv_kernel);
  k.require(m.cgmlp_dim % 2 == 0, "model.cgmlp_dim",
            "must be even (the cgMLP gate splits it in halves), got ", m.cgmlp_dim);
  for (const char* key : {"model.dropout", "model.positional_dropout", "model.attention_dropout"})
    k.fraction(key);
  check_attention(k, m);
}

// The decoder's keys (when model.decoder is not none) and the loss weights.
void check_hybrid(const Checker& k, const Config& c) {
  k.fraction("model.ctc_weight", true);
  k.fraction("model.lsm_weight");
  const nn::DecoderConfig& d = c.hybrid.decoder_conf;
  if (c.hybrid.decoder == "none") return;
  for (const char* key : {"model.decoder_conf.num_layers", "model.decoder_conf.num_heads",
                          "model.decoder_conf.ffn_dim"})
    k.at_least(key, 1);
  for (const char* key : {"model.decoder_conf.dropout", "model.decoder_conf.positional_dropout",
                          "model.decoder_conf.self_attention_dropout",
                          "model.decoder_conf.src_attention_dropout"})
    k.fraction(key);
  k.require(d.d_model % d.self_attention.num_heads == 0, "model.decoder_conf.num_heads", "(",
            d.self_attention.num_heads, ") must divide 'model.d_model' (", d.d_model, ")");
  for (const auto& [prefix, a] : {std::pair<std::string, const nn::AttentionConfig*>{
                                      "model.decoder_conf.self_attention", &d.self_attention},
                                  {"model.decoder_conf.src_attention", &d.src_attention}}) {
    for (const char* kw : {"_kwargs.latent_dim", "_kwargs.q_latent_dim", "_kwargs.num_kv_heads"})
      k.at_least(prefix + kw, 0);
    if (a->type == "mla" || a->type == "mla_simple")
      k.require(a->latent_dim >= 1, prefix + "_kwargs.latent_dim", "must be at least 1 for ",
                a->type, ", got ", a->latent_dim);
    k.require(a->type != "mla_simple" || a->q_latent_dim == 0, prefix + "_kwargs.q_latent_dim",
              "must be 0 for mla_simple (mla with a full-rank query), got ", a->q_latent_dim);
    if (a->type == "gqa") {
      k.at_least(prefix + "_kwargs.num_kv_heads", 1);
      k.require(a->num_heads % a->num_kv_heads == 0, prefix + "_kwargs.num_kv_heads", "(",
                a->num_kv_heads, ") must divide 'model.decoder_conf.num_heads' (", a->num_heads,
                ")");
    }
  }
}

void check_data(const Checker& k, const Config& c) {
  const DataConfig& d = c.data;
  k.require(!d.train.empty(), "data.train", "must name a data folder or manifest");
  k.require(!d.dev.empty(), "data.dev", "must name a data folder or manifest");
  if (d.tokenizer != "char") k.at_least("data.vocab_size", 2);
  for (const char* key : {"data.batch_frames", "data.max_frames"}) k.at_least(key, 1);
  for (const char* key : {"data.min_frames", "data.num_workers", "data.specaugment.num_freq_masks",
                          "data.specaugment.freq_mask_width", "data.specaugment.num_time_masks",
                          "data.specaugment.time_warp"})
    k.at_least(key, 0);
  k.require(d.min_frames <= d.max_frames, "data.min_frames", "(", d.min_frames,
            ") must not exceed 'data.max_frames' (", d.max_frames, ")");
  k.require(d.batch_frames >= d.max_frames, "data.batch_frames", "(", d.batch_frames,
            ") must be at least 'data.max_frames' (", d.max_frames,
            ") so that the longest utterance fits in a batch");
  k.require(d.specaugment.freq_mask_width <= c.model.input_dim, "data.specaugment.freq_mask_width",
            "(", d.specaugment.freq_mask_width, ") must not exceed 'model.input_dim' (",
            c.model.input_dim, ")");
  k.fraction("data.specaugment.time_mask_ratio", true);
}

void check_optim(const Checker& k, const OptimConfig& o) {
  k.positive("optim.lr");
  k.require(o.betas[0] >= 0 && o.betas[0] < 1 && o.betas[1] >= 0 && o.betas[1] < 1,
            "optim.betas", "must lie in [0, 1), got [", o.betas[0], ", ", o.betas[1], "]");
  k.positive("optim.eps");
  k.non_negative("optim.weight_decay");
  k.fraction("optim.momentum");
  k.require(!o.nesterov || (o.type == "sgd" && o.momentum > 0), "optim.nesterov",
            "needs optim.type sgd and optim.momentum > 0");
  k.non_negative("optim.clip_grad_norm");
}

void check_schedule(const Checker& k, const Config& c) {
  const ScheduleConfig& s = c.schedule;
  k.at_least("schedule.warmup_steps", s.type == "warmuplr" || s.type == "noam" ? 1 : 0);
  k.at_least("schedule.total_steps", 0);
  k.non_negative("schedule.min_lr");
  if (s.type != "cosine") return;
  k.require(s.total_steps > s.warmup_steps, "schedule.total_steps", "(", s.total_steps,
            ") must exceed 'schedule.warmup_steps' (", s.warmup_steps, ") for the cosine schedule");
  k.require(s.min_lr <= c.optim.lr, "schedule.min_lr", "(", s.min_lr,
            ") must not exceed 'optim.lr' (", c.optim.lr, ")");
}

void check_train(const Checker& k, const Config& c) {
  const TrainConfig& t = c.train;
  for (const char* key : {"train.max_epochs", "train.max_steps", "train.validate_every",
                          "train.average_best", "train.threads", "train.chunk_size"})
    k.at_least(key, 0);
  for (const char* key : {"train.accum_grad", "train.log_every", "train.keep_checkpoints",
                          "train.beam_size"})
    k.at_least(key, 1);
  k.at_least("train.left_chunks", -1);
  k.positive("train.bucket_mb");
  k.non_negative("train.checkpoint_every_minutes");
  k.non_negative("train.collective_timeout_s");
  k.require(t.max_epochs > 0 || t.max_steps > 0, "train.max_epochs",
            "and 'train.max_steps' are both 0: training would never stop");
  k.require(t.average_best <= t.keep_checkpoints, "train.average_best", "(", t.average_best,
            ") must not exceed 'train.keep_checkpoints' (", t.keep_checkpoints, ")");
  const char* streaming = "needs model.causal: true (a non-causal convolution sees frames "
                          "beyond the chunk)";
  k.require(!t.dynamic_chunk || c.model.causal, "train.dynamic_chunk", streaming);
  k.require(t.chunk_size == 0 || c.model.causal, "train.chunk_size", streaming);
  k.require(!t.dynamic_left_chunk || t.dynamic_chunk, "train.dynamic_left_chunk",
            "needs train.dynamic_chunk: true");
  k.require(t.all_reduce != "nccl" || t.device == "cuda", "train.all_reduce",
            "nccl needs train.device: cuda (NCCL reduces GPU buffers)");
  for (const std::string& p : t.freeze_param)
    k.require(!p.empty(), "train.freeze_param", "holds an empty pattern");
  for (const std::string& p : t.trainable_param)
    k.require(!p.empty(), "train.trainable_param", "holds an empty pattern");
  k.non_negative("train.distill.weight");
  k.positive("train.distill.temperature");
  k.require(t.distill_weight == 0 || !t.distill_teacher.empty(), "train.distill.weight", "(",
            t.distill_weight, ") needs 'train.distill.teacher' (a checkpoint)");
  k.require(t.distill_teacher.empty() || t.distill_weight > 0, "train.distill.teacher",
            "is set but 'train.distill.weight' is 0: give a positive weight");
}

}  // namespace

void validate(const Config& c, const std::string& source_name, const KeyOrigins& origins) {
  Checker k(c, source_name, origins);
  k.enums();
  k.at_least("seed", 0);
  check_model(k, c.model);
  check_hybrid(k, c);
  check_data(k, c);
  check_optim(k, c.optim);
  check_schedule(k, c);
  check_train(k, c);
}

void validate(const Config& c, const std::string& source_name) {
  validate(c, source_name, KeyOrigins{});
}

}  // namespace asr
