// Version counters: an in-place write to a tensor that an op saved for backward is caught
// when backward reaches that op, with the op and the tensor named; a write to what no
// backward reads is not. (The training loop's writes: tests/nn/test_in_place_writes.cpp.)
#include <boost/test/unit_test.hpp>

#include "common/gradcheck.h"

using namespace ag;
using testing::check_error;

BOOST_AUTO_TEST_CASE(in_place_writes_bump_the_version) {
  Tensor t = zeros({3});
  const uint32_t v0 = t.version();
  fill(t, 2.0f);
  BOOST_CHECK_EQUAL(t.version(), v0 + 1);
  copy_(t, ones({3}));
  BOOST_CHECK_EQUAL(t.version(), v0 + 2);
  Tensor view = reshape(t, {1, 3});  // shares the storage, so shares the counter
  fill(view, 0.0f);
  BOOST_CHECK_EQUAL(t.version(), v0 + 3);
  Tensor fresh = clone_data(t);
  fill(fresh, 5.0f);
  BOOST_CHECK_EQUAL(t.version(), v0 + 3);  // another storage
}

BOOST_AUTO_TEST_CASE(a_write_to_a_saved_output_is_caught) {
  Tensor x = from_vector({0.1f, 0.2f}, {2}).set_requires_grad(true);
  Tensor y = exp(x);  // backward reads y
  Tensor loss = sum(y);
  fill(y, 0.0f);
  check_error([&] { loss.backward(); }, "backward of 'exp': the tensor it saved as 'output' "
                                        "was modified in place");
}

BOOST_AUTO_TEST_CASE(a_write_to_a_saved_input_is_caught) {
  Tensor x = normal({2, 3}).set_requires_grad(true);
  Tensor w = normal({3, 4}).set_requires_grad(true);
  Tensor loss = sum(matmul(x, w));
  copy_(w, zeros({3, 4}));  // the input gradient reads w
  check_error([&] { loss.backward(); }, "'matmul': the tensor it saved as 'other'");
  // Writes through data() count once declared.
  Tensor a = normal({2}).set_requires_grad(true), b = normal({2}).set_requires_grad(true);
  Tensor l2 = sum(mul(a, b));
  b.data()[0] = 7.0f;
  b.mark_modified();
  check_error([&] { l2.backward(); }, "'mul': the tensor it saved as 'other'");
}

BOOST_AUTO_TEST_CASE(a_write_to_what_backward_does_not_read_is_not_an_error) {
  // add's backward reads neither operand; relu's reads only its output.
  Tensor a = normal({4}).set_requires_grad(true);
  Tensor b = normal({4});
  Tensor h = add(a, b);
  Tensor loss = sum(relu(h));
  fill(b, 3.0f);
  fill(a, 1.0f);  // relu saved its output, not h; add saved nothing
  BOOST_CHECK_NO_THROW(loss.backward());
}
