// Linear attention: a naive reference (double) for the O(T) padded form and the O(T^2)
// masked form, the two forms against each other, the recurrent form against the parallel
// one under a causal mask (also across chunks and with padding), pos_emb ignored, errors.
#include <boost/test/unit_test.hpp>

#include "attention_testing.h"
#include "autograd/ops.h"
#include "nn/linear_attention.h"

using namespace attn_testing;
using nn::AttentionConfig;
using nn::LinearAttention;
using testing::check_error;
using testing::check_gradients;
using testing::max_abs_diff;

namespace {

double phi(double x) { return x > 0 ? x + 1 : std::exp(x); }

// sum_j m_ij phi(q_i).phi(k_j) v_j / (sum_j m_ij phi(q_i).phi(k_j) + eps), then linear_out.
std::vector<double> reference(const LinearAttention& m, const Tensor& x, const Tensor& mask) {
  ag::NoGradGuard no_grad;
  const int64_t B = x.size(0), T = x.size(1), d = m.config().d_model, H = m.config().num_heads;
  const int64_t dk = d / H;
  std::vector<float> q = m.linear_q->forward(x).to_vector(), k = m.linear_k->forward(x).to_vector(),
                     v = m.linear_v->forward(x).to_vector();
  std::vector<double> heads(B * T * d, 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < T; ++i) {
        double den = 0;
        std::vector<double> num(dk, 0.0);
        for (int64_t j = 0; j < T; ++j) {
          if (!allowed(mask, b, i, j)) continue;
          double a = 0;
          for (int64_t c = 0; c < dk; ++c)
            a += phi(q[(b * T + i) * d + h * dk + c]) * phi(k[(b * T + j) * d + h * dk + c]);
          den += a;
          for (int64_t c = 0; c < dk; ++c) num[c] += a * v[(b * T + j) * d + h * dk + c];
        }
        for (int64_t c = 0; c < dk; ++c)
          heads[(b * T + i) * d + h * dk + c] = num[c] / (den + LinearAttention::kEps);
      }
  std::vector<float> w = m.linear_out->weight.to_vector(), bo = m.linear_out->bias.to_vector();
  std::vector<double> out(B * T * d);
  for (int64_t r = 0; r < B * T; ++r)
    for (int64_t o = 0; o < d; ++o) {
      double s = bo[o];
      for (int64_t i = 0; i < d; ++i) s += w[o * d + i] * heads[r * d + i];
      out[r * d + o] = s;
    }
  return out;
}

// The [B, 1, T] padding mask as the same mask on every query row, [B, T, T].
Tensor rows_of(const Tensor& padding) {
  const int64_t B = padding.size(0), T = padding.size(2);
  Tensor m = ag::zeros({B, T, T}, ag::DType::u8);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < T; ++i)
      for (int64_t j = 0; j < T; ++j)
        m.data_as<uint8_t>()[(b * T + i) * T + j] = padding.data_as<uint8_t>()[b * T + j];
  return m;
}

}  // namespace

BOOST_AUTO_TEST_CASE(parallel_forms_match_the_naive_reference) {
  ag::manual_seed(61);
  const int64_t T = 7;
  for (int64_t heads : {1, 2, 4}) {
    BOOST_TEST_CONTEXT("H " << heads) {
      LinearAttention m(config("linear", false, 8, heads));
      Tensor x = ag::normal({2, T, 8});
      for (const Tensor& mask : {Tensor(), padding_mask({7, 4}, T), chunk_mask({7, 4}, T, 3),
                                 causal_mask(2, T)})
        BOOST_CHECK_SMALL(max_rel_diff(m.forward(x, mask, Tensor()).to_vector(),
                                       reference(m, x, mask)), 1e-5);
    }
  }
}

BOOST_AUTO_TEST_CASE(padded_linear_form_equals_the_masked_quadratic_form) {
  ag::manual_seed(62);
  const int64_t T = 6;
  LinearAttention m(config("linear", false));
  Tensor x = ag::normal({2, T, 8}), pad = padding_mask({6, 2}, T);
  BOOST_CHECK_LE(max_abs_diff(m.forward(x, pad, Tensor()), m.forward(x, rows_of(pad), Tensor())),
                 1e-5f);
}

BOOST_AUTO_TEST_CASE(recurrent_form_equals_parallel_form_under_a_causal_mask) {
  ag::manual_seed(63);
  const int64_t T = 9;
  for (bool rel : {false, true}) {
    BOOST_TEST_CONTEXT((rel ? "relative" : "absolute")) {
      AttentionConfig c = config("linear", rel, 16, 4);
      LinearAttention m(c);
      Tensor x = ag::normal({2, T, 16});
      Tensor parallel = m.forward(x, causal_mask(2, T), pos_emb_for(c, T));
      LinearAttention::State state = m.initial_state(2);
      BOOST_CHECK(state.s.shape() == (Shape{2, 4, 4, 4}));
      BOOST_CHECK(state.z.shape() == (Shape{2, 4, 1, 4}));
      BOOST_CHECK_EQUAL(state.s.numel() / 2 + state.z.numel() / 2, m.cache_floats_fixed());
      Tensor recurrent = m.forward_recurrent(x, state);
      BOOST_CHECK_LE(max_abs_diff(recurrent, parallel), 1e-5f);
      // In two chunks, the state carried between them.
      LinearAttention::State s2 = m.initial_state(2);
      Tensor first = m.forward_recurrent(ag::narrow(x, 1, 0, 4), s2);
      Tensor second = m.forward_recurrent(ag::narrow(x, 1, 4, T - 4), s2);
      BOOST_CHECK_LE(max_abs_diff(ag::concat({first, second}, 1), parallel), 1e-5f);
      BOOST_CHECK_LE(max_abs_diff(s2.s, state.s), 1e-5f);
      BOOST_CHECK_LE(max_abs_diff(s2.z, state.z), 1e-5f);
    }
  }
}

BOOST_AUTO_TEST_CASE(recurrent_form_skips_padded_frames) {
  ag::manual_seed(64);
  const int64_t T = 6;
  LinearAttention m(config("linear", false));
  Tensor x = ag::normal({2, T, 8});
  LinearAttention::State padded = m.initial_state(2), trimmed = m.initial_state(1);
  Tensor y = m.forward_recurrent(x, padded, padding_mask({6, 4}, T));
  // Item 1 alone, only its 4 valid frames.
  Tensor x1 = ag::narrow(ag::narrow(x, 0, 1, 1), 1, 0, 4);
  Tensor y1 = m.forward_recurrent(x1, trimmed);
  BOOST_CHECK_LE(max_abs_diff(ag::narrow(ag::narrow(y, 0, 1, 1), 1, 0, 4), y1), 1e-5f);
  BOOST_CHECK_LE(max_abs_diff(ag::narrow(padded.s, 0, 1, 1), trimmed.s), 1e-5f);
  BOOST_CHECK_LE(max_abs_diff(ag::narrow(padded.z, 0, 1, 1), trimmed.z), 1e-5f);
}

BOOST_AUTO_TEST_CASE(recurrent_form_gradients) {
  ag::manual_seed(65);
  LinearAttention m(config("linear", false));
  check_gradients(
      [&](auto& in) {
        LinearAttention::State s = m.initial_state(2);
        return m.forward_recurrent(in[0], s);
      },
      {ag::normal({2, 4, 8})});
}

BOOST_AUTO_TEST_CASE(relative_configs_ignore_pos_emb_and_add_no_parameters) {
  ag::manual_seed(66);
  const int64_t T = 5;
  LinearAttention rel(config("linear", true)), abs(config("linear", false));
  BOOST_CHECK_EQUAL(rel.num_parameters(), abs.num_parameters());
  Tensor x = ag::normal({2, T, 8}), mask = padding_mask({5, 3}, T);
  BOOST_CHECK_EQUAL(max_abs_diff(rel.forward(x, mask, ag::normal({1, 2 * T - 1, 8})),
                                 rel.forward(x, mask, ag::normal({1, 2 * T - 1, 8}))),
                    0.0f);
}

BOOST_AUTO_TEST_CASE(recurrent_form_errors) {
  LinearAttention m(config("linear", false));
  LinearAttention::State s = m.initial_state(2);
  check_error([&] { m.forward_recurrent(ag::zeros({2, 3, 8}), s, causal_mask(2, 3)); },
              "attention (linear): the recurrent form takes a padding mask [B, 1, T], got [2,3,3]");
  check_error([&] { m.forward_recurrent(ag::zeros({3, 3, 8}), s); },
              "attention (linear): state for batch 2 used with input [3,3,8]");
  check_error([&] { m.forward_recurrent(ag::zeros({2, 3, 6}), s); }, "input [2,3,6]");
}
