#include "tensor.h"

#include <cstring>
#include <iomanip>
#include <ostream>

#include "allocator.h"
#include "autograd.h"
#include "copy.h"

namespace ag {

Storage::Storage(Device device, size_t bytes)
    : data_(allocate(device, bytes, &block_bytes_)), bytes_(bytes), device_(device) {}

Storage::~Storage() { deallocate(device_, data_, block_bytes_); }

int64_t numel_of(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

TensorImpl& Tensor::impl() const {
  AG_CHECK(impl_, "use of an undefined tensor");
  return *impl_;
}

int64_t wrap_dim(int64_t d, int64_t ndim, const char* op) {
  int64_t w = d < 0 ? d + ndim : d;
  AG_CHECK(w >= 0 && w < std::max<int64_t>(ndim, 1), op, ": dim ", d, " out of range for a ",
           ndim, "-d tensor");
  return w;
}

int64_t Tensor::size(int64_t d) const { return shape()[wrap_dim(d, dim(), "size")]; }

float* Tensor::data() const {
  AG_CHECK(dtype() == DType::f32, "data(): tensor is ", dtype_name(dtype()), ", not float32");
  return data_as<float>();
}

Tensor& Tensor::set_requires_grad(bool r) {
  AG_CHECK(is_leaf(), "set_requires_grad: only leaf tensors can be marked");
  AG_CHECK(!r || dtype() == DType::f32, "set_requires_grad: ", dtype_name(dtype()),
           " tensors cannot require grad");
  impl().requires_grad = r;
  return *this;
}

void Tensor::set_grad(const Tensor& g) {
  AG_CHECK(!g.defined() || g.shape() == shape(), "set_grad: gradient ", shape_str(g.shape()),
           " for tensor ", shape_str(shape()));
  impl().grad = g.impl_ptr();
}

Tensor Tensor::detach() const {
  auto d = std::make_shared<TensorImpl>();
  d->storage = impl().storage;
  d->shape = impl().shape;
  d->dtype = impl().dtype;
  return Tensor(d);
}

Tensor Tensor::to(Device d) const { return device() == d ? *this : to_device(*this, d); }

void Tensor::set_data(const Tensor& src) {
  AG_CHECK(is_leaf(), "set_data: only a leaf tensor can be rebound");
  AG_CHECK(src.shape() == shape() && src.dtype() == dtype(), "set_data: source ",
           shape_str(src.shape()), " ", dtype_name(src.dtype()), " for tensor ",
           shape_str(shape()), " ", dtype_name(dtype()));
  impl().storage = src.impl().storage;
  impl().grad.reset();
}

void Tensor::backward(const Tensor& grad, bool retain_graph) const {
  ag::backward(*this, grad, retain_graph);
}

void Tensor::register_grad_ready_hook(GradReadyHook hook) {
  AG_CHECK(is_leaf() && requires_grad(),
           "register_grad_ready_hook: only leaves that require grad have one");
  impl().hooks.push_back(std::move(hook));
}

namespace {
Tensor on_cpu(const Tensor& t) { return t.device() == Device::cpu ? t : to_device(t, Device::cpu); }

float element(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::f32: return t.data_as<float>()[i];
    case DType::i64: return static_cast<float>(t.data_as<int64_t>()[i]);
    case DType::u8: return t.data_as<uint8_t>()[i];
  }
  return 0;
}
}  // namespace

float Tensor::item() const {
  AG_CHECK(numel() == 1, "item: tensor of shape ", shape_str(shape()), " is not one element");
  return element(on_cpu(*this), 0);
}

float Tensor::at(std::initializer_list<int64_t> index) const {
  AG_CHECK(static_cast<int64_t>(index.size()) == dim(), "at: ", index.size(),
           " indices for shape ", shape_str(shape()));
  int64_t flat = 0, d = 0;
  for (int64_t i : index) {
    AG_CHECK(i >= 0 && i < shape()[d], "at: index ", i, " out of range for dim ", d,
             " of shape ", shape_str(shape()));
    flat = flat * shape()[d++] + i;
  }
  return element(on_cpu(*this), flat);
}

std::vector<float> Tensor::to_vector() const {
  Tensor c = on_cpu(*this);
  std::vector<float> v(numel());
  for (int64_t i = 0; i < numel(); ++i) v[i] = element(c, i);
  return v;
}

std::vector<int64_t> Tensor::to_int_vector() const {
  AG_CHECK(dtype() == DType::i64, "to_int_vector: tensor is ", dtype_name(dtype()));
  Tensor c = on_cpu(*this);
  return std::vector<int64_t>(c.data_as<int64_t>(), c.data_as<int64_t>() + numel());
}

Tensor empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t s : shape) AG_CHECK(s >= 0, "empty: negative size in shape ", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(device, numel_of(shape) * dtype_size(dtype));
  impl->shape = shape;
  impl->dtype = dtype;
  return Tensor(impl);
}

Tensor empty_like(const Tensor& t) { return empty(t.shape(), t.dtype(), t.device()); }

Tensor zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  fill_bytes_zero(t);
  return t;
}

Tensor full(const Shape& shape, float value, Device device) {
  Tensor t = empty(shape, DType::f32, device);
  fill(t, value);
  return t;
}

Tensor ones(const Shape& shape, Device device) { return full(shape, 1.0f, device); }

Tensor arange(int64_t n, DType dtype) {
  Tensor t = empty({n}, dtype);
  for (int64_t i = 0; i < n; ++i) {
    if (dtype == DType::f32) t.data_as<float>()[i] = static_cast<float>(i);
    else if (dtype == DType::i64) t.data_as<int64_t>()[i] = i;
    else AG_CHECK(false, "arange: dtype bool is not supported");
  }
  return t;
}

Tensor from_vector(const std::vector<float>& values, const Shape& shape) {
  AG_CHECK(static_cast<int64_t>(values.size()) == numel_of(shape), "from_vector: ",
           values.size(), " values for shape ", shape_str(shape));
  Tensor t = empty(shape);
  if (!values.empty()) std::memcpy(t.raw(), values.data(), values.size() * sizeof(float));
  return t;
}

Tensor from_int_vector(const std::vector<int64_t>& values, const Shape& shape) {
  AG_CHECK(static_cast<int64_t>(values.size()) == numel_of(shape), "from_int_vector: ",
           values.size(), " values for shape ", shape_str(shape));
  Tensor t = empty(shape, DType::i64);
  if (!values.empty()) std::memcpy(t.raw(), values.data(), values.size() * sizeof(int64_t));
  return t;
}

Tensor from_mask(const std::vector<bool>& values, const Shape& shape) {
  AG_CHECK(static_cast<int64_t>(values.size()) == numel_of(shape), "from_mask: ",
           values.size(), " values for shape ", shape_str(shape));
  Tensor t = empty(shape, DType::u8);
  for (size_t i = 0; i < values.size(); ++i) t.data_as<uint8_t>()[i] = values[i];
  return t;
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "Tensor(undefined)";
  os << "Tensor(" << shape_str(t.shape()) << ", " << dtype_name(t.dtype()) << ", "
     << device_name(t.device());
  if (t.requires_grad()) os << ", requires_grad";
  os << ")\n";
  std::vector<float> v = t.to_vector();
  const int64_t last = t.dim() ? t.shape().back() : 1;
  const size_t shown = std::min<size_t>(v.size(), 64);
  for (size_t i = 0; i < shown; ++i) {
    os << std::setw(11) << std::setprecision(5) << v[i];
    if ((i + 1) % last == 0 || i + 1 == shown) os << '\n';
  }
  if (shown < v.size()) os << "  ... (" << v.size() - shown << " more)\n";
  return os;
}

}  // namespace ag
