// Running the project's command-line tools from a test: a shell command in a folder, its exit
// code and output captured, and the path of a built tool.
#pragma once
#include <sys/wait.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace testing {

struct Run {
  int rc;
  std::string out;  // stdout and stderr
};

// Runs `command` in `cwd` (a shell), output captured in <cwd>/command.log.
inline Run run_in(const std::filesystem::path& cwd, const std::string& command) {
  const std::filesystem::path log = cwd / "command.log";
  const std::string cmd = "cd '" + cwd.string() + "' && " + command + " > '" + log.string() + "' 2>&1";
  const int status = std::system(cmd.c_str());
  BOOST_REQUIRE_MESSAGE(WIFEXITED(status), "did not exit: " << cmd);
  std::ifstream in(log);
  Run r{WEXITSTATUS(status),
        std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>())};
  BOOST_TEST_MESSAGE(command << " -> " << r.rc << "\n" << r.out);
  return r;
}

// The built tool `name` (asr-train, asr-eval, ...).
inline std::string tool(const std::string& name) {
  return std::string(LATENTASR_BINARY_DIR) + "/bin/" + name;
}

}  // namespace testing
