// Metrics lines and the gnuplot curves drawn from them.
#include <unistd.h>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>

#include "asr/train/metrics.h"

namespace fs = std::filesystem;

BOOST_AUTO_TEST_CASE(metrics_lines_and_curves_png) {
  fs::path dir = fs::temp_directory_path() / ("latentasr_metrics_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    asr::MetricsLog log(dir.string());
    for (int s = 1; s <= 5; ++s) log.write({{"kind", "train"}, {"step", s}, {"loss", 50.0 / s}});
    log.write({{"kind", "dev"}, {"step", 5}, {"loss", 12.5}, {"wer", 0.4}});
  }
  {
    asr::MetricsLog again(dir.string());  // appends
    again.write({{"kind", "train"}, {"step", 6}, {"loss", 7.0}});
  }
  std::ifstream in(dir / "metrics.jsonl");
  int lines = 0;
  for (std::string l; std::getline(in, l);) ++lines;
  BOOST_CHECK_EQUAL(lines, 7);
  BOOST_REQUIRE(asr::plot_curves(dir.string()));
  std::ifstream png(dir / "curves.png", std::ios::binary);
  char sig[8] = {};
  png.read(sig, 8);
  BOOST_CHECK(std::string(sig + 1, 3) == "PNG");
  BOOST_CHECK(!fs::exists(dir / ".curves.gp"));
  fs::remove_all(dir);
}
