// FrameBuffer: the held frames equal the appended ones (trimmed to a window), appending
// leaves the storage in place while it has room, and a stream of N frames copies O(N) of
// them in all (concatenating the whole history each chunk copied O(N^2)).
#include <boost/test/unit_test.hpp>

#include "autograd/ops.h"
#include "common/gradcheck.h"
#include "nn/frame_buffer.h"

using namespace ag;
using testing::check_error;
using testing::max_abs_diff;

namespace {
const int64_t kFloats = 2 * 3;  // floats per frame of a [2, S, 3] buffer
}  // namespace

BOOST_AUTO_TEST_CASE(held_frames_are_the_last_appended_ones) {
  manual_seed(60);
  for (int64_t window : {-1, 0, 5, 9}) {
    BOOST_TEST_CONTEXT("max_frames " << window) {
      nn::FrameBuffer buf;
      BOOST_CHECK(!buf.to_tensor().defined());
      Tensor all;
      for (int64_t step = 0; step < 12; ++step) {
        Tensor next = normal({2, 1 + step % 3, 3});  // [2, T, 3], T = 1, 2, 3, ...
        all = all.defined() ? concat({all, next}, 1) : next;
        buf.append(next);
        const int64_t n = all.size(1);
        const int64_t kept = window < 0 ? n : std::min(n, window + next.size(1));
        BOOST_REQUIRE_EQUAL(buf.frames(), kept);  // the chunk is held before trimming
        BOOST_CHECK_EQUAL(max_abs_diff(buf.to_tensor(), narrow(all, 1, n - kept, kept)), 0.0f);
        buf.keep_last(window);
        BOOST_CHECK_EQUAL(buf.frames(), window < 0 ? n : std::min(n, window));
        BOOST_CHECK_EQUAL(buf.bytes(), buf.frames() * kFloats * 4);
        BOOST_CHECK_GE(buf.capacity_bytes(), buf.bytes());
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(appending_copies_only_the_new_frames_while_there_is_room) {
  // 1000 frames in chunks of 4, all history or a window of 20: the storage moves only
  // when it grows (log2 of the frames times) or, for the window, when the end is reached;
  // the frames copied stay within 3 per frame streamed.
  for (int64_t window : {-1, 20}) {
    BOOST_TEST_CONTEXT("max_frames " << window) {
      nn::FrameBuffer buf;
      const int64_t chunk = 4, N = 1000;
      int64_t moved = 0, held_copies = 0;
      Tensor storage;
      for (int64_t t = 0; t < N; t += chunk) {
        buf.append(ones({2, chunk, 3}));
        if (!buf.held().data.same(storage)) ++moved;
        storage = buf.held().data;
        held_copies += buf.frames() * kFloats;  // what whole-history concatenation copies
        buf.keep_last(window);
      }
      BOOST_CHECK_LE(buf.copied_elements(), 3 * N * kFloats);
      // Concatenation copies (S+T) frames per chunk: ~N^2/8 for all history (here over 10x
      // more), 6 chunks' worth for the window (over 3x more).
      BOOST_CHECK_GT(held_copies, (window < 0 ? 10 : 3) * buf.copied_elements());
      if (window < 0) BOOST_CHECK_LE(moved, 10);  // 4, 16, 40, ... 1000+ frames
      if (window > 0) BOOST_CHECK_LE(buf.capacity_bytes(), 2 * (window + chunk) * kFloats * 4);
    }
  }
}

BOOST_AUTO_TEST_CASE(frame_buffer_refusals) {
  nn::FrameBuffer buf;
  buf.append(zeros({2, 4, 3}));
  check_error([&] { buf.append(zeros({2, 4, 5})); }, "do not continue the held");
  check_error([&] { buf.append(zeros({2, 4, 3}, DType::u8)); }, "do not continue the held");
  check_error([&] { buf.append(zeros({4})); }, "need a frame dim and a feature dim");
}
