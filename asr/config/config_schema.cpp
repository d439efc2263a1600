#include "asr/config/config_schema.h"

namespace asr {

std::vector<ConfigField> config_fields(Config& c) {
  nn::EncoderConfig& m = c.model;
  nn::AttentionConfig& a = m.attention;
  SpecAugmentConfig& s = c.data.specaugment;
  HybridConfig& h = c.hybrid;
  nn::DecoderConfig& dc = h.decoder_conf;
  nn::AttentionConfig &sa = dc.self_attention, &xa = dc.src_attention;
  return {
      {"seed", &c.seed, {}},

      {"model.encoder", &m.type, {"conformer", "branchformer"}},
      {"model.input_dim", &m.input_dim, {}},
      {"model.d_model", &m.d_model, {}},
      {"model.num_layers", &m.num_layers, {}},
      {"model.num_heads", &a.num_heads, {}},
      {"model.positional_encoding", &m.positional_encoding, {"relative", "absolute"}},
      {"model.ffn_dim", &m.ffn_dim, {}},
      {"model.conv_kernel", &m.conv_kernel, {}},
      {"model.cgmlp_dim", &m.cgmlp_dim, {}},
      {"model.merge", &m.merge, {"concat", "learned_ave"}},
      {"model.dropout", &m.dropout, {}},
      {"model.positional_dropout", &m.positional_dropout, {}},
      {"model.attention_dropout", &a.dropout, {}},
      {"model.causal", &m.causal, {}},
      {"model.conv_norm", &m.conv_norm, {"batch_norm", "layer_norm"}},
      {"model.activation_checkpointing", &m.activation_checkpointing, {}},
      {"model.attention_type", &a.type, {"mha", "mla", "mla_simple", "gqa", "linear"}},
      {"model.attention_kwargs.latent_dim", &a.latent_dim, {}},
      {"model.attention_kwargs.latent_dims", &m.latent_dims, {}},
      {"model.attention_kwargs.q_latent_dim", &a.q_latent_dim, {}},
      {"model.attention_kwargs.num_kv_heads", &a.num_kv_heads, {}},
      {"model.decoder", &h.decoder, {"none", "transformer"}},
      {"model.decoder_conf.num_layers", &dc.num_layers, {}},
      {"model.decoder_conf.num_heads", &sa.num_heads, {}},
      {"model.decoder_conf.ffn_dim", &dc.ffn_dim, {}},
      {"model.decoder_conf.dropout", &dc.dropout, {}},
      {"model.decoder_conf.positional_dropout", &dc.positional_dropout, {}},
      {"model.decoder_conf.self_attention_type", &sa.type, {"mha", "mla", "mla_simple", "gqa", "linear"}},
      {"model.decoder_conf.self_attention_dropout", &sa.dropout, {}},
      {"model.decoder_conf.self_attention_kwargs.latent_dim", &sa.latent_dim, {}},
      {"model.decoder_conf.self_attention_kwargs.q_latent_dim", &sa.q_latent_dim, {}},
      {"model.decoder_conf.self_attention_kwargs.num_kv_heads", &sa.num_kv_heads, {}},
      {"model.decoder_conf.src_attention_type", &xa.type, {"mha", "mla", "mla_simple", "gqa"}},
      {"model.decoder_conf.src_attention_dropout", &xa.dropout, {}},
      {"model.decoder_conf.src_attention_kwargs.latent_dim", &xa.latent_dim, {}},
      {"model.decoder_conf.src_attention_kwargs.q_latent_dim", &xa.q_latent_dim, {}},
      {"model.decoder_conf.src_attention_kwargs.num_kv_heads", &xa.num_kv_heads, {}},
      {"model.ctc_weight", &h.ctc_weight, {}},
      {"model.lsm_weight", &h.lsm_weight, {}},

      {"data.train", &c.data.train, {}},
      {"data.dev", &c.data.dev, {}},
      {"data.tokenizer", &c.data.tokenizer, {"char", "bpe", "unigram"}},
      {"data.vocab_size", &c.data.vocab_size, {}},
      {"data.batch_frames", &c.data.batch_frames, {}},
      {"data.max_frames", &c.data.max_frames, {}},
      {"data.min_frames", &c.data.min_frames, {}},
      {"data.num_workers", &c.data.num_workers, {}},
      {"data.cmvn", &c.data.cmvn, {}},
      {"data.specaugment.enabled", &s.enabled, {}},
      {"data.specaugment.num_freq_masks", &s.num_freq_masks, {}},
      {"data.specaugment.freq_mask_width", &s.freq_mask_width, {}},
      {"data.specaugment.num_time_masks", &s.num_time_masks, {}},
      {"data.specaugment.time_mask_ratio", &s.time_mask_ratio, {}},
      {"data.specaugment.time_warp", &s.time_warp, {}},
      {"data.speed_perturb", &c.data.speed_perturb, {}},
      {"data.unk", &c.data.unk, {"keep", "drop"}},

      {"optim.type", &c.optim.type, {"adam", "adamw", "sgd"}},
      {"optim.lr", &c.optim.lr, {}},
      {"optim.betas", &c.optim.betas, {}},
      {"optim.eps", &c.optim.eps, {}},
      {"optim.weight_decay", &c.optim.weight_decay, {}},
      {"optim.momentum", &c.optim.momentum, {}},
      {"optim.nesterov", &c.optim.nesterov, {}},
      {"optim.clip_grad_norm", &c.optim.clip_grad_norm, {}},

      {"schedule.type", &c.schedule.type, {"warmuplr", "noam", "cosine", "constant"}},
      {"schedule.warmup_steps", &c.schedule.warmup_steps, {}},
      {"schedule.total_steps", &c.schedule.total_steps, {}},
      {"schedule.min_lr", &c.schedule.min_lr, {}},

      {"train.max_epochs", &c.train.max_epochs, {}},
      {"train.max_steps", &c.train.max_steps, {}},
      {"train.accum_grad", &c.train.accum_grad, {}},
      {"train.validate_every", &c.train.validate_every, {}},
      {"train.log_every", &c.train.log_every, {}},
      {"train.keep_checkpoints", &c.train.keep_checkpoints, {}},
      {"train.average_best", &c.train.average_best, {}},
      {"train.best_by", &c.train.best_by, {"wer", "loss"}},
      {"train.ctc_reduction", &c.train.ctc_reduction, {"batch", "frame"}},
      {"train.device", &c.train.device, {"cpu", "cuda"}},
      {"train.all_reduce", &c.train.all_reduce, {"auto", "mpi", "nccl"}},
      {"train.threads", &c.train.threads, {}},
      {"train.dynamic_chunk", &c.train.dynamic_chunk, {}},
      {"train.dynamic_left_chunk", &c.train.dynamic_left_chunk, {}},
      {"train.chunk_size", &c.train.chunk_size, {}},
      {"train.left_chunks", &c.train.left_chunks, {}},
      {"train.beam_size", &c.train.beam_size, {}},
      {"train.bucket_mb", &c.train.bucket_mb, {}},
      {"train.checkpoint_every_minutes", &c.train.checkpoint_every_minutes, {}},
      {"train.collective_timeout_s", &c.train.collective_timeout_s, {}},
      {"train.freeze_param", &c.train.freeze_param, {}},
      {"train.trainable_param", &c.train.trainable_param, {}},
      {"train.distill.teacher", &c.train.distill_teacher, {}},
      {"train.distill.weight", &c.train.distill_weight, {}},
      {"train.distill.temperature", &c.train.distill_temperature, {}},
  };
}

void sync_attention(nn::EncoderConfig& model) {
  model.attention.d_model = model.d_model;
  model.attention.relative = model.positional_encoding == "relative";
}

void sync_decoder(Config& c) {
  nn::DecoderConfig& d = c.hybrid.decoder_conf;
  d.d_model = c.model.d_model;
  for (nn::AttentionConfig* a : {&d.self_attention, &d.src_attention}) {
    a->d_model = d.d_model;
    a->relative = false;
  }
  d.src_attention.num_heads = d.self_attention.num_heads;
}

}  // namespace asr
