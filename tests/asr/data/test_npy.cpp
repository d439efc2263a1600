// .npy writing (NumPy format 1.0) and reading back.
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "asr/data/npy.h"
#include "autograd/ops.h"
#include "common/gradcheck.h"
#include "common/scratch.h"

namespace fs = std::filesystem;

namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}


}  // namespace

BOOST_AUTO_TEST_CASE(header_is_numpy_format_1_0) {
  testing::Scratch scratch("test_npy");
  ag::Tensor t = ag::from_vector({1.5f, -2.0f, 3.25f, 0.0f, 5.0f, 6.0f}, {2, 3});
  asr::write_npy(scratch("a.npy"), t);
  std::string bytes = read_bytes(scratch("a.npy"));
  BOOST_TEST(bytes.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
  size_t header_len = static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8);
  BOOST_TEST((10 + header_len) % 64 == 0u);
  std::string header = bytes.substr(10, header_len);
  BOOST_TEST(header.rfind("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 0) == 0);
  BOOST_TEST(header.back() == '\n');
  BOOST_TEST(bytes.size() == 10 + header_len + 6 * 4);
  float first;
  std::memcpy(&first, bytes.data() + 10 + header_len, 4);
  BOOST_TEST(first == 1.5f);
}

BOOST_AUTO_TEST_CASE(round_trips_every_rank) {
  testing::Scratch scratch("test_npy");
  ag::manual_seed(3);
  for (const ag::Shape& shape :
       {ag::Shape{}, ag::Shape{7}, ag::Shape{98, 80}, ag::Shape{2, 0, 4}, ag::Shape{2, 3, 4, 5}}) {
    ag::Tensor t = ag::normal(shape);
    asr::write_npy(scratch("t.npy"), t);
    BOOST_TEST(!fs::exists(scratch("t.npy.tmp")));
    ag::Tensor back = asr::read_npy(scratch("t.npy"));
    BOOST_TEST(back.shape() == shape, ag::shape_str(shape));
    BOOST_TEST(back.to_vector() == t.to_vector(), boost::test_tools::per_element());
  }
  asr::write_npy(scratch("v.npy"), ag::zeros({7}));
  BOOST_TEST(read_bytes(scratch("v.npy")).find("'shape': (7,)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_input_is_refused) {
  testing::Scratch scratch("test_npy");
  testing::check_error(
      [&] {
        asr::write_npy(scratch("i.npy"), ag::from_int_vector({1, 2}, {2}));
      },
      "float32 CPU tensor");
  testing::check_error([&] { asr::read_npy(scratch("missing.npy")); }, "missing.npy: cannot open");
  auto bad = [&](const std::string& bytes, const std::string& part) {
    std::ofstream(scratch("bad.npy"), std::ios::binary) << bytes;
    testing::check_error([&] { asr::read_npy(scratch("bad.npy")); }, "bad.npy");
    testing::check_error([&] { asr::read_npy(scratch("bad.npy")); }, part);
  };
  bad("hello", "not a .npy file");
  asr::write_npy(scratch("good.npy"), ag::ones({4, 2}));
  std::string good = read_bytes(scratch("good.npy"));
  bad(good.substr(0, good.size() - 4), "data holds 28 bytes");
  std::string f8 = good;
  f8.replace(f8.find("<f4"), 3, "<f8");
  bad(f8, "not little-endian float32");
  std::string fortran = good;
  fortran.replace(fortran.find("False"), 5, "True ");
  bad(fortran, "not in C order");
  bad(good.substr(0, 40), "truncated .npy header");
}
