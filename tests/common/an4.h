// The AN4 corpus for tests that need real speech: ../shared/data/an4 beside the repository,
// or the folder named by $LATENTASR_AN4 (for checkouts that do not sit beside shared/).
#pragma once
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>

namespace testing {

inline std::filesystem::path an4_dir() {
  namespace fs = std::filesystem;
  const char* env = std::getenv("LATENTASR_AN4");
  fs::path dir = env && *env ? fs::path(env)
                             : fs::path(LATENTASR_SOURCE_DIR) / ".." / "shared" / "data" / "an4";
  BOOST_REQUIRE_MESSAGE(fs::is_directory(dir / "train") && fs::is_directory(dir / "dev"),
                        "AN4 corpus not found at " << dir.string()
                                                   << " (expected train/ and dev/; set "
                                                      "LATENTASR_AN4 to its folder)");
  return dir;
}

}  // namespace testing
