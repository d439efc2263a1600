// Error rates: hand-aligned cases and the trn format.
#include <boost/test/unit_test.hpp>

#include "asr/eval/wer.h"

BOOST_AUTO_TEST_CASE(word_error_counts) {
  asr::ErrorCounts c = asr::word_errors("THE CAT SAT ON THE MAT", "THE BAT SAT THE MAT TODAY");
  BOOST_CHECK_EQUAL(c.ref, 6);
  BOOST_CHECK_EQUAL(c.sub, 1);  // CAT -> BAT
  BOOST_CHECK_EQUAL(c.del, 1);  // ON
  BOOST_CHECK_EQUAL(c.ins, 1);  // TODAY
  BOOST_CHECK_CLOSE(c.rate(), 0.5, 1e-9);
  BOOST_CHECK_EQUAL(asr::word_errors("A B", "A B").errors(), 0);
  BOOST_CHECK_EQUAL(asr::word_errors("A B C", "").del, 3);
  BOOST_CHECK_EQUAL(asr::word_errors("", "X Y").ins, 2);
  // Prefers one substitution over a deletion plus an insertion.
  asr::ErrorCounts s = asr::word_errors("A B C", "A X C");
  BOOST_CHECK_EQUAL(s.sub, 1);
  BOOST_CHECK_EQUAL(s.del + s.ins, 0);
}

BOOST_AUTO_TEST_CASE(char_error_counts_spaces_once) {
  asr::ErrorCounts c = asr::char_errors("AB  CD", "ABCD");
  BOOST_CHECK_EQUAL(c.ref, 5);  // A B ' ' C D
  BOOST_CHECK_EQUAL(c.del, 1);
  BOOST_CHECK_EQUAL(asr::char_errors("YES", "YAS").sub, 1);
}

BOOST_AUTO_TEST_CASE(accumulate_and_trn) {
  asr::ErrorCounts total;
  total += asr::word_errors("A B", "A");
  total += asr::word_errors("C", "D E");
  BOOST_CHECK_EQUAL(total.ref, 3);
  BOOST_CHECK_EQUAL(total.errors(), 3);
  BOOST_CHECK_EQUAL(asr::trn_line("  HELLO   WORLD ", "1001-1-0001"), "HELLO WORLD (1001-1-0001)\n");
  BOOST_CHECK_EQUAL(asr::trn_line("", "x-1"), " (x-1)\n");
}
