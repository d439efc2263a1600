// Training metrics: one JSON object per line in <dir>/metrics.jsonl, and the curves drawn
// from it to <dir>/curves.png with gnuplot.
#pragma once
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace asr {

class MetricsLog {
 public:
  // Appends to <dir>/metrics.jsonl (a resumed run continues the same file).
  explicit MetricsLog(const std::string& dir);
  // Writes one line, e.g. {"kind": "train", "step": 10, "loss": 3.2, ...}, and flushes it.
  void write(const nlohmann::json& record);

 private:
  std::ofstream out_;
  std::string path_;
};

// Draws train loss, dev loss and dev WER against the step into <dir>/curves.png. Returns
// false (after saying why on stderr) when gnuplot is missing or fails; training goes on.
bool plot_curves(const std::string& dir);

}  // namespace asr
