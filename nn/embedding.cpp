#include "embedding.h"

#include "autograd/ops.h"

namespace nn {

Embedding::Embedding(int64_t num_embeddings, int64_t dim) {
  AG_CHECK(num_embeddings > 0 && dim > 0, "embedding: ", num_embeddings, " x ", dim,
           " must both be positive");
  weight = register_parameter("weight", ag::normal({num_embeddings, dim}));
}

Tensor Embedding::forward(const Tensor& ids) const {
  // index_select checks the ids' dtype and range.
  ag::Shape out = ids.shape();
  out.push_back(weight.size(1));
  return ag::reshape(ag::index_select(weight, 0, ag::flatten(ids)), out);  // [..., dim]
}

}  // namespace nn
