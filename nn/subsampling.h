// ESPnet Conv2dSubsampling (4x in time and frequency):
//   conv.0 Conv2d(1, d, 3, stride 2) + ReLU, conv.2 Conv2d(d, d, 3, stride 2) + ReLU,
//   out.0 Linear(d * F', d) on the [B, T', d, F'] maps flattened per frame.
// Sizes: T' = ((T - 1)/2 - 1)/2, F' = ((input_dim - 1)/2 - 1)/2 (integer division); an
// output frame only sees input frames of its own utterance, so padding cannot leak.
#pragma once
#include <memory>
#include <vector>

#include "conv.h"
#include "linear.h"

namespace nn {

class Conv2dSubsampling : public Module {
 public:
  static constexpr int64_t kMinFrames = 7;  // the fewest input frames giving one output frame

  Conv2dSubsampling(int64_t input_dim, int64_t d_model);
  // x [B, T, input_dim] -> [B, T', d]; T >= kMinFrames.
  Tensor forward(const Tensor& x) const;
  // Frames out for `frames` in (0 for fewer than kMinFrames).
  static int64_t output_length(int64_t frames) { return frames < kMinFrames ? 0 : ((frames - 1) / 2 - 1) / 2; }

  struct Convs : Module {  // PyTorch's Sequential(Conv2d, ReLU, Conv2d, ReLU): `conv.0`, `conv.2`
    Convs(int64_t d_model);
    std::shared_ptr<Conv2d> conv0, conv2;
  };
  std::shared_ptr<Convs> conv;
  std::shared_ptr<ModuleList<Linear>> out;  // `out.0`: d * F' -> d (ESPnet's out.1 is the positional encoding)
  int64_t input_dim;
};

}  // namespace nn
