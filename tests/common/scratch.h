// A scratch folder for the files a test writes: <tmp>/latentasr_<name>_<pid>, made on
// construction and removed with everything in it on destruction.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace testing {

struct Scratch {
  explicit Scratch(const std::string& name)
      : dir(std::filesystem::temp_directory_path() /
            ("latentasr_" + name + "_" + std::to_string(getpid()))) {
    std::filesystem::create_directories(dir);
  }
  ~Scratch() { std::filesystem::remove_all(dir); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  // The path of `name` inside the folder.
  std::string operator()(const std::string& name) const { return (dir / name).string(); }
  // Writes `text` to `name` inside the folder; returns its path.
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream((dir / name).string()) << text;
    return (*this)(name);
  }

  std::filesystem::path dir;
};

}  // namespace testing
