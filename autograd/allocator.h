// Caching allocator: freed blocks go to per-size free lists and are reused, so a
// steady-state training step takes no new memory from the system. One per device.
#pragma once
#include <cstddef>
#include <cstdint>

#include "device.h"

namespace ag {

struct AllocatorStats {
  int64_t system_allocs = 0;      // blocks ever taken from the system
  int64_t bytes_in_use = 0;       // held by live tensors (rounded sizes)
  int64_t peak_bytes_in_use = 0;  // high-water mark since the last reset_peak
  int64_t bytes_cached = 0;       // freed, kept for reuse
};

// The system allocator behind a device's cache (malloc for CPU, cudaMalloc for CUDA).
struct SystemAllocator {
  void* (*alloc)(size_t bytes);  // returns nullptr on failure
  void (*free)(void* ptr);
};

// Rounds a request up to its size class: at most 1/8 waste, 64-byte multiples.
size_t allocation_size(size_t bytes);

// Returns a block of at least `bytes` (64-byte aligned) and its size in *block_bytes (a
// cached block may be up to twice the size class); throws ag::Error when out of memory.
void* allocate(Device d, size_t bytes, size_t* block_bytes);
// Returns a block to the cache; block_bytes as allocate reported it.
void deallocate(Device d, void* ptr, size_t block_bytes);

AllocatorStats allocator_stats(Device d);
void reset_peak_memory(Device d);
// Gives every cached block back to the system.
void empty_cache(Device d);
// Installs the system allocator of a device (the CUDA backend registers its own).
void set_system_allocator(Device d, SystemAllocator a);

}  // namespace ag
