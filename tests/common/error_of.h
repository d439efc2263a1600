// The message of the error a call throws, for tests that check what an error says.
#pragma once
#include <functional>
#include <string>

#include "autograd/error.h"

namespace testing {

// The message of the ag::Error that f() throws, or "(no error)" when it throws none.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ag::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace testing
