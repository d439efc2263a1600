// Dynamic-chunk training draws: repeatable from (seed, step, micro-batch), covering full
// context and chunks of 1 .. 25 frames, with left_chunks within the available chunks.
#include <boost/test/unit_test.hpp>

#include <set>

#include "asr/train/dynamic_chunk.h"
#include "common/gradcheck.h"

using asr::ChunkDraw;
using asr::draw_dynamic_chunk;

BOOST_AUTO_TEST_CASE(draws_repeat_for_the_same_seed_step_and_micro_batch) {
  int64_t differ_by_step = 0, differ_by_micro = 0, differ_by_seed = 0;
  for (int64_t step = 0; step < 200; ++step) {
    ChunkDraw a = draw_dynamic_chunk(7, step, 1, 100, true);
    ChunkDraw b = draw_dynamic_chunk(7, step, 1, 100, true);
    BOOST_CHECK_EQUAL(a.chunk_size, b.chunk_size);
    BOOST_CHECK_EQUAL(a.left_chunks, b.left_chunks);
    auto differs = [&](const ChunkDraw& o) {
      return o.chunk_size != a.chunk_size || o.left_chunks != a.left_chunks;
    };
    differ_by_step += differs(draw_dynamic_chunk(7, step + 1, 1, 100, true));
    differ_by_micro += differs(draw_dynamic_chunk(7, step, 2, 100, true));
    differ_by_seed += differs(draw_dynamic_chunk(8, step, 1, 100, true));
  }
  BOOST_CHECK_GT(differ_by_step, 100);
  BOOST_CHECK_GT(differ_by_micro, 100);
  BOOST_CHECK_GT(differ_by_seed, 100);
}

BOOST_AUTO_TEST_CASE(draws_cover_full_context_and_every_chunk_size) {
  const int64_t frames = 120;
  int64_t full = 0;
  std::set<int64_t> sizes, lefts;
  const int64_t n = 4000;
  for (int64_t step = 0; step < n; ++step) {
    ChunkDraw d = draw_dynamic_chunk(2022, step, 0, frames, true);
    if (d.chunk_size == 0) {
      ++full;
      BOOST_CHECK_EQUAL(d.left_chunks, -1);
      continue;
    }
    BOOST_CHECK(d.chunk_size >= 1 && d.chunk_size <= 25);
    BOOST_CHECK(d.left_chunks >= 0 && d.left_chunks <= (frames - 1) / d.chunk_size);
    sizes.insert(d.chunk_size);
    lefts.insert(d.left_chunks);
  }
  // c in [1, 120] beyond 60 gives full context: half the draws.
  BOOST_CHECK(full > n * 45 / 100 && full < n * 55 / 100);
  BOOST_CHECK_EQUAL(sizes.size(), 25u);
  BOOST_CHECK(lefts.count(0) && lefts.size() > 20);
  // Without dynamic_left every chunked draw keeps all history.
  for (int64_t step = 0; step < 100; ++step)
    BOOST_CHECK_EQUAL(draw_dynamic_chunk(2022, step, 0, frames, false).left_chunks, -1);
  // A single frame: c = 1 > 0 is always full context.
  BOOST_CHECK_EQUAL(draw_dynamic_chunk(1, 3, 0, 1, true).chunk_size, 0);
  testing::check_error([] { draw_dynamic_chunk(1, 0, 0, 0, false); }, "frames 0");
}
