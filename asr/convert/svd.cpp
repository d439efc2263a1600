#include "asr/convert/svd.h"

#include <lapacke.h>

#include <algorithm>
#include <cmath>

#include "autograd/error.h"

namespace asr {

Matrix identity(int64_t n) {
  Matrix m(n, n);
  for (int64_t i = 0; i < n; ++i) m(i, i) = 1;
  return m;
}

Matrix matmul(const Matrix& a, const Matrix& b) {
  AG_CHECK(a.cols == b.rows, "matmul: [", a.rows, ",", a.cols, "] and [", b.rows, ",", b.cols,
           "] do not align");
  Matrix c(a.rows, b.cols);
  for (int64_t i = 0; i < a.rows; ++i)
    for (int64_t k = 0; k < a.cols; ++k) {
      const double aik = a(i, k);
      if (aik == 0) continue;
      for (int64_t j = 0; j < b.cols; ++j) c(i, j) += aik * b(k, j);
    }
  return c;
}

Matrix transpose(const Matrix& a) {
  Matrix t(a.cols, a.rows);
  for (int64_t i = 0; i < a.rows; ++i)
    for (int64_t j = 0; j < a.cols; ++j) t(j, i) = a(i, j);
  return t;
}

Matrix row_block(const Matrix& a, int64_t begin, int64_t end) {
  AG_CHECK(0 <= begin && begin <= end && end <= a.rows, "row_block: rows [", begin, ", ", end,
           ") of a matrix with ", a.rows);
  Matrix b(end - begin, a.cols);
  std::copy(a.data.begin() + begin * a.cols, a.data.begin() + end * a.cols, b.data.begin());
  return b;
}

Matrix stack_rows(const Matrix& a, const Matrix& b) {
  AG_CHECK(a.cols == b.cols, "stack_rows: ", a.cols, " and ", b.cols, " columns");
  Matrix c(a.rows + b.rows, a.cols);
  std::copy(a.data.begin(), a.data.end(), c.data.begin());
  std::copy(b.data.begin(), b.data.end(), c.data.begin() + a.rows * a.cols);
  return c;
}

Matrix subtract(const Matrix& a, const Matrix& b) {
  AG_CHECK(a.rows == b.rows && a.cols == b.cols, "subtract: [", a.rows, ",", a.cols, "] and [",
           b.rows, ",", b.cols, "]");
  Matrix c = a;
  for (size_t i = 0; i < c.data.size(); ++i) c.data[i] -= b.data[i];
  return c;
}

Matrix block_diagonal(const Matrix& a, const Matrix& b) {
  Matrix m(a.rows + b.rows, a.cols + b.cols);
  for (int64_t i = 0; i < a.rows; ++i)
    for (int64_t j = 0; j < a.cols; ++j) m(i, j) = a(i, j);
  for (int64_t i = 0; i < b.rows; ++i)
    for (int64_t j = 0; j < b.cols; ++j) m(a.rows + i, a.cols + j) = b(i, j);
  return m;
}

double frobenius_norm(const Matrix& a) {
  double sum = 0;
  for (double v : a.data) sum += v * v;
  return std::sqrt(sum);
}

Matrix to_matrix(const ag::Tensor& t) {
  AG_CHECK(t.dim() == 2 && t.dtype() == ag::DType::f32 && t.device() == ag::Device::cpu,
           "to_matrix: expected a 2-D float32 CPU tensor, got ", ag::shape_str(t.shape()));
  Matrix m(t.size(0), t.size(1));
  const float* p = t.data();
  std::copy(p, p + t.numel(), m.data.begin());
  return m;
}

ag::Tensor to_tensor(const Matrix& m) {
  ag::Tensor t = ag::empty({m.rows, m.cols});
  std::transform(m.data.begin(), m.data.end(), t.data(),
                 [](double v) { return static_cast<float>(v); });
  return t;
}

Svd svd(const Matrix& a) {
  AG_CHECK(a.rows > 0 && a.cols > 0, "svd: empty matrix [", a.rows, ",", a.cols, "]");
  const int64_t m = a.rows, n = a.cols, k = std::min(m, n);
  Matrix work = a;  // dgesdd overwrites its input
  Svd r{Matrix(m, k), std::vector<double>(static_cast<size_t>(k)), Matrix(k, n)};
  lapack_int info =
      LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', static_cast<lapack_int>(m), static_cast<lapack_int>(n),
                     work.data.data(), static_cast<lapack_int>(n), r.s.data(), r.u.data.data(),
                     static_cast<lapack_int>(k), r.vt.data.data(), static_cast<lapack_int>(n));
  AG_CHECK(info == 0, "svd: LAPACKE_dgesdd of a [", m, ",", n, "] matrix failed with info ", info);
  return r;
}

Matrix cholesky(const Matrix& g) {
  AG_CHECK(g.rows == g.cols, "cholesky: matrix [", g.rows, ",", g.cols, "] is not square");
  Matrix l = g;
  const auto n = static_cast<lapack_int>(g.rows);
  lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', n, l.data.data(), n);
  AG_CHECK(info >= 0, "cholesky: LAPACKE_dpotrf argument ", -info, " is invalid");
  AG_CHECK(info == 0, "cholesky: the [", g.rows, ",", g.cols,
           "] matrix is not positive definite (leading minor ", info, ")");
  for (int64_t i = 0; i < l.rows; ++i)
    for (int64_t j = i + 1; j < l.cols; ++j) l(i, j) = 0;  // dpotrf leaves the upper part
  return l;
}

Matrix lower_inverse(const Matrix& l) {
  AG_CHECK(l.rows == l.cols, "lower_inverse: matrix [", l.rows, ",", l.cols, "] is not square");
  Matrix inv = l;
  const auto n = static_cast<lapack_int>(l.rows);
  lapack_int info = LAPACKE_dtrtri(LAPACK_ROW_MAJOR, 'L', 'N', n, inv.data.data(), n);
  AG_CHECK(info >= 0, "lower_inverse: LAPACKE_dtrtri argument ", -info, " is invalid");
  AG_CHECK(info == 0, "lower_inverse: the matrix is singular (zero diagonal at ", info, ")");
  return inv;
}

}  // namespace asr
