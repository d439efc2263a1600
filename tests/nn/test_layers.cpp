// Layers: positional encodings, feed-forward, convolution module, cgMLP, Conv2d subsampling:
// values, shapes, parameter names and counts, gradients, padding and causality.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>

#include "common/gradcheck.h"
#include "layers_testing.h"
#include "nn/cgmlp.h"
#include "nn/convolution_module.h"
#include "nn/feed_forward.h"
#include "nn/masks.h"
#include "nn/positional_encoding.h"
#include "nn/subsampling.h"

using namespace ag;
using namespace layers_testing;
using testing::check_error;
using testing::check_gradients;
using testing::max_abs_diff;

namespace {
// pe(p)[2i] = sin(p w_i), pe(p)[2i+1] = cos(p w_i), w_i = 10000^(-2i/d), in double.
double sinusoid(double p, int64_t k, int64_t d) {
  const double w = std::pow(10000.0, -static_cast<double>(k - k % 2) / static_cast<double>(d));
  return k % 2 == 0 ? std::sin(p * w) : std::cos(p * w);
}

int64_t conv_module_parameters(int64_t d, int64_t K) {
  return (2 * d * d + 2 * d) + (d * K + d) + 2 * d + (d * d + d);
}

int64_t cgmlp_parameters(int64_t d, int64_t u, int64_t K) {
  return (d * u + u) + 2 * (u / 2) + (u / 2 * K + u / 2) + (u / 2 * d + d);
}
}  // namespace

BOOST_AUTO_TEST_CASE(absolute_positional_encoding_values) {
  const int64_t d = 6, T = 5;
  nn::PositionalEncoding pe(d, 0.1f);
  pe.eval();
  Tensor x = normal({2, T, d});
  Tensor y = pe.forward(x);
  BOOST_REQUIRE(y.shape() == x.shape());
  std::vector<float> xv = x.to_vector(), yv = y.to_vector();
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t k = 0; k < d; ++k) {
        const size_t i = (b * T + t) * d + k;
        BOOST_CHECK_CLOSE_FRACTION(yv[i] + 10, xv[i] * std::sqrt(6.0) + sinusoid(t, k, d) + 10, 1e-6);
      }
  // A longer input grows the table; a shorter one after it reads the same rows.
  pe.forward(normal({1, 9, d}));
  BOOST_CHECK_LE(max_abs_diff(pe.forward(x), y), 1e-6f);
  check_error([&] { pe.forward(normal({2, T, d + 1})); }, "PositionalEncoding");
}

BOOST_AUTO_TEST_CASE(relative_positional_encoding_values) {
  const int64_t d = 8;
  nn::RelPositionalEncoding pe(d, 0.1f);
  pe.eval();
  for (int64_t T : {4, 9, 3, 1}) {  // grow, then reuse the cached table
    BOOST_TEST_CONTEXT("T " << T) {
      Tensor x = normal({2, T, d});
      auto [y, pos] = pe.forward(x);
      BOOST_CHECK_LE(max_abs_diff(y, x * std::sqrt(8.0f)), 1e-5f);
      BOOST_REQUIRE(pos.shape() == (Shape{1, 2 * T - 1, d}));
      std::vector<float> pv = pos.to_vector();
      for (int64_t j = 0; j < 2 * T - 1; ++j)
        for (int64_t k = 0; k < d; ++k)  // row j holds relative position T-1-j
          BOOST_CHECK_SMALL(pv[j * d + k] - sinusoid(static_cast<double>(T - 1 - j), k, d), 1e-5);
    }
  }
}

BOOST_AUTO_TEST_CASE(positional_encodings_apply_dropout_in_training_only) {
  nn::RelPositionalEncoding pe(8, 0.5f);
  Tensor x = ones({2, 6, 8});
  auto [y, pos] = pe.forward(x);
  std::vector<float> v = y.to_vector();
  const auto zeros_in = [](const std::vector<float>& a) { return std::count(a.begin(), a.end(), 0.0f); };
  BOOST_CHECK_GT(zeros_in(v), 10);
  BOOST_CHECK_GT(zeros_in(pos.to_vector()), 10);
  nn::PositionalEncoding abs_pe(8, 0.5f);
  BOOST_CHECK_GT(zeros_in(abs_pe.forward(x).to_vector()), 10);
}

BOOST_AUTO_TEST_CASE(feed_forward_shape_names_count_gradients) {
  manual_seed(3);
  nn::FeedForward ff(8, 12, 0.0f);
  BOOST_CHECK_EQUAL(ff.num_parameters(), 8 * 12 + 12 + 12 * 8 + 8);
  auto shapes = parameter_shapes(ff);
  BOOST_CHECK(shapes["w_1.weight"] == (Shape{12, 8}));
  BOOST_CHECK(shapes["w_2.weight"] == (Shape{8, 12}));
  Tensor x = normal({2, 5, 8});
  BOOST_CHECK(ff.forward(x).shape() == x.shape());
  check_gradients([&](const std::vector<Tensor>& in) { return ff.forward(in[0]); },
                  with_parameters(x, ff));
}

BOOST_AUTO_TEST_CASE(convolution_module_shape_names_count) {
  for (bool causal : {false, true}) {
    nn::ConvolutionModule conv(8, 5, causal);
    BOOST_CHECK_EQUAL(conv.num_parameters(), conv_module_parameters(8, 5));
    auto shapes = parameter_shapes(conv);
    BOOST_CHECK(shapes["pointwise_conv1.weight"] == (Shape{16, 8, 1}));
    BOOST_CHECK(shapes["pointwise_conv1.bias"] == (Shape{16}));
    BOOST_CHECK(shapes["depthwise_conv.weight"] == (Shape{8, 1, 5}));
    BOOST_CHECK(shapes["norm.weight"] == (Shape{8}));
    BOOST_CHECK(shapes["pointwise_conv2.weight"] == (Shape{8, 8, 1}));
    BOOST_CHECK_EQUAL(conv.named_buffers().size(), 3u);  // running mean, var, count
    Tensor x = normal({2, 7, 8});
    BOOST_CHECK(conv.forward(x, Tensor()).shape() == x.shape());
  }
  check_error([] { nn::ConvolutionModule(8, 4, false); }, "odd");
  nn::ConvolutionModule even_causal(8, 4, true);
  BOOST_CHECK(even_causal.forward(normal({1, 6, 8}), Tensor()).shape() == (Shape{1, 6, 8}));
}

BOOST_AUTO_TEST_CASE(convolution_module_gradients) {
  manual_seed(4);
  for (std::string norm : {"batch_norm", "layer_norm"})
    for (bool training : {false, true}) {
      BOOST_TEST_CONTEXT(norm << (training ? ", batch statistics" : ", running statistics")) {
        nn::ConvolutionModule conv(6, 3, false, norm);
        randomize(conv);
        conv.train(training);
        Tensor x = normal({2, 5, 6});
        Tensor pad = nn::padding_mask({5, 3}, 5);
        testing::GradCheck opt;
        // With batch statistics the depthwise bias is removed again by the batch norm's mean:
        // its gradient is 0 by construction.
        if (norm == "batch_norm" && training)
          opt.zero_gradient = inputs_named(conv, {"depthwise_conv.bias"});
        check_gradients([&](const std::vector<Tensor>& in) { return conv.forward(in[0], pad); },
                        with_parameters(x, conv), opt);
      }
    }
}

// layer_norm: the norm normalizes each frame over its channels, with weight and bias named
// as the batch norm's and no running statistics; an unknown norm is refused.
BOOST_AUTO_TEST_CASE(convolution_module_layer_norm) {
  manual_seed(8);
  const int64_t d = 4, T = 5;
  nn::ConvolutionModule ln(d, 3, true, "layer_norm"), bn(d, 3, true);
  std::vector<std::string> names;
  for (auto& [key, t] : ln.state_dict()) names.push_back(key);
  BOOST_CHECK(std::count(names.begin(), names.end(), "norm.weight") == 1);
  BOOST_CHECK(std::count(names.begin(), names.end(), "norm.running_mean") == 0);
  BOOST_CHECK_EQUAL(names.size() + 3, bn.state_dict().size());  // running mean, var, count
  randomize(ln);
  Tensor x = normal({1, T, d});
  // Swapping the norm for an explicit per-frame normalization gives the same output.
  Tensor h = ag::glu(ln.pointwise_conv1->forward_pointwise(x), -1);
  h = ag::transpose(ln.depthwise_conv->forward(ag::transpose(h, 1, 2)), 1, 2);  // [1, T, d]
  std::vector<float> hv = h.to_vector(), g = ln.layer_norm->weight.to_vector(),
                     b = ln.layer_norm->bias.to_vector(), normed(T * d);
  for (int64_t t = 0; t < T; ++t) {
    double mean = 0, var = 0;
    for (int64_t c = 0; c < d; ++c) mean += hv[t * d + c] / d;
    for (int64_t c = 0; c < d; ++c) var += (hv[t * d + c] - mean) * (hv[t * d + c] - mean) / d;
    for (int64_t c = 0; c < d; ++c) {
      const double n = (hv[t * d + c] - mean) / std::sqrt(var + 1e-5) * g[c] + b[c];
      normed[t * d + c] = static_cast<float>(n / (1 + std::exp(-n)));
    }
  }
  Tensor expected = ln.pointwise_conv2->forward_pointwise(ag::from_vector(normed, {1, T, d}));
  BOOST_CHECK_LE(testing::max_abs_diff(ln.forward(x, Tensor()), expected), 1e-5f);
  testing::check_error([] { nn::ConvolutionModule(4, 3, false, "group_norm"); },
                       "norm 'group_norm' is not batch_norm or layer_norm");
}

BOOST_AUTO_TEST_CASE(convolution_module_matches_explicit_computation) {
  // One channel path written out: depthwise over time of GLU(pointwise_conv1 x).
  manual_seed(5);
  const int64_t d = 4, T = 6, K = 3;
  nn::ConvolutionModule conv(d, K, false);
  randomize(conv);
  conv.eval();  // running mean 0, var 1: the norm is y / sqrt(1 + eps) * w + b
  Tensor x = normal({1, T, d});
  std::vector<float> xv = x.to_vector(), w1 = conv.pointwise_conv1->weight.to_vector(),
                     b1 = conv.pointwise_conv1->bias.to_vector(),
                     wd = conv.depthwise_conv->weight.to_vector(),
                     bd = conv.depthwise_conv->bias.to_vector(), g = conv.norm->weight.to_vector(),
                     beta = conv.norm->bias.to_vector(), w2 = conv.pointwise_conv2->weight.to_vector(),
                     b2 = conv.pointwise_conv2->bias.to_vector();
  std::vector<double> glu(T * d), act(T * d);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t c = 0; c < d; ++c) {
      double a = b1[c], gate = b1[c + d];
      for (int64_t i = 0; i < d; ++i) {
        a += w1[c * d + i] * xv[t * d + i];
        gate += w1[(c + d) * d + i] * xv[t * d + i];
      }
      glu[t * d + c] = a / (1 + std::exp(-gate));
    }
  for (int64_t t = 0; t < T; ++t)
    for (int64_t c = 0; c < d; ++c) {
      double s = bd[c];
      for (int64_t k = 0; k < K; ++k) {
        const int64_t u = t + k - (K - 1) / 2;
        if (u >= 0 && u < T) s += wd[c * K + k] * glu[u * d + c];
      }
      const double n = s / std::sqrt(1.0 + 1e-5) * g[c] + beta[c];
      act[t * d + c] = n / (1 + std::exp(-n));
    }
  std::vector<float> expected(T * d);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t o = 0; o < d; ++o) {
      double s = b2[o];
      for (int64_t i = 0; i < d; ++i) s += w2[o * d + i] * act[t * d + i];
      expected[t * d + o] = static_cast<float>(s);
    }
  testing::check_values(conv.forward(x, Tensor()), expected, 1e-4f);
}

BOOST_AUTO_TEST_CASE(convolution_module_padding_never_leaks) {
  manual_seed(6);
  nn::ConvolutionModule conv(6, 5, false);
  randomize(conv);
  conv.eval();
  const std::vector<int64_t> lengths{8, 5};
  Tensor pad = nn::padding_mask(lengths, 8);
  auto real = [&](int64_t b, int64_t t) { return t < lengths[b]; };
  auto padded = [&](int64_t b, int64_t t) { return t >= lengths[b]; };
  Tensor x = normal({2, 8, 6});
  Tensor x2 = perturb_frames(x, padded);
  BOOST_CHECK_LE(max_diff_at(conv.forward(x, pad), conv.forward(x2, pad), real), 1e-6f);
  // Without the mask the padded frames do reach real ones: the check can fail.
  BOOST_CHECK_GT(max_diff_at(conv.forward(x, Tensor()), conv.forward(x2, Tensor()), real), 1e-3f);
}

BOOST_AUTO_TEST_CASE(causal_convolutions_never_look_ahead) {
  manual_seed(7);
  const int64_t T = 9, d = 6;
  nn::ConvolutionModule conv(d, 5, true), centred(d, 5, false);
  nn::ConvolutionalGatingMLP cgmlp(d, 8, 5, 0.0f, true);
  for (nn::Module* m : std::vector<nn::Module*>{&conv, &centred, &cgmlp}) {
    randomize(*m);
    m->eval();
  }
  Tensor x = normal({1, T, d});
  for (int64_t t = 0; t + 1 < T; ++t) {
    BOOST_TEST_CONTEXT("frames after " << t << " changed") {
      Tensor x2 = perturb_frames(x, [t](int64_t, int64_t u) { return u > t; });
      auto past = [t](int64_t, int64_t u) { return u <= t; };
      BOOST_CHECK_LE(max_diff_at(conv.forward(x, Tensor()), conv.forward(x2, Tensor()), past), 1e-6f);
      BOOST_CHECK_LE(max_diff_at(cgmlp.forward(x, Tensor()), cgmlp.forward(x2, Tensor()), past), 1e-6f);
      BOOST_CHECK_GT(max_diff_at(centred.forward(x, Tensor()), centred.forward(x2, Tensor()), past), 1e-4f);
    }
  }
}

BOOST_AUTO_TEST_CASE(cgmlp_shape_names_count) {
  nn::ConvolutionalGatingMLP m(8, 12, 5, 0.1f, false);
  BOOST_CHECK_EQUAL(m.num_parameters(), cgmlp_parameters(8, 12, 5));
  auto shapes = parameter_shapes(m);
  BOOST_CHECK(shapes["channel_proj1.0.weight"] == (Shape{12, 8}));
  BOOST_CHECK(shapes["channel_proj1.0.bias"] == (Shape{12}));
  BOOST_CHECK(shapes["csgu.norm.weight"] == (Shape{6}));
  BOOST_CHECK(shapes["csgu.conv.weight"] == (Shape{6, 1, 5}));
  BOOST_CHECK(shapes["csgu.conv.bias"] == (Shape{6}));
  BOOST_CHECK(shapes["channel_proj2.weight"] == (Shape{8, 6}));
  BOOST_CHECK_EQUAL(shapes.size(), 8u);
  // ESPnet's CSGU initialization: conv near zero, bias one.
  BOOST_CHECK_LE(max(abs(m.csgu->conv->weight)).item(), 1e-4f);
  for (float b : m.csgu->conv->bias.to_vector()) BOOST_CHECK_EQUAL(b, 1.0f);
  Tensor x = normal({2, 7, 8});
  BOOST_CHECK(m.forward(x, Tensor()).shape() == x.shape());
  check_error([] { nn::ConvolutionalGatingMLP(8, 7, 5, 0.0f, false); }, "even");
}

BOOST_AUTO_TEST_CASE(cgmlp_matches_explicit_computation) {
  manual_seed(8);
  const int64_t d = 4, u = 6, h = u / 2, T = 5, K = 3;
  nn::ConvolutionalGatingMLP m(d, u, K, 0.0f, false);
  randomize(m);
  Tensor x = normal({1, T, d});
  auto vec = [](const Tensor& t) { return t.to_vector(); };
  const auto& proj1 = (*m.channel_proj1)[0];
  std::vector<float> xv = vec(x), w1 = vec(proj1.weight), b1 = vec(proj1.bias),
                     gn = vec(m.csgu->norm->weight), bn = vec(m.csgu->norm->bias),
                     wc = vec(m.csgu->conv->weight), bc = vec(m.csgu->conv->bias),
                     w2 = vec(m.channel_proj2->weight), b2 = vec(m.channel_proj2->bias);
  auto gelu = [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); };
  std::vector<double> a(T * u), g(T * h);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t o = 0; o < u; ++o) {
      double s = b1[o];
      for (int64_t i = 0; i < d; ++i) s += w1[o * d + i] * xv[t * d + i];
      a[t * u + o] = gelu(s);
    }
  for (int64_t t = 0; t < T; ++t) {  // layer norm of the second half
    double mean = 0, var = 0;
    for (int64_t c = 0; c < h; ++c) mean += a[t * u + h + c] / h;
    for (int64_t c = 0; c < h; ++c) var += std::pow(a[t * u + h + c] - mean, 2) / h;
    for (int64_t c = 0; c < h; ++c)
      g[t * h + c] = (a[t * u + h + c] - mean) / std::sqrt(var + 1e-12) * gn[c] + bn[c];
  }
  std::vector<float> expected(T * d);
  for (int64_t t = 0; t < T; ++t) {
    std::vector<double> y(h);
    for (int64_t c = 0; c < h; ++c) {
      double s = bc[c];
      for (int64_t k = 0; k < K; ++k) {
        const int64_t v = t + k - (K - 1) / 2;
        if (v >= 0 && v < T) s += wc[c * K + k] * g[v * h + c];
      }
      y[c] = a[t * u + c] * s;
    }
    for (int64_t o = 0; o < d; ++o) {
      double s = b2[o];
      for (int64_t c = 0; c < h; ++c) s += w2[o * h + c] * y[c];
      expected[t * d + o] = static_cast<float>(s);
    }
  }
  testing::check_values(m.forward(x, Tensor()), expected, 1e-4f);
}

BOOST_AUTO_TEST_CASE(cgmlp_gradients_and_padding) {
  manual_seed(9);
  nn::ConvolutionalGatingMLP m(6, 8, 3, 0.0f, false);
  randomize(m);
  const std::vector<int64_t> lengths{6, 4};
  Tensor pad = nn::padding_mask(lengths, 6);
  Tensor x = normal({2, 6, 6});
  check_gradients([&](const std::vector<Tensor>& in) { return m.forward(in[0], pad); },
                  with_parameters(x, m));
  auto real = [&](int64_t b, int64_t t) { return t < lengths[b]; };
  Tensor x2 = perturb_frames(x, [&](int64_t b, int64_t t) { return !real(b, t); });
  BOOST_CHECK_LE(max_diff_at(m.forward(x, pad), m.forward(x2, pad), real), 1e-6f);
  BOOST_CHECK_GT(max_diff_at(m.forward(x, Tensor()), m.forward(x2, Tensor()), real), 1e-4f);
}

BOOST_AUTO_TEST_CASE(subsampling_shapes_lengths_names_count) {
  const int64_t F = 13, d = 4, Fp = ((F - 1) / 2 - 1) / 2;
  nn::Conv2dSubsampling sub(F, d);
  BOOST_CHECK_EQUAL(sub.num_parameters(), (9 * d + d) + (d * d * 9 + d) + (d * Fp * d + d));
  auto shapes = parameter_shapes(sub);
  BOOST_CHECK(shapes["conv.0.weight"] == (Shape{d, 1, 3, 3}));
  BOOST_CHECK(shapes["conv.0.bias"] == (Shape{d}));
  BOOST_CHECK(shapes["conv.2.weight"] == (Shape{d, d, 3, 3}));
  BOOST_CHECK(shapes["out.0.weight"] == (Shape{d, d * Fp}));
  BOOST_CHECK_EQUAL(shapes.size(), 6u);
  for (int64_t T : {7, 8, 10, 11, 12, 30}) {
    const int64_t expect = ((T - 1) / 2 - 1) / 2;
    BOOST_CHECK_EQUAL(nn::Conv2dSubsampling::output_length(T), expect);
    BOOST_CHECK(sub.forward(normal({2, T, F})).shape() == (Shape{2, expect, d}));
  }
  BOOST_CHECK_EQUAL(nn::Conv2dSubsampling::output_length(6), 0);
  check_error([&] { sub.forward(normal({2, 6, F})); }, "at least 7");
  check_error([&] { sub.forward(normal({2, 9, F + 1})); }, "Conv2dSubsampling");
  check_error([] { nn::Conv2dSubsampling(6, 4); }, "input_dim 6");
}

BOOST_AUTO_TEST_CASE(subsampling_matches_explicit_computation_and_gradients) {
  manual_seed(10);
  const int64_t F = 9, d = 3, T = 11;  // F' = 1, T' = 2
  nn::Conv2dSubsampling sub(F, d);
  randomize(sub, 0.3f);
  Tensor x = normal({2, T, F});
  check_gradients([&](const std::vector<Tensor>& in) { return sub.forward(in[0]); },
                  with_parameters(x, sub));
  // Output frame t, channel o, item b written out.
  std::vector<float> xv = x.to_vector(), w0 = sub.conv->conv0->weight.to_vector(),
                     b0 = sub.conv->conv0->bias.to_vector(), w2 = sub.conv->conv2->weight.to_vector(),
                     b2 = sub.conv->conv2->bias.to_vector(), wo = (*sub.out)[0].weight.to_vector(),
                     bo = (*sub.out)[0].bias.to_vector();
  const int64_t T1 = (T - 3) / 2 + 1, F1 = (F - 3) / 2 + 1;
  std::vector<float> expected;
  for (int64_t b = 0; b < 2; ++b) {
    std::vector<double> h1(d * T1 * F1);
    for (int64_t c = 0; c < d; ++c)
      for (int64_t t = 0; t < T1; ++t)
        for (int64_t f = 0; f < F1; ++f) {
          double s = b0[c];
          for (int64_t i = 0; i < 3; ++i)
            for (int64_t j = 0; j < 3; ++j) s += w0[c * 9 + i * 3 + j] * xv[(b * T + 2 * t + i) * F + 2 * f + j];
          h1[(c * T1 + t) * F1 + f] = std::max(s, 0.0);
        }
    for (int64_t t = 0; t < 2; ++t) {
      std::vector<double> h2(d);  // F' = 1: the flattened frame is the d channels
      for (int64_t c = 0; c < d; ++c) {
        double s = b2[c];
        for (int64_t ci = 0; ci < d; ++ci)
          for (int64_t i = 0; i < 3; ++i)
            for (int64_t j = 0; j < 3; ++j)
              s += w2[((c * d + ci) * 3 + i) * 3 + j] * h1[(ci * T1 + 2 * t + i) * F1 + j];
        h2[c] = std::max(s, 0.0);
      }
      for (int64_t o = 0; o < d; ++o) {
        double s = bo[o];
        for (int64_t c = 0; c < d; ++c) s += wo[o * d + c] * h2[c];
        expected.push_back(static_cast<float>(s));
      }
    }
  }
  testing::check_values(sub.forward(x), expected, 1e-4f);
}

BOOST_AUTO_TEST_CASE(chunk_mask_hand_example) {
  auto rows = [](const Tensor& m) {
    std::vector<int> out;
    for (int64_t i = 0; i < m.numel(); ++i) out.push_back(m.data_as<uint8_t>()[i]);
    return out;
  };
  // T 5, chunks of 2: {0,1} {2,3} {4}.
  std::vector<int> all = {1, 1, 0, 0, 0,  1, 1, 0, 0, 0,  1, 1, 1, 1, 0,  1, 1, 1, 1, 0,  1, 1, 1, 1, 1};
  std::vector<int> own = {1, 1, 0, 0, 0,  1, 1, 0, 0, 0,  0, 0, 1, 1, 0,  0, 0, 1, 1, 0,  0, 0, 0, 0, 1};
  std::vector<int> one = {1, 1, 0, 0, 0,  1, 1, 0, 0, 0,  1, 1, 1, 1, 0,  1, 1, 1, 1, 0,  0, 0, 1, 1, 1};
  BOOST_TEST(rows(nn::chunk_mask(5, 2, -1)) == all, boost::test_tools::per_element());
  BOOST_TEST(rows(nn::chunk_mask(5, 2, 0)) == own, boost::test_tools::per_element());
  BOOST_TEST(rows(nn::chunk_mask(5, 2, 1)) == one, boost::test_tools::per_element());
  check_error([] { nn::chunk_mask(5, 0, -1); }, "chunk_size");
}

BOOST_AUTO_TEST_CASE(chunk_mask_follows_wenet_semantics) {
  // WeNet: key j is visible from query i iff chunk(j) <= chunk(i) and, with left chunks
  // limited, chunk(j) >= chunk(i) - left_chunks.
  for (int64_t T : {1, 6, 11})
    for (int64_t c : {1, 3, 4, 16})
      for (int64_t left : {-1, 0, 1, 2}) {
        Tensor m = nn::chunk_mask(T, c, left);
        BOOST_REQUIRE(m.shape() == (Shape{T, T}));
        const uint8_t* p = m.data_as<uint8_t>();
        for (int64_t i = 0; i < T; ++i)
          for (int64_t j = 0; j < T; ++j) {
            const bool visible = j / c <= i / c && (left < 0 || j / c >= i / c - left);
            BOOST_CHECK_MESSAGE(p[i * T + j] == visible, "T " << T << " chunk " << c << " left "
                                                               << left << " (" << i << ", " << j << ")");
          }
      }
}

BOOST_AUTO_TEST_CASE(padding_and_attention_masks) {
  const std::vector<int64_t> lengths{5, 3};
  Tensor pad = nn::padding_mask(lengths, 5);
  BOOST_REQUIRE(pad.shape() == (Shape{2, 5, 1}));
  std::vector<int> expect_pad = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1};
  for (int i = 0; i < 10; ++i) BOOST_CHECK_EQUAL(pad.data_as<uint8_t>()[i], expect_pad[i]);
  BOOST_CHECK(!nn::padding_mask({5, 5}, 5).defined());
  BOOST_CHECK(!nn::attention_mask({5, 5}, 5, 0, -1).defined());

  Tensor full = nn::attention_mask(lengths, 5, 0, -1);
  BOOST_REQUIRE(full.shape() == (Shape{2, 1, 5}));
  for (int i = 0; i < 10; ++i) BOOST_CHECK_EQUAL(full.data_as<uint8_t>()[i], 1 - expect_pad[i]);

  Tensor chunked = nn::attention_mask(lengths, 5, 2, 0);
  BOOST_REQUIRE(chunked.shape() == (Shape{2, 5, 5}));
  Tensor chunks = nn::chunk_mask(5, 2, 0);
  const uint8_t *m = chunked.data_as<uint8_t>(), *c = chunks.data_as<uint8_t>();
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t i = 0; i < 5; ++i)
      for (int64_t j = 0; j < 5; ++j) {
        // Real queries: chunk and real key. Padded queries: their chunk (never an empty row).
        const bool expect = c[i * 5 + j] && (i >= lengths[b] || j < lengths[b]);
        BOOST_CHECK_EQUAL(m[(b * 5 + i) * 5 + j], expect);
      }
  check_error([&] { nn::attention_mask({6, 3}, 5, 0, -1); }, "length 6");
  check_error([&] { nn::attention_mask(lengths, 5, -1, -1); }, "chunk_size");
}
