// Position-wise feed-forward (ESPnet PositionwiseFeedForward with Swish):
// w_2(dropout(silu(w_1(x)))).
#pragma once
#include <memory>

#include "linear.h"

namespace nn {

class FeedForward : public Module {
 public:
  FeedForward(int64_t d_model, int64_t hidden, float dropout);
  // x [..., d_model] -> [..., d_model]
  Tensor forward(const Tensor& x) const;

  std::shared_ptr<Linear> w_1;  // d_model -> hidden
  std::shared_ptr<Linear> w_2;  // hidden -> d_model
  float dropout;
};

}  // namespace nn
