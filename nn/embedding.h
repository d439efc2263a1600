// Token embedding (torch.nn.Embedding): a learned vector per token id.
#pragma once
#include "module.h"

namespace nn {

class Embedding : public Module {
 public:
  // weight [num_embeddings, dim], N(0, 1) as PyTorch initializes it
  Embedding(int64_t num_embeddings, int64_t dim);
  // ids [...] int64 in [0, num_embeddings) -> [..., dim]
  Tensor forward(const Tensor& ids) const;

  Tensor weight;  // [num_embeddings, dim]
};

}  // namespace nn
