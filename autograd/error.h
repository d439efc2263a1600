// Errors thrown by the library. Messages name the op and the shapes involved.
#pragma once
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace ag {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// "[8,250,256]"
inline std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) r.push_back(',');
    r.append(std::to_string(s[i]));
  }
  r.push_back(']');
  return r;
}

namespace detail {
template <class... Args>
[[noreturn]] void fail(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  throw Error(os.str());
}
}  // namespace detail

}  // namespace ag

// AG_CHECK(cond, "matmul: ", shape_str(a), " and ", shape_str(b), " do not align")
#define AG_CHECK(cond, ...)                         \
  do {                                              \
    if (!(cond)) ::ag::detail::fail(__VA_ARGS__);   \
  } while (0)
