// Device queries, the per-device stream and the TF32 switch.
#include <array>
#include <atomic>
#include <mutex>

#include "../cuda.h"
#include "check.h"
#include "stream.h"

namespace ag::cuda {
namespace {

constexpr int kMaxDevices = 64;

std::atomic<bool> tf32{false};

struct Streams {
  std::mutex mu;
  std::array<cudaStream_t, kMaxDevices> of{};  // null until created
};

Streams& streams() {
  static Streams s;  // never destroyed streams: the driver reclaims them at exit
  return s;
}

}  // namespace

int device_count() {
  static const int count = [] {
    int n = 0;
    // No driver or no GPU is an answer here, not an error.
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      (void)cudaGetLastError();  // clear it, so the next checked call does not see it
      return 0;
    }
    return n;
  }();
  return count;
}

bool built() { return true; }

bool available() { return device_count() > 0; }

void set_device(int index) {
  const int n = device_count();
  AG_CHECK(index >= 0 && index < n, "cuda: device ", index, " requested, ", n,
           " CUDA device(s) answer");
  AG_CUDA_CHECK(cudaSetDevice(index));
}

int current_device() {
  int d = 0;
  AG_CUDA_CHECK(cudaGetDevice(&d));
  AG_CHECK(d < kMaxDevices, "cuda: device ", d, " is past the ", kMaxDevices, " supported");
  return d;
}

cudaStream_t stream() {
  const int d = current_device();
  Streams& s = streams();
  std::lock_guard<std::mutex> lock(s.mu);
  if (!s.of[d]) AG_CUDA_CHECK(cudaStreamCreateWithFlags(&s.of[d], cudaStreamDefault));
  return s.of[d];
}

void synchronize() { AG_CUDA_CHECK(cudaStreamSynchronize(stream())); }

void* stream_handle() { return stream(); }

void set_allow_tf32(bool allow) { tf32 = allow; }
bool allow_tf32() { return tf32; }

}  // namespace ag::cuda
