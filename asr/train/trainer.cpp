#include "asr/train/trainer.h"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "autograd/ops.h"
#include "distributed/data_parallel.h"
#include "distributed/launch.h"
#include "distributed/sampler.h"
#include "asr/model/checkpoint.h"
#include "asr/train/checkpoint_keeper.h"
#include "asr/config/config.h"
#include "asr/model/device.h"
#include "asr/train/distill.h"
#include "asr/train/dynamic_chunk.h"
#include "asr/train/freeze.h"
#include "asr/eval/evaluate.h"
#include "asr/data/manifest.h"
#include "asr/train/metrics.h"
#include "asr/train/optim_factory.h"
#include "asr/data/model_assets.h"
#include "asr/data/prepare.h"
#include "asr/eval/report_reduce.h"

namespace asr {
namespace fs = std::filesystem;

namespace {
// The output folder, made if missing, and writable by this process: refused before any training
// rather than at the first checkpoint.
void make_output_folder(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  AG_CHECK(!ec, "cannot create the output folder ", dir, ": ", ec.message());
  AG_CHECK(::access(dir.c_str(), W_OK) == 0, "cannot write in the output folder ", dir, ": ",
           std::strerror(errno));
}

volatile std::sig_atomic_t g_signal = 0;
void on_signal(int sig) { g_signal = sig; }

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string hms(double s) {
  int64_t t = static_cast<int64_t>(s);
  std::ostringstream os;
  if (t >= 3600) os << t / 3600 << "h";
  os << (t % 3600) / 60 << "m" << std::setw(2) << std::setfill('0') << t % 60 << "s";
  return os.str();
}

std::vector<Utterance> read_split(const std::string& split_path) {
  std::string manifest = split_path + ".jsonl";
  AG_CHECK(fs::exists(manifest), "data: ", manifest, " not found (run asr-prepare to make ",
           fs::path(split_path).parent_path().string(), ")");
  std::vector<Utterance> utts = read_manifest(manifest);
  AG_CHECK(!utts.empty(), "data: ", manifest, " holds no utterances");
  return utts;
}

// The part of a checkpoint that matches the model by name and shape: loaded; the rest of
// the model stays as initialized. Prints what it did.
void init_from(nn::Module& model, const std::string& path) {
  nn::SafetensorsFile f = nn::load_safetensors(path);
  std::map<std::string, ag::Tensor> given(f.tensors.begin(), f.tensors.end());
  nn::NamedTensors matching;
  std::vector<std::string> fresh;
  for (auto& [name, t] : model.state_dict()) {
    auto it = given.find(name);
    if (it != given.end() && it->second.shape() == t.shape() && it->second.dtype() == t.dtype())
      matching.emplace_back(name, it->second);
    else
      fresh.push_back(name + (it == given.end() ? " (absent)" : " (shape " + ag::shape_str(it->second.shape()) + ")"));
  }
  model.load_state_dict(matching, false);
  std::cerr << "init: loaded " << matching.size() << " tensors from " << path << "; "
            << fresh.size() << " initialized afresh\n";
  for (const auto& n : fresh) std::cerr << "  initialized: " << n << "\n";
}

void print_dry_run(const AsrModel& model) {
  std::cerr << "parameters per module:\n";
  for (auto& [name, m] : model.named_modules()) {
    int depth = name.empty() ? 0 : static_cast<int>(std::count(name.begin(), name.end(), '.')) + 1;
    if (depth == 0 || depth > 3) continue;
    std::cerr << "  " << std::left << std::setw(40) << name << std::right << std::setw(12)
              << m->num_parameters() << "\n";
  }
  std::cerr << "  " << std::left << std::setw(40) << "total" << std::right << std::setw(12)
            << model.num_parameters() << "\n";
  std::cerr << "kv cache: " << model.encoder->cache_floats_per_frame() * 4
            << " bytes per frame (all layers), " << model.encoder->cache_floats_fixed() * 4
            << " bytes fixed\n";
}

class Trainer {
 public:
  explicit Trainer(const TrainOptions& o);
  int run();

 private:
  void setup_data();
  void resume();
  void check_same_assets(const std::string& path, const LoadedCheckpoint& c) const;
  bool train_batch(const Batch& batch);  // false when a signal or the step limit stops us
  void optimizer_step();
  void validate_and_save();
  void save_validated(const EvalReport& r);  // rank 0: log, metrics, checkpoint, curves
  void wait_for_lead();                      // every rank: until rank 0's own work is done
  void save_now();  // a checkpoint without validation (on a signal, or on time)
  // train.checkpoint_every_minutes passed since the last checkpoint, by rank 0's clock
  // (collective: every rank gets rank 0's answer, so all save at the same step).
  bool checkpoint_due();
  // --resume auto: rank 0's choice of the newest complete checkpoint, read by every rank.
  std::optional<FoundCheckpoint> agreed_complete_checkpoint();
  void log_progress();
  void finish();
  // Distributed: whether any rank caught a signal (all ranks agree; collective).
  int agreed_signal();
  // Whether every rank has a batch (a rank whose loader dropped a batch that failed to load
  // runs out first; then all end the epoch together). Collective under data parallelism.
  bool all_ranks_have(bool mine);
  TrainerState saved_state() const;  // batch position counted in the whole job's batches
  bool lead() const { return comm_.rank() == 0; }  // logs, metrics and checkpoints
  void report_data_parallel();
  void setup_data_parallel();

  TrainOptions opt_;
  dist::Communicator& comm_ = dist::world();  // host values (and MPI gradients)
  Config cfg_;
  ag::Device device_ = ag::Device::cpu;       // the model, its optimizer state and batches
  std::string dir_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::optional<Cmvn> cmvn_;  // with tokenizer_: the --init checkpoint's, else the data folder's
  std::unique_ptr<AsrModel> model_;
  std::unique_ptr<AsrModel> teacher_;  // train.distill.teacher, eval mode, no gradients
  std::unique_ptr<nn::Optimizer> optimizer_;
  std::unique_ptr<nn::Schedule> schedule_;
  std::unique_ptr<Loader> train_loader_, dev_loader_;
  std::unique_ptr<MetricsLog> metrics_;  // rank 0 only
  std::unique_ptr<dist::Communicator> nccl_;           // the gradients' NCCL, when chosen
  std::unique_ptr<dist::DataParallel> data_parallel_;  // under mpirun with 2+ ranks
  std::unique_ptr<FeatureUploader> upload_;
  CheckpointKeeper keeper_;
  TrainerState st_;
  int64_t max_steps_ = 0;
  // Since the last log line.
  // The CTC loss (over loss_utts_ utterances), the hybrid attention loss and the decoder's
  // token accuracy x utterances (over attention_utts_), T^2 KL to the teacher.
  double loss_sum_ = 0, attention_sum_ = 0, correct_sum_ = 0, distill_sum_ = 0;
  int64_t attention_utts_ = 0;
  int64_t loss_utts_ = 0, frames_ = 0, infeasible_ = 0, bad_steps_ = 0, bad_losses_ = 0;
  int stop_signal_ = 0;
  Clock::time_point log_time_ = Clock::now(), start_time_ = Clock::now();
  Clock::time_point saved_time_ = Clock::now();  // the last checkpoint (or the start)
  int64_t start_step_ = 0;
  bool validated_at_step_ = false;
};

Trainer::Trainer(const TrainOptions& o)
    : opt_(o), cfg_(load_config(o.config, o.overrides)), dir_(o.output_dir), keeper_(1, 1) {
  AG_CHECK(!dir_.empty(), "--output-dir is required");
  // Before any data or model work: a CUDA run without a GPU stops here, in one line.
  if (!o.dry_run)
    device_ = select_device(cfg_.train.device, "train.device", comm_.local_rank(),
                            comm_.local_size());
  keeper_ = CheckpointKeeper(cfg_.train.keep_checkpoints, std::max<int64_t>(cfg_.train.average_best, 1),
                             cfg_.train.best_by == "loss" ? BestBy::kLoss : BestBy::kWer);
  comm_.set_timeout(cfg_.train.collective_timeout_s);
  max_steps_ = o.max_steps >= 0 ? o.max_steps : cfg_.train.max_steps;
  if (int threads = dist::threads_per_rank(static_cast<int>(cfg_.train.threads), comm_); threads > 0)
    omp_set_num_threads(threads);
  ag::manual_seed(static_cast<uint64_t>(cfg_.seed));
  ModelAssets assets = training_assets(cfg_, o.init);
  tokenizer_ = std::move(assets.tokenizer);
  cmvn_ = std::move(assets.cmvn);
  model_ = std::make_unique<AsrModel>(cfg_.model, tokenizer_->vocab_size(),
                                      cfg_.hybrid.decoder_config());
  if (o.dry_run) return;
  if (lead()) make_output_folder(dir_);
  model_->to(device_);  // in place: the optimizer's handles see the moved parameters
  upload_ = std::make_unique<FeatureUploader>(device_);
  const nn::NamedTensors trained = trainable_parameters(model_->named_parameters(), cfg_.train);
  if (lead() && trained.size() < model_->named_parameters().size())
    std::cerr << "train: " << trained.size() << " of " << model_->named_parameters().size()
              << " parameter tensors train, the rest frozen (train.trainable_param, "
              << "train.freeze_param)\n";
  optimizer_ = make_optimizer(cfg_.optim, trained);
  if (!cfg_.train.distill_teacher.empty())
    teacher_ = load_teacher(cfg_.train.distill_teacher, tokenizer_->vocab_size(), device_);
  schedule_ = make_schedule(cfg_);
  if (!o.init.empty()) init_from(*model_, o.init);
  setup_data();
  if (o.resume != Resume::no) resume();
  if (comm_.world_size() > 1) setup_data_parallel();
  if (!lead()) return;
  metrics_ = std::make_unique<MetricsLog>(dir_);
  nn::write_file_atomic(dir_ + "/config.yaml", to_yaml(cfg_));
}

// Gradients all-reduced by NCCL on the GPUs (train.all_reduce nccl, or auto with device
// cuda) or by MPI in host memory (mpi, or auto with device cpu; CUDA gradients then travel
// through the host). Host values (loss sums, signals) always go over MPI.
void Trainer::setup_data_parallel() {
  const std::string& how = cfg_.train.all_reduce;
  const bool nccl = how == "nccl" || (how == "auto" && device_ == ag::Device::cuda);
  if (nccl) {
    nccl_ = dist::make_nccl(comm_);
    nccl_->set_timeout(cfg_.train.collective_timeout_s);
  }
  dist::Communicator& grads = nccl ? *nccl_ : comm_;
  data_parallel_ =
      std::make_unique<dist::DataParallel>(grads, optimizer_->params(), cfg_.train.bucket_mb);
  data_parallel_->broadcast_from_root(*model_);
  data_parallel_->measure_exposed(comm_.local_size() == comm_.world_size());
  if (lead())
    std::cerr << "data parallel: " << comm_.world_size() << " ranks on " << ag::device_name(device_)
              << ", gradients all-reduced by " << (nccl ? "NCCL" : "MPI") << "\n";
}

void Trainer::setup_data() {
  train_loader_ = std::make_unique<Loader>(read_split(cfg_.data.train), *tokenizer_, cmvn_,
                                           cfg_.data, true, static_cast<uint64_t>(cfg_.seed));
  dev_loader_ = std::make_unique<Loader>(read_split(cfg_.data.dev), *tokenizer_, cmvn_, cfg_.data,
                                         false, static_cast<uint64_t>(cfg_.seed));
  train_loader_->set_shard(comm_.rank(), comm_.world_size(), true);
  dev_loader_->set_shard(comm_.rank(), comm_.world_size(), false);
  AG_CHECK(train_loader_->epoch_batches() > 0, "data: ", train_loader_->num_batches(),
           " training batches cannot give each of ", comm_.world_size(), " ranks one");
  AG_CHECK(train_loader_->num_batches() > 0, "data: no training batch (all ",
           train_loader_->num_planned(), " utterances skipped?)\n", train_loader_->skips().summary());
  if (!lead()) return;
  std::cerr << "data: " << train_loader_->num_planned() << " training utterances in "
            << train_loader_->num_batches() << " batches, " << dev_loader_->num_planned()
            << " dev utterances\n";
  if (train_loader_->skips().total()) std::cerr << "data: skipped\n" << train_loader_->skips().summary();
}

std::optional<FoundCheckpoint> Trainer::agreed_complete_checkpoint() {
  std::optional<FoundCheckpoint> found;
  std::string path;
  if (lead()) {
    found = newest_complete_checkpoint(dir_, std::cerr);
    if (found) path = found->path;
  }
  uint64_t length = path.size();
  comm_.broadcast(&length, sizeof length, 0);
  path.resize(length);
  comm_.broadcast(path.data(), length, 0);
  if (!lead() && !path.empty()) found = FoundCheckpoint{path, read_checkpoint(path)};
  return found;
}

// A resumed run goes on with the tokenizer and CMVN statistics its checkpoint was trained
// with: a data folder prepared again since (other tokens, other statistics) is refused.
void Trainer::check_same_assets(const std::string& path, const LoadedCheckpoint& c) const {
  std::optional<ModelAssets> own = embedded_assets(c.model, path);
  if (!own) return;  // an older file: nothing to compare with
  AG_CHECK(own->tokenizer->files() == tokenizer_->files(), "--resume: ", path,
           " was trained with another tokenizer than this run's (",
           fs::path(cfg_.data.train).parent_path().string(),
           "/tokenizer, prepared again since?); resume with the data folder it was trained on");
  const bool same_cmvn = own->cmvn.has_value() == cmvn_.has_value() &&
                         (!cmvn_ || (own->cmvn->mean() == cmvn_->mean() &&
                                     own->cmvn->stddev() == cmvn_->stddev()));
  AG_CHECK(same_cmvn, "--resume: ", path,
           " was trained with other CMVN statistics than this run's (",
           fs::path(cfg_.data.train).parent_path().string(),
           "/cmvn.json, prepared again since?); resume with the data folder it was trained on");
}

void Trainer::resume() {
  std::optional<FoundCheckpoint> found;
  if (opt_.resume == Resume::automatic) {
    found = agreed_complete_checkpoint();
    if (!found) {
      if (lead()) std::cerr << "resume: no complete checkpoint in " << dir_ << "; starting fresh\n";
      return;
    }
  } else {
    std::string newest = latest_checkpoint(dir_);
    AG_CHECK(!newest.empty(), "--resume: no checkpoint in ", dir_);
    found = FoundCheckpoint{newest, read_checkpoint(newest)};
  }
  const std::string& path = found->path;
  LoadedCheckpoint& c = found->checkpoint;
  check_same_assets(path, c);
  try {
    model_->load_state_dict(model_weights(c.model.tensors));
  } catch (const ag::Error& e) {
    throw ag::Error(path + ": " + e.what() + " (does the config match the checkpoint?)");
  }
  AG_CHECK(!c.optimizer.empty(), "--resume: ", optimizer_path(path), " is missing");
  optimizer_->load_state(c.optimizer);
  st_ = c.state;
  if (!st_.rng.empty()) ag::default_generator().set_state(st_.rng);
  keeper_.load(dir_);
  st_.batch_in_epoch =
      dist::local_position(st_.batch_in_epoch, comm_.world_size(), cfg_.train.accum_grad);
  if (lead())
    std::cerr << "resume: " << path << " (step " << st_.step << ", epoch " << st_.epoch
              << ", batch " << st_.batch_in_epoch << ")\n";
}

void Trainer::optimizer_step() {
  float norm = cfg_.optim.clip_grad_norm > 0
                   ? nn::clip_grad_norm(optimizer_->params(), cfg_.optim.clip_grad_norm)
                   : nn::grad_norm(optimizer_->params());
  if (!std::isfinite(norm)) {  // NaN/inf: skip the update, count it
    ++bad_steps_;
    if (lead()) std::cerr << "step " << st_.step + 1 << ": non-finite gradient norm, update skipped\n";
    optimizer_->zero_grad();
    return;
  }
  optimizer_->lr = schedule_->lr(st_.step + 1);
  optimizer_->step();
  optimizer_->zero_grad();
  ++st_.step;
  validated_at_step_ = false;
}

bool Trainer::train_batch(const Batch& batch) {
  int64_t chunk = cfg_.train.chunk_size, left = cfg_.train.left_chunks;
  if (cfg_.train.dynamic_chunk) {
    // batch_in_epoch counts this batch; its place in the step's accumulation names the draw.
    const int64_t micro = (st_.batch_in_epoch - 1) % cfg_.train.accum_grad;
    const int64_t frames = nn::Conv2dSubsampling::output_length(batch.feats.size(1));
    ChunkDraw draw = draw_dynamic_chunk(static_cast<uint64_t>(cfg_.seed), st_.step, micro, frames,
                                        cfg_.train.dynamic_left_chunk);
    chunk = draw.chunk_size;
    left = draw.left_chunks;
  }
  const ag::Tensor feats = (*upload_)(batch.feats);
  nn::EncoderOutput out = model_->encoder->forward(feats, batch.lengths, chunk, left);
  const ag::Tensor enc = out.out;  // [B, T', d]
  out.out = model_->ctc_logits(enc);
  ag::CtcResult ctc = ag::ctc_loss(out.out, out.lengths, batch.targets);  // on the device
  int64_t feasible = 0, frames = 0;
  for (int64_t b = 0; b < batch.size(); ++b) {
    feasible += ctc.feasible[b];
    frames += ctc.feasible[b] ? out.lengths[b] : 0;
  }
  infeasible_ += batch.size() - feasible;
  for (int64_t b = 0; b < batch.size(); ++b) frames_ += batch.lengths[b];
  // batch_in_epoch counts this batch: an optimizer step closes each accumulation.
  const bool boundary = st_.batch_in_epoch % cfg_.train.accum_grad == 0;
  // Divided by the whole job's utterances (or frames): N ranks equal one process.
  double denom = cfg_.train.ctc_reduction == "frame" ? static_cast<double>(frames)
                                                     : static_cast<double>(batch.size());
  if (data_parallel_) {
    comm_.all_reduce(&denom, 1, dist::ReduceOp::sum);
    data_parallel_->set_sync(boundary);
  }
  if (feasible > 0) {
    ag::Tensor loss = ag::sum(ctc.nll);
    double total = 0;
    for (float nll : ctc.nll.to_vector()) total += nll;  // one read from the device
    double attention = 0, accuracy = 0;
    const float w = cfg_.hybrid.ctc_weight;
    const bool attend = model_->hybrid() && w < 1;  // at weight 1 the decoder learns nothing
    if (attend) {  // ESPnet's ctc_weight * CTC + (1 - ctc_weight) * attention
      AsrModel::AttentionLoss a =
          model_->attention_loss(enc, out.lengths, batch.targets, cfg_.hybrid.lsm_weight);
      attention = a.loss.to(ag::Device::cpu).item();
      accuracy = a.accuracy;
      loss = ag::add(ag::mul(loss, w), ag::mul(a.loss, 1.0f - w));
    }
    double distill = 0;
    if (teacher_) {  // the teacher on the same features, whole utterances, no gradients
      ag::Tensor teacher_logits;
      {
        ag::NoGradGuard no_grad;
        teacher_logits = teacher_->logits(feats, batch.lengths).out;
      }
      ag::Tensor kl = distillation_loss(out.out, teacher_logits, out.lengths,
                                        cfg_.train.distill_temperature);
      distill = kl.to(ag::Device::cpu).item();
      loss = ag::add(loss, ag::mul(kl, cfg_.train.distill_weight));
    }
    loss = ag::div(loss, static_cast<float>(denom * static_cast<double>(cfg_.train.accum_grad)));
    if (std::isfinite(total) && std::isfinite(attention) && std::isfinite(distill)) {
      loss.backward();
      loss_sum_ += total;
      if (attend) {
        attention_sum_ += attention;
        correct_sum_ += accuracy * static_cast<double>(batch.size());
        attention_utts_ += batch.size();
      }
      distill_sum_ += distill;
      loss_utts_ += feasible;
    } else {
      ++bad_losses_;
      std::cerr << "batch " << batch.keys.front() << ": non-finite loss, skipped\n";
    }
  }
  if (!boundary) return true;
  if (data_parallel_) {
    data_parallel_->finish();
    data_parallel_->average_buffers(*model_);  // BatchNorm statistics, as DDP keeps them
  }
  optimizer_step();
  // Stop only at a step boundary, so that a checkpoint resumes exactly.
  return agreed_signal() == 0 && (max_steps_ <= 0 || st_.step < max_steps_);
}

int Trainer::agreed_signal() {
  double sig = g_signal;
  if (data_parallel_) comm_.all_reduce(&sig, 1, dist::ReduceOp::max);
  stop_signal_ = static_cast<int>(sig);
  return stop_signal_;
}

bool Trainer::all_ranks_have(bool mine) {
  double missing = mine ? 0 : 1;
  if (data_parallel_) comm_.all_reduce(&missing, 1, dist::ReduceOp::max);
  return missing == 0;
}

TrainerState Trainer::saved_state() const {
  TrainerState s = st_;
  s.batch_in_epoch *= comm_.world_size();
  s.rng = ag::default_generator().state();
  return s;
}

void Trainer::log_progress() {
  std::vector<double> sums = {loss_sum_, static_cast<double>(loss_utts_), static_cast<double>(frames_),
                              static_cast<double>(infeasible_), static_cast<double>(bad_losses_),
                              distill_sum_, attention_sum_, correct_sum_,
                              static_cast<double>(attention_utts_)};
  all_reduce_sums(sums, comm_);
  loss_sum_ = distill_sum_ = attention_sum_ = correct_sum_ = 0;
  loss_utts_ = frames_ = attention_utts_ = 0;
  if (!lead()) return;
  double dt = seconds_since(log_time_);
  log_time_ = Clock::now();
  double ctc_loss = sums[1] > 0 ? sums[0] / sums[1] : 0, frames = sums[2];
  // The hybrid parts per utterance: attention loss, accuracy (over their own utterances).
  const double attention = sums[8] > 0 ? sums[6] / sums[8] : 0;
  const double accuracy = sums[8] > 0 ? sums[7] / sums[8] : 0;
  const bool hybrid = sums[8] > 0;
  const double w = cfg_.hybrid.ctc_weight;
  double loss = hybrid ? w * ctc_loss + (1 - w) * attention : ctc_loss;
  int64_t per_epoch = std::max<int64_t>(
      1, static_cast<int64_t>(train_loader_->epoch_batches()) / cfg_.train.accum_grad);
  int64_t total = max_steps_ > 0 ? max_steps_ : cfg_.train.max_epochs * per_epoch;
  double rate = (st_.step - start_step_) / std::max(seconds_since(start_time_), 1e-9);
  const double distill = sums[1] > 0 ? sums[5] / sums[1] : 0;  // per utterance, as the loss
  std::cerr << "epoch " << st_.epoch + 1 << " step " << st_.step << "/" << total << " loss "
            << std::fixed << std::setprecision(2) << loss;
  if (hybrid)
    std::cerr << " (ctc " << ctc_loss << " att " << attention << " acc " << accuracy << ")";
  if (teacher_) std::cerr << " distill " << distill;
  std::cerr << " lr " << std::scientific
            << std::setprecision(2) << optimizer_->lr << std::defaultfloat << " frames/s "
            << static_cast<int64_t>(frames / std::max(dt, 1e-9)) << " ETA "
            << hms(rate > 0 ? (total - st_.step) / rate : 0) << "\n";
  nlohmann::json record = {{"kind", "train"}, {"step", st_.step}, {"epoch", st_.epoch}, {"loss", loss},
                   {"lr", optimizer_->lr}, {"frames_per_second", frames / std::max(dt, 1e-9)},
                   {"infeasible", static_cast<int64_t>(sums[3])},
                   {"skipped_steps", bad_steps_ + static_cast<int64_t>(sums[4])}};
  if (teacher_) record["distill"] = distill;
  if (hybrid) {
    record["loss_ctc"] = ctc_loss;
    record["loss_att"] = attention;
    record["acc"] = accuracy;
  }
  metrics_->write(record);
}

void Trainer::validate_and_save() {
  if (validated_at_step_) return;
  EvalOptions opt{1, cfg_.train.chunk_size, cfg_.train.left_chunks, false, device_};
  if (model_->hybrid()) {  // the dev loss is the training loss; the WER stays CTC greedy's
    opt.loss_ctc_weight = cfg_.hybrid.ctc_weight;
    opt.lsm_weight = cfg_.hybrid.lsm_weight;
  }
  EvalReport r = evaluate(*model_, *dev_loader_, *tokenizer_, opt);
  all_reduce_report(r, comm_);
  st_.dev_loss = r.loss;
  st_.dev_wer = r.words.rate();
  validated_at_step_ = true;
  if (lead()) save_validated(r);
  wait_for_lead();
}

void Trainer::save_validated(const EvalReport& r) {
  std::cerr << "validation at step " << st_.step << ": loss " << std::fixed << std::setprecision(2)
            << r.loss;
  if (r.accuracy >= 0)
    std::cerr << " (ctc " << r.ctc_loss << " att " << r.attention_loss << " acc " << r.accuracy
              << ")";
  std::cerr << " WER " << std::setprecision(2) << 100 * r.words.rate() << "% CER "
            << 100 * r.chars.rate() << "%" << std::defaultfloat << "\n";
  nlohmann::json record = {{"kind", "dev"}, {"step", st_.step}, {"epoch", st_.epoch},
                           {"loss", r.loss}, {"wer", r.words.rate()}, {"cer", r.chars.rate()}};
  if (r.accuracy >= 0) {
    record["loss_ctc"] = r.ctc_loss;
    record["loss_att"] = r.attention_loss;
    record["acc"] = r.accuracy;
  }
  metrics_->write(record);
  std::string path = save_checkpoint(dir_, *model_, optimizer_.get(), to_yaml(cfg_), saved_state(),
                                     embed_assets(*tokenizer_, cmvn_));
  saved_time_ = Clock::now();
  keeper_.add({st_.step, path, st_.dev_wer, st_.dev_loss});
  keeper_.save(dir_);
  plot_curves(dir_);
}

void Trainer::save_now() {
  if (lead()) {
    std::string path = save_checkpoint(dir_, *model_, optimizer_.get(), to_yaml(cfg_),
                                       saved_state(), embed_assets(*tokenizer_, cmvn_));
    saved_time_ = Clock::now();
    keeper_.add({st_.step, path, -1, 0});
    keeper_.save(dir_);
  }
  wait_for_lead();
}

// The other ranks wait here, not in the next step's all-reduce, while rank 0 writes: that
// wait is as long as the writing takes, so it is exempt from train.collective_timeout_s.
void Trainer::wait_for_lead() {
  if (comm_.world_size() == 1) return;
  dist::Communicator::Untimed untimed(comm_);
  comm_.barrier();
}

bool Trainer::checkpoint_due() {
  const double minutes = cfg_.train.checkpoint_every_minutes;
  if (minutes <= 0 || validated_at_step_) return false;  // validated: saved at this step
  double due = lead() && seconds_since(saved_time_) >= 60 * minutes ? 1 : 0;
  comm_.broadcast(&due, sizeof due, 0);
  if (due != 0 && lead())
    std::cerr << "checkpoint at step " << st_.step << " (train.checkpoint_every_minutes)\n";
  return due != 0;
}

void Trainer::report_data_parallel() {
  const dist::DataParallelStats& s = data_parallel_->stats();
  const double blocking = data_parallel_->time_blocking_all_reduce(10);
  if (!lead() || s.syncs == 0) return;
  const double per_step = 1.0 / static_cast<double>(s.syncs);
  // Across machines the clocks differ: then all the waiting counts as exposed.
  const bool one_machine = comm_.local_size() == comm_.world_size();
  const double waited = s.wait_seconds * per_step;
  const double exposed = (one_machine ? s.exposed_seconds : s.wait_seconds) * per_step;
  const double hidden = blocking > 0 ? std::clamp(1 - exposed / blocking, 0.0, 1.0) : 0;
  std::cerr << "data parallel: " << comm_.world_size() << " ranks, " << s.buckets << " buckets, "
            << s.bytes / 1e6 << " MB of gradients per step; per step: " << waited * 1e3
            << " ms waited after backward (slower ranks included), " << exposed * 1e3
            << " ms of all-reduce after the last rank's backward, a blocking all-reduce takes "
            << blocking * 1e3 << " ms: " << std::fixed << std::setprecision(0) << 100 * hidden
            << "% hidden behind backward\n" << std::defaultfloat;
  metrics_->write({{"kind", "data_parallel"}, {"step", st_.step}, {"ranks", comm_.world_size()},
                   {"buckets", s.buckets}, {"gradient_bytes", s.bytes}, {"wait_seconds_per_step", waited},
                   {"exposed_seconds_per_step", exposed}, {"blocking_all_reduce_seconds", blocking},
                   {"hidden_fraction", hidden}});
}

void Trainer::finish() {
  if (data_parallel_) report_data_parallel();
  if (!lead()) return;
  std::vector<CheckpointRecord> best = keeper_.best(cfg_.train.average_best);
  if (!best.empty()) {
    std::vector<std::string> paths;
    for (const auto& b : best) paths.push_back(b.path);
    nn::SafetensorsFile avg = average_checkpoints(paths);
    nn::save_safetensors(dir_ + "/model.avg.safetensors", avg.tensors, avg.metadata);
    std::cerr << "averaged " << paths.size() << " best checkpoints into " << dir_
              << "/model.avg.safetensors (best by dev " << cfg_.train.best_by << ": WER "
              << std::fixed << std::setprecision(2) << 100 * best.front().dev_wer << "%, loss "
              << best.front().dev_loss << " at step " << best.front().step << ")\n"
              << std::defaultfloat;
  }
  plot_curves(dir_);
  std::cerr << "curves: " << dir_ << "/curves.png, metrics: " << dir_ << "/metrics.jsonl\n";
}

int Trainer::run() {
  if (opt_.dry_run) {
    if (lead()) print_dry_run(*model_);
    return 0;
  }
  g_signal = 0;
  auto old_int = std::signal(SIGINT, on_signal);
  auto old_term = std::signal(SIGTERM, on_signal);
  start_step_ = st_.step;
  model_->train();
  bool go = max_steps_ <= 0 || st_.step < max_steps_;
  while (go && (cfg_.train.max_epochs <= 0 || st_.epoch < cfg_.train.max_epochs)) {
    train_loader_->start_epoch(st_.epoch, st_.batch_in_epoch);
    while (go) {
      std::optional<Batch> batch = train_loader_->next();
      if (!all_ranks_have(batch.has_value())) break;
      ++st_.batch_in_epoch;
      int64_t before = st_.step;
      for (dist::Communicator* c : {&comm_, nccl_.get()})
        if (c) c->at_step(st_.step + 1);  // named by a collective timeout
      go = train_batch(*batch);
      if (st_.step != before) {
        if (st_.step % cfg_.train.log_every == 0) log_progress();
        if (cfg_.train.validate_every > 0 && st_.step % cfg_.train.validate_every == 0)
          validate_and_save();
        if (checkpoint_due()) save_now();
      }
    }
    if (!go) break;
    ++st_.epoch;
    st_.batch_in_epoch = 0;
    optimizer_->zero_grad();  // an unfinished accumulation does not cross epochs
    if (cfg_.train.validate_every == 0) validate_and_save();
  }
  if (agreed_signal()) {
    save_now();  // all ranks wait there for rank 0's save: none leaves (ending the job) before
  } else {
    validate_and_save();  // the final checkpoint (no-op when this step was just saved)
  }
  std::signal(SIGINT, old_int);
  std::signal(SIGTERM, old_term);
  if (stop_signal_) {
    if (lead())
      std::cerr << "interrupted by signal " << stop_signal_ << ": checkpoint saved at step "
                << st_.step << "; continue with --resume\n";
    return 128 + stop_signal_;
  }
  finish();
  wait_for_lead();
  return 0;
}

}  // namespace

int train(const TrainOptions& options) { return Trainer(options).run(); }

}  // namespace asr
