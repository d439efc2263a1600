#include "asr/model/hybrid_decode.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "autograd/ops.h"

namespace asr {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
// CTC's log-probability of what it cannot emit, in joint scores: ESPnet's logzero, so that an
// impossible prefix ranks below every possible one and its extensions stay finite.
constexpr float kLogZero = -1e10f;

float finite_ctc(float logp) { return std::max(logp, kLogZero); }

float log_add(float a, float b) {
  if (a == kNegInf) return b;
  if (b == kNegInf) return a;
  return std::max(a, b) + std::log1p(std::exp(-std::fabs(a - b)));
}

void check_inputs(const AsrModel& model, const ag::Tensor& enc, const ag::Tensor& log_probs,
                  int64_t length, const HybridDecodeOptions& o, const char* who) {
  AG_CHECK(model.hybrid(), who, ": the model has no attention decoder (model.decoder: none)");
  AG_CHECK(enc.dim() == 3 && enc.size(0) == 1, who, ": encoder output ",
           ag::shape_str(enc.shape()), " is not one utterance's [1, T, d]");
  AG_CHECK(log_probs.dim() == 2 && log_probs.size(1) == model.vocab_size() &&
               length >= 0 && length <= log_probs.size(0) && length <= enc.size(1),
           who, ": log_probs ", ag::shape_str(log_probs.shape()), " with length ", length,
           " for encoder output ", ag::shape_str(enc.shape()), " and a vocabulary of ",
           model.vocab_size());
  AG_CHECK(o.beam_size >= 1 && o.ctc_weight >= 0 && o.ctc_weight <= 1 && o.max_length >= 0,
           who, ": beam size ", o.beam_size, " (>= 1), ctc_weight ", o.ctc_weight,
           " (in [0, 1]) and max_length ", o.max_length, " (>= 0)");
}

// The valid frames of one utterance's encoder output: [1, length, d].
ag::Tensor memory_of(const ag::Tensor& enc, int64_t length) {
  return length == enc.size(1) ? enc : ag::narrow(enc, 1, 0, length);
}

}  // namespace

CtcPrefixScorer::CtcPrefixScorer(const ag::Tensor& log_probs, int64_t length)
    : T_(length), V_(log_probs.size(1)) {
  AG_CHECK(log_probs.dim() == 2 && log_probs.device() == ag::Device::cpu && length >= 0 &&
               length <= log_probs.size(0),
           "CtcPrefixScorer: log_probs ", ag::shape_str(log_probs.shape()), " (CPU [T, V]) with ",
           length, " frames");
  lp_.assign(log_probs.data(), log_probs.data() + T_ * V_);
}

CtcPrefixScorer::State CtcPrefixScorer::initial() const {
  State s;
  s.r_n.assign(T_, kNegInf);
  s.r_b.resize(T_);
  float blanks = 0;  // every frame so far a blank
  for (int64_t t = 0; t < T_; ++t) s.r_b[t] = blanks += lp_[t * V_];
  return s;
}

CtcPrefixScorer::State CtcPrefixScorer::extend(const State& s, int64_t c) const {
  AG_CHECK(c >= 1 && c < V_, "CtcPrefixScorer: token ", c, " outside [1, ", V_, ")");
  State h;
  h.last = c;
  h.prefix = kNegInf;
  if (T_ == 0) return h;
  h.r_n.resize(T_);
  h.r_b.resize(T_);
  // Frame 0 can start the token only when the prefix before it is empty.
  h.r_n[0] = s.last == -1 ? lp_[c] : kNegInf;
  h.r_b[0] = kNegInf;
  h.prefix = h.r_n[0];
  for (int64_t t = 1; t < T_; ++t) {
    // The frames before t emit the prefix; a repeat of its last token needs a blank between.
    const float phi = s.last == c ? s.r_b[t - 1] : log_add(s.r_b[t - 1], s.r_n[t - 1]);
    const float p_c = lp_[t * V_ + c];
    h.r_n[t] = log_add(h.r_n[t - 1], phi) + p_c;
    h.r_b[t] = log_add(h.r_b[t - 1], h.r_n[t - 1]) + lp_[t * V_];
    h.prefix = log_add(h.prefix, phi + p_c);
  }
  return h;
}

float CtcPrefixScorer::end(const State& s) const {
  if (T_ == 0) return s.last == -1 ? 0.0f : kNegInf;
  return log_add(s.r_n[T_ - 1], s.r_b[T_ - 1]);
}

Hypothesis attention_rescoring(AsrModel& model, const ag::Tensor& enc,
                               const ag::Tensor& log_probs, int64_t length,
                               const HybridDecodeOptions& o) {
  check_inputs(model, enc, log_probs, length, o, "attention_rescoring");
  ag::NoGradGuard no_grad;
  const std::vector<Hypothesis> nbest = ctc_nbest(log_probs, length, o.beam_size);
  const int64_t N = static_cast<int64_t>(nbest.size()), eos = model.sos_eos();
  int64_t L = 0;
  for (const Hypothesis& h : nbest) L = std::max<int64_t>(L, h.tokens.size() + 1);
  // Teacher-forced inputs <sos> y, padded with <eos> (never attended).
  std::vector<int64_t> tokens(static_cast<size_t>(N * L), eos), steps(N);
  for (int64_t n = 0; n < N; ++n) {
    std::copy(nbest[n].tokens.begin(), nbest[n].tokens.end(), tokens.begin() + n * L + 1);
    steps[n] = static_cast<int64_t>(nbest[n].tokens.size()) + 1;
  }
  const ag::Tensor in = ag::to_device(ag::from_int_vector(tokens, {N, L}), enc.device());
  // One cross-attention memory (batch 1) for the whole n-best.
  ag::Tensor logits = model.decoder->forward(in, steps, memory_of(enc, length), ag::Tensor());
  const std::vector<float> lp = ag::log_softmax(logits, -1).to_vector();  // [N, L, V + 1]
  const int64_t W = model.vocab_size() + 1;
  Hypothesis best{{}, kNegInf};
  for (int64_t n = 0; n < N; ++n) {
    const std::vector<int64_t>& y = nbest[n].tokens;
    double att = 0;
    for (size_t i = 0; i <= y.size(); ++i)
      att += lp[(n * L + static_cast<int64_t>(i)) * W + (i < y.size() ? y[i] : eos)];
    const float score = static_cast<float>((1.0 - o.ctc_weight) * att +
                                           o.ctc_weight * static_cast<double>(nbest[n].score));
    if (score > best.score || best.score == kNegInf) best = {y, score};
  }
  return best;
}

Hypothesis joint_decode(AsrModel& model, const ag::Tensor& enc, const ag::Tensor& log_probs,
                        int64_t length, const HybridDecodeOptions& o) {
  check_inputs(model, enc, log_probs, length, o, "joint_decode");
  ag::NoGradGuard no_grad;
  const int64_t eos = model.sos_eos(), W = model.vocab_size() + 1;
  const float w = o.ctc_weight;
  const CtcPrefixScorer ctc(log_probs, length);
  nn::DecoderState state = model.decoder->start(memory_of(enc, length));

  struct Running {
    std::vector<int64_t> tokens;
    float score;
    CtcPrefixScorer::State ctc;
  };
  struct Ended {
    Hypothesis hyp;
    int64_t step;  // the step that ended it
  };
  std::vector<Running> beam{{{}, 0.0f, ctc.initial()}};
  std::vector<Ended> ended;
  const int64_t max_length = o.max_length > 0 ? o.max_length : std::max<int64_t>(1, length);
  // Tokens the decoder proposes per hypothesis before CTC scores them (ESPnet's pre-beam,
  // 1.5 x the beam): every id but the blank.
  const int64_t pre_beam = std::min<int64_t>(W - 1, static_cast<int64_t>(1.5 * o.beam_size));
  std::vector<int64_t> ids(static_cast<size_t>(W - 1));
  for (int64_t step = 0; step < max_length && !beam.empty(); ++step) {
    const int64_t N = static_cast<int64_t>(beam.size());
    std::vector<int64_t> last(N);
    for (int64_t n = 0; n < N; ++n) last[n] = beam[n].tokens.empty() ? eos : beam[n].tokens.back();
    const ag::Tensor next = ag::to_device(ag::from_int_vector(last, {N}), enc.device());
    const std::vector<float> lp = model.decoder->step(next, state).to_vector();  // [N, W]
    const bool final_step = step == max_length - 1;  // only <eos> may follow
    struct Candidate {
      float score;
      int64_t parent, token;
      CtcPrefixScorer::State ctc;
    };
    std::vector<Candidate> candidates;
    for (int64_t n = 0; n < N; ++n) {
      const float* p = lp.data() + n * W;
      std::iota(ids.begin(), ids.end(), 1);  // 1 .. W-1: the tokens and <eos>
      std::partial_sort(ids.begin(), ids.begin() + pre_beam, ids.end(),
                        [&](int64_t a, int64_t b) { return p[a] > p[b]; });
      auto propose = [&](int64_t c) {
        Candidate cand{beam[n].score + (1.0f - w) * p[c] + o.length_bonus, n, c, {}};
        if (w > 0) {  // CTC's change of the prefix score; none at weight 0 (as ESPnet)
          float ctc_score;
          if (c == eos) {
            ctc_score = ctc.end(beam[n].ctc);
          } else {
            cand.ctc = ctc.extend(beam[n].ctc, c);
            ctc_score = cand.ctc.prefix;
          }
          cand.score += w * (finite_ctc(ctc_score) - finite_ctc(beam[n].ctc.prefix));
        }
        candidates.push_back(std::move(cand));
      };
      bool eos_proposed = false;
      for (int64_t j = 0; j < pre_beam; ++j) {
        if (final_step && ids[j] != eos) continue;
        eos_proposed = eos_proposed || ids[j] == eos;
        propose(ids[j]);
      }
      if (final_step && !eos_proposed) propose(eos);  // <eos> outside the pre-beam: forced
    }
    const size_t keep = std::min<size_t>(o.beam_size, candidates.size());
    std::partial_sort(candidates.begin(), candidates.begin() + keep, candidates.end(),
                      [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
    std::vector<Running> running;
    std::vector<int64_t> rows;
    for (size_t i = 0; i < keep; ++i) {
      Candidate& c = candidates[i];
      if (c.token == eos) {
        ended.push_back({{beam[c.parent].tokens, c.score}, step});
        continue;
      }
      std::vector<int64_t> tokens = beam[c.parent].tokens;
      tokens.push_back(c.token);
      running.push_back({std::move(tokens), c.score, std::move(c.ctc)});
      rows.push_back(c.parent);
    }
    beam = std::move(running);
    if (!beam.empty())
      state.select(ag::to_device(ag::from_int_vector(rows, {static_cast<int64_t>(rows.size())}),
                                 enc.device()));
    // ESPnet's end detection (with the length limit left to the frames): the hypotheses
    // ended 2, 3 and 4 steps ago (ESPnet's yseq lengths i, i-1, i-2 with <sos> and <eos>) all
    // lie more than 10 below the best ended one.
    if (o.end_detect && o.max_length == 0 && !ended.empty()) {
      float top = kNegInf;
      for (const Ended& e : ended) top = std::max(top, e.hyp.score);
      int far = 0;
      for (int64_t m = 0; m < 3; ++m) {
        float best_at = kNegInf;
        bool any = false;
        for (const Ended& e : ended)
          if (e.step == step - 2 - m) any = true, best_at = std::max(best_at, e.hyp.score);
        far += any && best_at - top < -10.0f;
      }
      if (far == 3) break;
    }
  }
  AG_CHECK(!ended.empty(), "joint_decode: no hypothesis ended within ", max_length, " tokens");
  const Ended* best = &ended.front();
  for (const Ended& e : ended)
    if (e.hyp.score > best->hyp.score) best = &e;
  return best->hyp;
}

}  // namespace asr
