// Dense linear algebra in double for the MHA -> MLA conversion: a row-major matrix, the thin
// SVD (LAPACKE dgesdd), the Cholesky factor (dpotrf) and its inverse (dtrtri), and the few
// products the factorizations need. Sizes here are a few hundred, so products are plain loops.
#pragma once
#include <cstdint>
#include <vector>

#include "autograd/tensor.h"

namespace asr {

struct Matrix {
  int64_t rows = 0, cols = 0;
  std::vector<double> data;  // [rows, cols] row-major

  Matrix() = default;
  Matrix(int64_t r, int64_t c) : rows(r), cols(c), data(static_cast<size_t>(r * c), 0.0) {}
  double& operator()(int64_t r, int64_t c) { return data[static_cast<size_t>(r * cols + c)]; }
  double operator()(int64_t r, int64_t c) const { return data[static_cast<size_t>(r * cols + c)]; }
};

Matrix identity(int64_t n);
// a [m, k] b [k, n] -> [m, n]
Matrix matmul(const Matrix& a, const Matrix& b);
Matrix transpose(const Matrix& a);
// Rows [begin, end) of a.
Matrix row_block(const Matrix& a, int64_t begin, int64_t end);
// a over b: [m1 + m2, n]
Matrix stack_rows(const Matrix& a, const Matrix& b);
Matrix subtract(const Matrix& a, const Matrix& b);
// diag(a, b) [a.rows + b.rows, a.cols + b.cols]
Matrix block_diagonal(const Matrix& a, const Matrix& b);
double frobenius_norm(const Matrix& a);

// 2-D float32 CPU tensor <-> matrix.
Matrix to_matrix(const ag::Tensor& t);
ag::Tensor to_tensor(const Matrix& m);

// a [m, n] = u diag(s) vt with u [m, k], s [k] descending, vt [k, n], k = min(m, n).
struct Svd {
  Matrix u;
  std::vector<double> s;
  Matrix vt;
};
// Throws ag::Error when LAPACKE_dgesdd fails (an info code) or a is empty.
Svd svd(const Matrix& a);

// Lower-triangular l with g = l l^T, for a symmetric positive definite g (LAPACKE_dpotrf).
// Throws ag::Error naming the failing leading minor otherwise.
Matrix cholesky(const Matrix& g);
// The inverse of a lower-triangular, non-singular l (LAPACKE_dtrtri).
Matrix lower_inverse(const Matrix& l);

}  // namespace asr
