// Every row of the op table (tests/common/op_table.h) through the finite-difference gradient
// check, whose tolerance is relative to the gradient (tests/common/gradcheck.h).
#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

#include "common/gradcheck.h"
#include "common/op_table.h"

BOOST_AUTO_TEST_CASE(every_op_matches_finite_differences) {
  uint64_t seed = 100;
  for (const op_table::Row& row : op_table::rows()) {
    BOOST_TEST_CONTEXT("op " << row.name) {
      testing::check_gradients(row.call, op_table::make_inputs(row.check, ++seed));
    }
  }
}

BOOST_AUTO_TEST_CASE(the_table_names_each_row_once) {
  std::set<std::string> names;
  for (const op_table::Row& row : op_table::rows())
    BOOST_CHECK_MESSAGE(names.insert(row.name).second, "row '" << row.name << "' twice");
  BOOST_CHECK_GE(names.size(), 40u);
}
