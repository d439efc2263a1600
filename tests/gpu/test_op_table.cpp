// Every row of the op table (tests/common/op_table.h) on the CUDA backend against the CPU:
// outputs and input gradients. Skipped where no GPU answers.
#include <boost/test/unit_test.hpp>

#include "common/op_table.h"
#include "compare.h"

BOOST_AUTO_TEST_SUITE(op_table_rows, *boost::unit_test::precondition(gpu_testing::cuda_present))

BOOST_AUTO_TEST_CASE(every_op_matches_the_cpu) {
  uint64_t seed = 200;
  for (const op_table::Row& row : op_table::rows())
    gpu_testing::compare_with_cpu(row.name, row.call, op_table::make_inputs(row.check, ++seed),
                                  row.cuda_rtol);
}

BOOST_AUTO_TEST_SUITE_END()
