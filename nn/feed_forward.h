// Position-wise feed-forward (ESPnet PositionwiseFeedForward): w_2(dropout(act(w_1(x)))),
// with Swish in the encoders' blocks and ReLU (ESPnet's default) in the Transformer decoder.
#pragma once
#include <memory>

#include "linear.h"

namespace nn {

class FeedForward : public Module {
 public:
  FeedForward(int64_t d_model, int64_t hidden, float dropout,
              ag::Activation activation = ag::Activation::silu);
  // x [..., d_model] -> [..., d_model]
  Tensor forward(const Tensor& x) const;

  std::shared_ptr<Linear> w_1;  // d_model -> hidden
  std::shared_ptr<Linear> w_2;  // hidden -> d_model
  float dropout;
  ag::Activation activation;
};

}  // namespace nn
