#include "feed_forward.h"

#include "autograd/ops.h"

namespace nn {

FeedForward::FeedForward(int64_t d_model, int64_t hidden, float dropout, ag::Activation activation)
    : dropout(dropout), activation(activation) {
  w_1 = register_module("w_1", std::make_shared<Linear>(d_model, hidden));
  w_2 = register_module("w_2", std::make_shared<Linear>(hidden, d_model));
}

Tensor FeedForward::forward(const Tensor& x) const {
  Tensor h = w_1->forward(x, activation);  // [..., hidden]
  return w_2->forward(ag::dropout(h, dropout, is_training()));
}

}  // namespace nn
