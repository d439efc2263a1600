#include "shape.h"

#include "../autograd.h"

namespace ag {

Tensor reshape(const Tensor& x, const Shape& shape) {
  Shape s = shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      AG_CHECK(infer < 0, "reshape: more than one -1 in ", shape_str(shape));
      infer = static_cast<int64_t>(i);
    } else {
      AG_CHECK(s[i] >= 0, "reshape: invalid size in ", shape_str(shape));
      known *= s[i];
    }
  }
  if (infer >= 0) {
    AG_CHECK(known > 0 && x.numel() % known == 0, "reshape: ", shape_str(x.shape()),
             " cannot be viewed as ", shape_str(shape));
    s[infer] = x.numel() / known;
  }
  AG_CHECK(numel_of(s) == x.numel(), "reshape: ", shape_str(x.shape()), " (", x.numel(),
           " elements) cannot be viewed as ", shape_str(shape));
  if (s == x.shape()) return x;
  Tensor y = x.detach();
  y.impl().shape = s;
  return attach(y, "reshape", {x}, [xs = x.shape()](const Tensor& g, const Needs&) {
    return std::vector<Tensor>{reshape(g, xs)};
  });
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  if (x.dim() == 0) return reshape(x, {1});
  int64_t a = wrap_dim(start_dim, x.dim(), "flatten"), b = wrap_dim(end_dim, x.dim(), "flatten");
  AG_CHECK(a <= b, "flatten: start_dim ", start_dim, " after end_dim ", end_dim);
  Shape s(x.shape().begin(), x.shape().begin() + a);
  int64_t n = 1;
  for (int64_t d = a; d <= b; ++d) n *= x.shape()[d];
  s.push_back(n);
  s.insert(s.end(), x.shape().begin() + b + 1, x.shape().end());
  return reshape(x, s);
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  int64_t d = wrap_dim(dim, x.dim() + 1, "unsqueeze");
  Shape s = x.shape();
  s.insert(s.begin() + d, 1);
  return reshape(x, s);
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  int64_t d = wrap_dim(dim, x.dim(), "squeeze");
  AG_CHECK(x.shape()[d] == 1, "squeeze: dim ", dim, " of ", shape_str(x.shape()),
           " has size ", x.shape()[d], ", not 1");
  Shape s = x.shape();
  s.erase(s.begin() + d);
  return reshape(x, s);
}

}  // namespace ag
