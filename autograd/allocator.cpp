#include "allocator.h"

#include <cstdlib>
#include <map>
#include <mutex>

#include "backends.h"
#include "error.h"

namespace ag {
namespace {

constexpr size_t kSlack = 2;

void* cpu_alloc(size_t bytes) { return std::aligned_alloc(64, bytes); }
void cpu_free(void* p) { std::free(p); }

struct Cache {
  std::mutex mu;
  SystemAllocator system{nullptr, nullptr};
  // Freed blocks by size. A request takes the smallest block of at least its size class
  // and at most kSlack times it, so batches of varying shapes still reuse memory.
  std::multimap<size_t, void*> free_blocks;
  AllocatorStats stats;

  ~Cache() {
    if (system.free) release_all();
  }

  void release_all() {
    for (auto& [size, p] : free_blocks) system.free(p);
    free_blocks.clear();
    stats.bytes_cached = 0;
  }
};

Cache& cache(Device d) {
  static Cache caches[kNumDevices];
  static std::once_flag once;
  std::call_once(once, [] { caches[0].system = {cpu_alloc, cpu_free}; });
  return caches[static_cast<int>(d)];
}

}  // namespace

size_t allocation_size(size_t bytes) {
  if (bytes <= 512) return (bytes + 63) / 64 * 64 + (bytes == 0 ? 64 : 0);
  // 8 classes per power of two: waste below 12.5%.
  size_t top = size_t{1} << (63 - __builtin_clzll(bytes));
  size_t step = top / 8;
  return (bytes + step - 1) / step * step;
}

void* allocate(Device d, size_t bytes, size_t* block_bytes) {
  if (d == Device::cuda) install_cuda_backend();  // before the first CUDA tensor exists
  Cache& c = cache(d);
  size_t size = allocation_size(bytes);
  std::lock_guard<std::mutex> lock(c.mu);
  AG_CHECK(c.system.alloc, "allocate: no allocator for device ", device_name(d),
           " (was the library built with that backend?)");
  void* p = nullptr;
  auto it = c.free_blocks.lower_bound(size);
  if (it != c.free_blocks.end() && it->first <= size * kSlack) {
    size = it->first;  // the block's own size: what deallocate gets back
    p = it->second;
    c.free_blocks.erase(it);
    c.stats.bytes_cached -= static_cast<int64_t>(size);
  } else {
    p = c.system.alloc(size);
    if (!p && c.stats.bytes_cached > 0) {  // give the cache back and try once more
      c.release_all();
      p = c.system.alloc(size);
    }
    AG_CHECK(p, "allocate: out of memory on ", device_name(d), " asking for ", size, " bytes (",
             c.stats.bytes_in_use, " bytes in use)");
    ++c.stats.system_allocs;
  }
  c.stats.bytes_in_use += static_cast<int64_t>(size);
  if (c.stats.bytes_in_use > c.stats.peak_bytes_in_use)
    c.stats.peak_bytes_in_use = c.stats.bytes_in_use;
  *block_bytes = size;
  return p;
}

void deallocate(Device d, void* ptr, size_t size) {
  Cache& c = cache(d);
  std::lock_guard<std::mutex> lock(c.mu);
  c.free_blocks.emplace(size, ptr);
  c.stats.bytes_in_use -= static_cast<int64_t>(size);
  c.stats.bytes_cached += static_cast<int64_t>(size);
}

AllocatorStats allocator_stats(Device d) {
  Cache& c = cache(d);
  std::lock_guard<std::mutex> lock(c.mu);
  return c.stats;
}

void reset_peak_memory(Device d) {
  Cache& c = cache(d);
  std::lock_guard<std::mutex> lock(c.mu);
  c.stats.peak_bytes_in_use = c.stats.bytes_in_use;
}

void empty_cache(Device d) {
  Cache& c = cache(d);
  std::lock_guard<std::mutex> lock(c.mu);
  c.release_all();
}

void set_system_allocator(Device d, SystemAllocator a) {
  Cache& c = cache(d);
  std::lock_guard<std::mutex> lock(c.mu);
  c.release_all();
  c.system = a;
}

}  // namespace ag
