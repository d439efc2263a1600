// CPU CTC: per utterance (parallel over the batch), alpha and beta recursions over the
// blank-extended label sequence l' = (blank, l1, blank, l2, ..., blank) of length S = 2L+1.
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "../kernels/ctc.h"
#include "parallel.h"

namespace ag::cpu {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

inline float log_add(float a, float b) {
  if (a == kNegInf) return b;
  if (b == kNegInf) return a;
  return a > b ? a + std::log1p(std::exp(b - a)) : b + std::log1p(std::exp(a - b));
}

// Frames needed: one per label plus one between each repeated pair.
int64_t min_frames(const int64_t* labels, int64_t L) {
  int64_t need = L;
  for (int64_t i = 1; i < L; ++i) need += labels[i] == labels[i - 1];
  return need;
}

// log_softmax of one frame's logits into out[V].
void log_softmax_row(const float* x, float* out, int64_t V) {
  float m = x[0];
  for (int64_t k = 1; k < V; ++k) m = std::max(m, x[k]);
  double s = 0;
  for (int64_t k = 0; k < V; ++k) s += std::exp(static_cast<double>(x[k] - m));
  float lse = m + static_cast<float>(std::log(s));
  for (int64_t k = 0; k < V; ++k) out[k] = x[k] - lse;
}

// One utterance: logits [T, V] (only the first Tn frames are read).
float ctc_one(const float* logits, int64_t Tn, int64_t T, int64_t V, const int64_t* labels,
              int64_t L, float* grad) {
  const int64_t S = 2 * L + 1;
  std::vector<float> lp(Tn * V), alpha(Tn * S, kNegInf), beta(Tn * S, kNegInf);
  for (int64_t t = 0; t < Tn; ++t) log_softmax_row(logits + t * V, lp.data() + t * V, V);
  auto label = [&](int64_t s) { return s % 2 == 0 ? int64_t{0} : labels[s / 2]; };
  // May s be reached from s-2 (skipping a blank)? Only between different labels.
  auto can_skip = [&](int64_t s) { return s >= 2 && s % 2 == 1 && label(s) != label(s - 2); };

  alpha[0] = lp[0];
  if (S > 1) alpha[1] = lp[label(1)];
  for (int64_t t = 1; t < Tn; ++t) {
    const float* prev = alpha.data() + (t - 1) * S;
    float* cur = alpha.data() + t * S;
    for (int64_t s = 0; s < S; ++s) {
      float a = prev[s];
      if (s >= 1) a = log_add(a, prev[s - 1]);
      if (can_skip(s)) a = log_add(a, prev[s - 2]);
      cur[s] = a == kNegInf ? kNegInf : a + lp[t * V + label(s)];
    }
  }
  const float* last = alpha.data() + (Tn - 1) * S;
  float log_p = S > 1 ? log_add(last[S - 1], last[S - 2]) : last[S - 1];

  if (grad) {
    beta[(Tn - 1) * S + S - 1] = lp[(Tn - 1) * V + label(S - 1)];
    if (S > 1) beta[(Tn - 1) * S + S - 2] = lp[(Tn - 1) * V + label(S - 2)];
    for (int64_t t = Tn - 2; t >= 0; --t) {
      const float* next = beta.data() + (t + 1) * S;
      float* cur = beta.data() + t * S;
      for (int64_t s = 0; s < S; ++s) {
        float b = next[s];
        if (s + 1 < S) b = log_add(b, next[s + 1]);
        if (s + 2 < S && can_skip(s + 2)) b = log_add(b, next[s + 2]);
        cur[s] = b == kNegInf ? kNegInf : b + lp[t * V + label(s)];
      }
    }
    // alpha_t(s) beta_t(s) counts frame t's emission twice: posterior of symbol k at t is
    // sum_{s: l'_s = k} exp(alpha + beta - lp[t, k] - log_p).
    std::vector<float> post(V);
    for (int64_t t = 0; t < Tn; ++t) {
      std::fill(post.begin(), post.end(), kNegInf);
      for (int64_t s = 0; s < S; ++s) {
        float ab = alpha[t * S + s] + beta[t * S + s];
        if (ab != kNegInf) post[label(s)] = log_add(post[label(s)], ab);
      }
      float* g = grad + t * V;
      for (int64_t k = 0; k < V; ++k) {
        float p = std::exp(lp[t * V + k]);
        float q = post[k] == kNegInf ? 0.0f : std::exp(post[k] - lp[t * V + k] - log_p);
        g[k] = p - q;
      }
    }
    std::memset(grad + Tn * V, 0, sizeof(float) * (T - Tn) * V);
  }
  return -log_p;
}

void ctc(const float* logits, const int64_t* input_lengths, const int64_t* targets,
         const int64_t* target_lengths, int64_t B, int64_t T, int64_t V, int64_t L_max, float* nll,
         uint8_t* feasible, float* grad) {
  parallel_for(B, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t Tn = input_lengths[b], L = target_lengths[b];
      const int64_t* labels = targets + b * L_max;
      float* g = grad ? grad + b * T * V : nullptr;
      bool ok = Tn > 0 && Tn >= min_frames(labels, L);
      feasible[b] = ok;
      if (!ok) {
        nll[b] = 0;
        if (g) std::memset(g, 0, sizeof(float) * T * V);
        continue;
      }
      nll[b] = ctc_one(logits + b * T * V, Tn, T, V, labels, L, g);
    }
  });
}

}  // namespace
}  // namespace ag::cpu

namespace ag::kernels {
KernelTable<CtcFn> ctc{"ctc", {&cpu::ctc, nullptr}};
}  // namespace ag::kernels
