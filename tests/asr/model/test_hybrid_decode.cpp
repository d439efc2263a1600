// Hybrid CTC/attention decoding: CTC prefix scores against brute force over every alignment,
// joint beam search against exhaustive search on a tiny vocabulary, attention rescoring
// against rescoring each n-best hypothesis alone, the cross-attention memory computed once per
// utterance, and the training loss's teacher forcing.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <functional>
#include <map>

#include "asr/model/hybrid_decode.h"
#include "autograd/ops.h"
#include "common/encoder_testing.h"
#include "common/gradcheck.h"
#include "nn/attention_core.h"
#include "nn/layers_testing.h"

using namespace ag;

namespace {

constexpr int64_t kVocab = 4;  // blank and tokens 1..3; the decoder adds <sos/eos> = 4

nn::DecoderConfig tiny_decoder(const std::string& self_type, const std::string& src_type) {
  nn::DecoderConfig d;
  d.num_layers = 2;
  d.ffn_dim = 12;
  d.dropout = d.positional_dropout = 0.0f;
  for (const auto& [a, type] : {std::pair{&d.self_attention, &self_type},
                          std::pair{&d.src_attention, &src_type}}) {
    a->type = *type;
    a->num_heads = 2;
    a->dropout = 0.0f;
    a->latent_dim = *type == "mla" || *type == "mla_simple" ? 3 : 0;
    a->num_kv_heads = *type == "gqa" ? 1 : 0;
  }
  return d;
}

struct Utterance {
  Tensor enc;        // [1, T', d]
  Tensor log_probs;  // [T', V]
  int64_t length;
};

Utterance encode(asr::AsrModel& model, int64_t frames) {
  NoGradGuard no_grad;
  Tensor feats = normal({1, frames, 9});
  nn::EncoderOutput enc = model.encoder->forward(feats, {frames});
  Tensor lp = log_softmax(model.ctc_logits(enc.out), -1);
  const int64_t T = enc.out.size(1);
  return {enc.out, reshape(lp, {T, kVocab}), enc.lengths[0]};
}

// log P_ctc(y) for every label sequence y, by summing over all V^T alignments.
std::map<std::vector<int64_t>, double> brute_force_ctc(const Tensor& log_probs) {
  const int64_t T = log_probs.size(0), V = log_probs.size(1);
  const std::vector<float> lp = log_probs.to_vector();
  std::map<std::vector<int64_t>, double> p;
  std::vector<int64_t> path(T, 0);
  for (int64_t code = 0; code < static_cast<int64_t>(std::pow(V, T)); ++code) {
    double logp = 0;
    int64_t rest = code;
    for (int64_t t = 0; t < T; ++t, rest /= V) {
      path[t] = rest % V;
      logp += lp[t * V + path[t]];
    }
    std::vector<int64_t> y;  // repeats merged, blanks dropped
    for (int64_t t = 0; t < T; ++t)
      if (path[t] != 0 && (t == 0 || path[t] != path[t - 1])) y.push_back(path[t]);
    p[y] += std::exp(logp);
  }
  for (auto& [y, v] : p) v = std::log(v);
  return p;
}

// Every sequence over tokens 1..V-1 of at most n tokens.
std::vector<std::vector<int64_t>> all_sequences(int64_t n) {
  std::vector<std::vector<int64_t>> out{{}};
  for (size_t i = 0; i < out.size(); ++i)
    if (static_cast<int64_t>(out[i].size()) < n)
      for (int64_t c = 1; c < kVocab; ++c) {
        std::vector<int64_t> y = out[i];
        y.push_back(c);
        out.push_back(y);
      }
  return out;
}

// log p_att(y <eos>) by one full decoder pass over y alone.
double attention_score(asr::AsrModel& model, const Tensor& memory,
                       const std::vector<int64_t>& y) {
  NoGradGuard no_grad;
  const int64_t eos = model.sos_eos(), L = static_cast<int64_t>(y.size()) + 1;
  std::vector<int64_t> in{eos};
  in.insert(in.end(), y.begin(), y.end());
  const std::vector<float> lp =
      log_softmax(model.decoder->forward(from_int_vector(in, {1, L}), {L}, memory, Tensor()), -1)
          .to_vector();
  double s = 0;
  for (int64_t i = 0; i < L; ++i) s += lp[i * (kVocab + 1) + (i < L - 1 ? y[i] : eos)];
  return s;
}

// log P_ctc(the frames' labels begin with g) for every g, from the exact probabilities.
std::map<std::vector<int64_t>, double> brute_force_prefixes(
    const std::map<std::vector<int64_t>, double>& exact) {
  std::map<std::vector<int64_t>, double> p;
  for (const auto& [z, v] : exact)
    for (size_t n = 0; n <= z.size(); ++n) {
      std::vector<int64_t> g(z.begin(), z.begin() + static_cast<int64_t>(n));
      p[g] += std::exp(v);
    }
  for (auto& [g, v] : p) v = std::log(v);
  return p;
}

// The joint search written plainly: every hypothesis's next-token scores from a full decoder
// pass over its prefix, CTC's prefix and sequence probabilities by brute force, no caches and
// no batching; the same pre-beam, pruning, forced <eos> and end detection.
asr::Hypothesis reference_joint(asr::AsrModel& model, const Tensor& memory,
                                const Tensor& log_probs, const asr::HybridDecodeOptions& o) {
  NoGradGuard no_grad;
  const auto exact = brute_force_ctc(log_probs);
  const auto prefix = brute_force_prefixes(exact);
  auto ctc_of = [&](const std::map<std::vector<int64_t>, double>& m,
                    const std::vector<int64_t>& y) { return m.count(y) ? m.at(y) : -INFINITY; };
  const int64_t eos = model.sos_eos(), W = kVocab + 1, T = log_probs.size(0);
  const double w = o.ctc_weight;
  struct Hyp {
    std::vector<int64_t> y;
    double score, ctc;
  };
  struct Done {
    asr::Hypothesis h;
    int64_t step;
  };
  std::vector<Hyp> beam{{{}, 0.0, 0.0}};
  std::vector<Done> ended;
  const int64_t pre_beam = std::min<int64_t>(W - 1, static_cast<int64_t>(1.5 * o.beam_size));
  for (int64_t step = 0; step < T && !beam.empty(); ++step) {
    std::vector<std::pair<double, Hyp>> cands;
    std::vector<std::pair<double, std::vector<int64_t>>> ending;
    for (const Hyp& h : beam) {
      std::vector<int64_t> in{eos};
      in.insert(in.end(), h.y.begin(), h.y.end());
      const int64_t L = static_cast<int64_t>(in.size());
      const std::vector<float> lp = log_softmax(
          model.decoder->forward(from_int_vector(in, {1, L}), {L}, memory, Tensor()), -1)
                                        .to_vector();
      const float* att = lp.data() + (L - 1) * W;
      std::vector<int64_t> ids;
      for (int64_t c = 1; c < W; ++c) ids.push_back(c);
      std::sort(ids.begin(), ids.end(), [&](int64_t a, int64_t b) { return att[a] > att[b]; });
      ids.resize(static_cast<size_t>(pre_beam));
      const bool final_step = step == T - 1;
      if (final_step) ids = {eos};
      for (int64_t c : ids) {
        std::vector<int64_t> y = h.y;
        if (c != eos) y.push_back(c);
        double score = h.score + (1 - w) * att[c] + o.length_bonus, ctc = 0;
        if (w > 0) {  // ESPnet's logzero for what CTC cannot emit
          ctc = std::max(c == eos ? ctc_of(exact, h.y) : ctc_of(prefix, y), -1e10);
          score += w * (ctc - h.ctc);
        }
        if (c == eos)
          ending.push_back({score, y});
        else
          cands.push_back({score, {y, score, ctc}});
      }
    }
    // One ranking over continuing and ending candidates.
    std::vector<std::pair<double, int64_t>> all;  // score, index (ending: -1 - i)
    for (size_t i = 0; i < cands.size(); ++i) all.push_back({cands[i].first, i});
    for (size_t i = 0; i < ending.size(); ++i)
      all.push_back({ending[i].first, -1 - static_cast<int64_t>(i)});
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    all.resize(std::min<size_t>(all.size(), o.beam_size));
    beam.clear();
    for (const auto& [score, i] : all) {
      if (i < 0)
        ended.push_back({{ending[-1 - i].second, static_cast<float>(score)}, step});
      else
        beam.push_back(cands[i].second);
    }
    if (o.end_detect && !ended.empty()) {
      double top = -INFINITY;
      for (const Done& e : ended) top = std::max<double>(top, e.h.score);
      int far = 0;
      for (int64_t m = 0; m < 3; ++m) {
        double best = -INFINITY;
        bool any = false;
        for (const Done& e : ended)
          if (e.step == step - 2 - m) any = true, best = std::max<double>(best, e.h.score);
        far += any && best - top < -10;
      }
      if (far == 3) break;
    }
  }
  asr::Hypothesis best{{}, -INFINITY};
  for (const Done& e : ended)
    if (e.h.score > best.score) best = e.h;
  return best;
}

}  // namespace

BOOST_AUTO_TEST_CASE(ctc_prefix_scores_match_brute_force) {
  manual_seed(61);
  const int64_t T = 5;
  Tensor log_probs = log_softmax(normal({T, kVocab}), -1);
  const auto p = brute_force_ctc(log_probs);
  asr::CtcPrefixScorer scorer(log_probs, T);
  // The state of every sequence up to 3 tokens, built token by token.
  std::map<std::vector<int64_t>, asr::CtcPrefixScorer::State> states{{{}, scorer.initial()}};
  for (const auto& y : all_sequences(3)) {
    if (y.empty()) continue;
    std::vector<int64_t> g(y.begin(), y.end() - 1);
    states[y] = scorer.extend(states.at(g), y.back());
  }
  for (const auto& [y, s] : states) {
    BOOST_TEST_CONTEXT("prefix of " << y.size() << " tokens") {
      // Ending: the probability of exactly y.
      const double exact = p.count(y) ? p.at(y) : -INFINITY;
      if (std::isfinite(exact))
        BOOST_CHECK_CLOSE(scorer.end(s), exact, 1e-3);
      else
        BOOST_CHECK(std::isinf(scorer.end(s)));
      // The prefix score: every sequence that begins with y.
      if (y.empty()) continue;
      double begins = 0;
      for (const auto& [z, v] : p)
        if (z.size() >= y.size() && std::equal(y.begin(), y.end(), z.begin())) begins += std::exp(v);
      BOOST_CHECK_CLOSE(s.prefix, std::log(begins), 1e-3);
    }
  }
}

BOOST_AUTO_TEST_CASE(joint_beam_search_equals_exhaustive_search) {
  for (const auto& [self_type, src_type] :
       std::vector<std::pair<std::string, std::string>>{{"mha", "mha"}, {"mla", "mla"},
                                                        {"gqa", "mla_simple"}}) {
    BOOST_TEST_CONTEXT(self_type << " / " << src_type) {
      manual_seed(62);
      asr::AsrModel model(testing::tiny_encoder_config(), kVocab,
                          tiny_decoder(self_type, src_type));
      layers_testing::randomize(model);
      model.eval();
      const Utterance u = encode(model, 21);  // 4 encoder frames
      BOOST_REQUIRE_EQUAL(u.length, 4);
      asr::HybridDecodeOptions o;
      o.beam_size = 200;  // wider than the 40 sequences of at most 3 tokens
      o.ctc_weight = 0.3f;
      o.length_bonus = 0.5f;
      o.end_detect = false;
      // Count the cross-attention memories computed: one per layer per utterance.
      int64_t memories = 0;
      for (const auto& layer : *model.decoder->decoders)
        dynamic_cast<nn::AttentionBase&>(*layer->src_attn).input_observer =
            [&](const Tensor&, const Tensor&, const Tensor&) { ++memories; };
      const asr::Hypothesis got = asr::joint_decode(model, u.enc, u.log_probs, u.length, o);
      BOOST_CHECK_EQUAL(memories, model.decoder->config().num_layers);
      for (const auto& layer : *model.decoder->decoders)
        dynamic_cast<nn::AttentionBase&>(*layer->src_attn).input_observer = nullptr;

      const auto ctc = brute_force_ctc(u.log_probs);
      asr::Hypothesis best{{}, -INFINITY};
      for (const auto& y : all_sequences(u.length - 1)) {  // max_length 4: 3 tokens and <eos>
        const double c = ctc.count(y) ? ctc.at(y) : -INFINITY;
        const double s = 0.7 * attention_score(model, u.enc, y) + 0.3 * c +
                         0.5 * static_cast<double>(y.size() + 1);
        if (s > best.score) best = {y, static_cast<float>(s)};
      }
      BOOST_CHECK(got.tokens == best.tokens);
      BOOST_CHECK_CLOSE(got.score, best.score, 1e-3);
    }
  }
}

// A narrow beam (pruning, the pre-beam, forced <eos>, end detection) against the plain
// rendering of the same search, with CTC weighted in and left out.
BOOST_AUTO_TEST_CASE(narrow_joint_beam_matches_the_plain_search) {
  for (float w : {0.3f, 0.0f}) {
    for (int beam : {1, 3}) {
      BOOST_TEST_CONTEXT("ctc_weight " << w << ", beam " << beam) {
        manual_seed(65);
        asr::AsrModel model(testing::tiny_encoder_config(), kVocab, tiny_decoder("mha", "gqa"));
        layers_testing::randomize(model);
        model.eval();
        const Utterance u = encode(model, 27);  // 5 encoder frames
        asr::HybridDecodeOptions o;
        o.beam_size = beam;
        o.ctc_weight = w;
        o.length_bonus = 0.2f;
        const asr::Hypothesis got = asr::joint_decode(model, u.enc, u.log_probs, u.length, o);
        const asr::Hypothesis want = reference_joint(model, u.enc, u.log_probs, o);
        BOOST_CHECK(std::isfinite(got.score));
        BOOST_CHECK(got.tokens == want.tokens);
        BOOST_CHECK_CLOSE(got.score, want.score, 1e-3);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(attention_rescoring_picks_the_best_rescored_hypothesis) {
  manual_seed(63);
  asr::AsrModel model(testing::tiny_encoder_config(), kVocab, tiny_decoder("mha", "mla"));
  layers_testing::randomize(model);
  model.eval();
  const Utterance u = encode(model, 31);  // 6 encoder frames
  asr::HybridDecodeOptions o;
  o.beam_size = 6;
  o.ctc_weight = 0.4f;
  const asr::Hypothesis got = asr::attention_rescoring(model, u.enc, u.log_probs, u.length, o);
  asr::Hypothesis best{{}, -INFINITY};
  for (const asr::Hypothesis& h : asr::ctc_nbest(u.log_probs, u.length, o.beam_size)) {
    const double s = 0.6 * attention_score(model, u.enc, h.tokens) + 0.4 * h.score;
    if (s > best.score) best = {h.tokens, static_cast<float>(s)};
  }
  BOOST_CHECK(got.tokens == best.tokens);
  BOOST_CHECK_CLOSE(got.score, best.score, 1e-3);
}

// The training loss feeds <sos> y and predicts y <eos>: with the decoder's logits known, the
// loss equals the label-smoothing loss of those targets.
BOOST_AUTO_TEST_CASE(attention_loss_teacher_forces_sos_and_eos) {
  manual_seed(64);
  asr::AsrModel model(testing::tiny_encoder_config(), kVocab, tiny_decoder("mha", "mha"));
  layers_testing::randomize(model);
  model.eval();
  NoGradGuard no_grad;
  Tensor enc = normal({2, 5, 8});
  const std::vector<std::vector<int64_t>> targets{{1, 2, 3}, {2}};
  asr::AsrModel::AttentionLoss got = model.attention_loss(enc, {5, 3}, targets, 0.0f);
  // Without smoothing the loss is the summed cross entropy of y <eos> given <sos> y.
  double want = 0;
  for (int64_t b = 0; b < 2; ++b) {
    Tensor memory = narrow(narrow(enc, 0, b, 1), 1, 0, b == 0 ? 5 : 3);
    want -= attention_score(model, memory, targets[b]);
  }
  BOOST_CHECK_CLOSE(got.loss.item(), want, 1e-3);
  BOOST_CHECK(got.accuracy >= 0 && got.accuracy <= 1);
  testing::check_error([&] { asr::AsrModel(testing::tiny_encoder_config(), kVocab)
                                 .attention_loss(enc, {5, 3}, targets, 0.1f); },
                       "needs a decoder");
}
