#include "data_parallel.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>

#include "autograd/copy.h"
#include "autograd/error.h"
#include "autograd/kernels/copy.h"

namespace dist {

namespace {

using Clock = std::chrono::steady_clock;
constexpr double kFirstBucketMb = 1;

double seconds_of(Clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

struct Slot {  // one parameter's place in a bucket
  ag::Tensor param;
  size_t bucket, offset;
  bool filled = false;  // this sync's gradient copied in
};

struct Bucket {
  ag::Tensor flat;              // [sum of member numels] on the communicator's device
  size_t numel = 0;
  std::vector<size_t> members;  // slot indices
  size_t pending = 0;           // members not filled yet this sync
  std::unique_ptr<Request> request;
};

float* at(const Bucket& b, size_t offset) { return b.flat.data() + offset; }

// Copies the parameter's gradient (zeros when it has none) into its bucket.
void fill(Slot& s, Bucket& b) {
  float* dst = at(b, s.offset);
  const size_t bytes = static_cast<size_t>(s.param.numel()) * sizeof(float);
  ag::Tensor g = s.param.grad();
  if (g.defined())
    ag::copy_bytes(dst, b.flat.device(), g.data(), g.device(), bytes);
  else
    ag::kernels::memset_zero[b.flat.device()](dst, bytes);
  s.filled = true;
  --b.pending;
}

// Runs an in-place collective on t's data where the communicator's buffers live: on t itself,
// or on a copy there that is then copied back.
void on_buffer_device(const ag::Tensor& t, ag::Device where,
                      const std::function<void(const ag::Tensor&)>& collective) {
  if (t.device() == where) {
    collective(t);
    return;
  }
  ag::Tensor staged = ag::to_device(t, where);
  collective(staged);
  ag::copy_(t, staged);
}

// v all-reduced over the ranks; through an 8-byte buffer on the communicator's device when
// its buffers are not host memory (NCCL).
double all_reduce_value(Communicator& comm, double v, ReduceOp op) {
  if (comm.buffer_device() == ag::Device::cpu) {
    comm.all_reduce(&v, 1, op);
    return v;
  }
  ag::Tensor host = ag::empty({static_cast<int64_t>(sizeof v)}, ag::DType::u8);
  std::memcpy(host.raw(), &v, sizeof v);
  ag::Tensor dev = ag::to_device(host, comm.buffer_device());
  comm.all_reduce(static_cast<double*>(dev.raw()), 1, op);
  std::memcpy(&v, ag::to_device(dev, ag::Device::cpu).raw(), sizeof v);
  return v;
}

}  // namespace

struct DataParallel::State {
  Communicator& comm;
  ReduceOp op;
  std::vector<Slot> slots;
  std::vector<Bucket> buckets;
  size_t next_launch = 0;  // buckets start in index order
  bool sync = false;

  void launch_ready() {
    while (next_launch < buckets.size() && buckets[next_launch].pending == 0) {
      Bucket& b = buckets[next_launch++];
      b.request = comm.all_reduce_async(b.flat.data(), b.numel, op);
    }
    for (size_t i = 0; i < next_launch; ++i) buckets[i].request->test();  // MPI progress
  }

  void on_grad_ready(size_t slot) {
    if (!sync) return;
    Slot& s = slots[slot];
    if (s.filled) return;
    fill(s, buckets[s.bucket]);
    launch_ready();
  }

  void reset() {
    for (Slot& s : slots) s.filled = false;
    for (Bucket& b : buckets) {
      b.pending = b.members.size();
      b.request.reset();
    }
    next_launch = 0;
  }
};

DataParallel::DataParallel(Communicator& comm, const nn::NamedTensors& params, double bucket_mb,
                           ReduceOp op)
    : state_(std::make_shared<State>(State{comm, op, {}, {}, 0, false})), comm_(comm) {
  AG_CHECK(bucket_mb > 0, "DataParallel: bucket size ", bucket_mb, " MB must be positive");
  const size_t cap = static_cast<size_t>(bucket_mb * 1e6 / sizeof(float));
  // The first bucket holds at most 1 MB, so that communication starts early in backward
  // even when the whole model fits one bucket (PyTorch DDP does the same).
  const size_t first_cap = std::min(cap, static_cast<size_t>(kFirstBucketMb * 1e6 / sizeof(float)));
  State& st = *state_;
  // Backward meets the last-registered parameters first.
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    const ag::Tensor& p = it->second;
    AG_CHECK(p.dtype() == ag::DType::f32, "DataParallel: parameter ", it->first, " is not float32");
    const size_t n = static_cast<size_t>(p.numel());
    const size_t limit = st.buckets.size() == 1 ? first_cap : cap;
    const bool full = !st.buckets.empty() && st.buckets.back().numel > 0 &&
                      st.buckets.back().numel + n > limit;
    if (st.buckets.empty() || full) st.buckets.emplace_back();
    Bucket& b = st.buckets.back();
    st.slots.push_back(Slot{p, st.buckets.size() - 1, b.numel});
    b.members.push_back(st.slots.size() - 1);
    b.numel += n;
  }
  for (Bucket& b : st.buckets)
    b.flat = ag::zeros({static_cast<int64_t>(b.numel)}, ag::DType::f32, comm.buffer_device());
  st.reset();
  std::weak_ptr<State> weak = state_;
  for (size_t i = 0; i < st.slots.size(); ++i) {
    st.slots[i].param.register_grad_ready_hook([weak, i](const ag::Tensor&) {
      if (auto s = weak.lock()) s->on_grad_ready(i);
    });
    stats_.bytes += static_cast<int64_t>(st.slots[i].param.numel() * sizeof(float));
  }
  stats_.buckets = st.buckets.size();
}

DataParallel::~DataParallel() = default;

size_t DataParallel::num_buckets() const { return state_->buckets.size(); }

void DataParallel::broadcast_from_root(const nn::Module& model) {
  for (const auto& [name, t] : model.state_dict())
    on_buffer_device(t, comm_.buffer_device(), [&](const ag::Tensor& b) {
      comm_.broadcast(b.raw(), static_cast<size_t>(b.numel()) * ag::dtype_size(b.dtype()), 0);
    });
}

void DataParallel::average_buffers(const nn::Module& model) {
  for (const auto& [name, t] : model.named_buffers())
    if (t.dtype() == ag::DType::f32)
      on_buffer_device(t, comm_.buffer_device(), [&](const ag::Tensor& b) {
        comm_.all_reduce(b.data(), static_cast<size_t>(b.numel()), ReduceOp::average);
      });
}

void DataParallel::set_sync(bool sync) { state_->sync = sync; }

void DataParallel::finish() {
  State& st = *state_;
  auto t0 = Clock::now();
  for (Slot& s : st.slots)
    if (!s.filled) fill(s, st.buckets[s.bucket]);
  st.launch_ready();
  for (Bucket& b : st.buckets) b.request->wait();
  auto t1 = Clock::now();
  stats_.wait_seconds += std::chrono::duration<double>(t1 - t0).count();
  if (measure_exposed_) {
    // When the slowest rank finished its backward.
    const double last_entry = all_reduce_value(comm_, seconds_of(t0), ReduceOp::max);
    stats_.exposed_seconds += std::max(0.0, seconds_of(t1) - last_entry);
  }
  ++stats_.syncs;
  for (Slot& s : st.slots) {
    const Bucket& b = st.buckets[s.bucket];
    ag::Tensor g = ag::empty(s.param.shape(), ag::DType::f32, s.param.device());
    ag::copy_bytes(g.data(), g.device(), at(b, s.offset), b.flat.device(),
               static_cast<size_t>(g.numel()) * sizeof(float));
    s.param.set_grad(g);
  }
  st.reset();
  st.sync = false;
}

double DataParallel::time_blocking_all_reduce(int repeats) {
  std::vector<ag::Tensor> copies;
  for (const Bucket& b : state_->buckets) copies.push_back(ag::clone_data(b.flat));
  double fastest = 0;
  for (int r = 0; r < repeats; ++r) {
    comm_.barrier();
    auto t0 = Clock::now();
    for (auto& c : copies) comm_.all_reduce(c.data(), static_cast<size_t>(c.numel()), ReduceOp::sum);
    double t = std::chrono::duration<double>(Clock::now() - t0).count();
    fastest = r == 0 ? t : std::min(fastest, t);
  }
  return all_reduce_value(comm_, fastest, ReduceOp::max);  // every rank reports the same
}

}  // namespace dist
