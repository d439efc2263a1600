#include "asr/train/metrics.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "autograd/error.h"

namespace asr {

MetricsLog::MetricsLog(const std::string& dir) : out_(dir + "/metrics.jsonl", std::ios::app), path_(dir + "/metrics.jsonl") {
  AG_CHECK(out_.good(), "cannot open ", path_, " for writing");
}

void MetricsLog::write(const nlohmann::json& record) {
  out_ << record.dump() << '\n';
  out_.flush();
  AG_CHECK(out_.good(), "cannot write to ", path_);
}

namespace {
// Splits metrics.jsonl into whitespace tables gnuplot reads: step value.
bool write_series(const std::string& dir, const std::string& kind, const std::string& key,
                  const std::string& out_path) {
  std::ifstream in(dir + "/metrics.jsonl");
  std::ofstream out(out_path);
  bool any = false;
  for (std::string line; std::getline(in, line);) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || j.value("kind", "") != kind || !j.contains(key) || !j[key].is_number()) continue;
    out << j.value("step", 0) << ' ' << j[key].get<double>() << '\n';
    any = true;
  }
  return any;
}
}  // namespace

bool plot_curves(const std::string& dir) {
  const std::string train = dir + "/.curve_train.dat", dev_loss = dir + "/.curve_dev_loss.dat",
                    dev_wer = dir + "/.curve_dev_wer.dat", script = dir + "/.curves.gp";
  bool has_train = write_series(dir, "train", "loss", train);
  bool has_dev = write_series(dir, "dev", "loss", dev_loss);
  bool has_wer = write_series(dir, "dev", "wer", dev_wer);
  if (!has_train) return false;
  {
    std::ofstream gp(script);
    gp << "set terminal pngcairo size 1000,420 noenhanced\n"
       << "set output '" << dir << "/curves.png'\n"
       << "set multiplot layout 1,2\n"
       << "set xlabel 'optimizer step'\nset ylabel 'CTC loss'\nset logscale y\nset grid\n"
       << "plot '" << train << "' with lines title 'train'";
    if (has_dev) gp << ", '" << dev_loss << "' with linespoints title 'dev'";
    gp << "\nunset logscale y\nset ylabel 'dev WER (%)'\n";
    if (has_wer) gp << "plot '" << dev_wer << "' using 1:($2*100) with linespoints title 'dev WER'\n";
    else gp << "plot 0 title 'no validation yet'\n";
    gp << "unset multiplot\n";
  }
  std::string cmd = "gnuplot '" + script + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    std::cerr << "curves: cannot run gnuplot (install gnuplot-nox)\n";
    return false;
  }
  std::string err;
  char buf[256];
  while (fgets(buf, sizeof buf, p)) err += buf;
  int rc = pclose(p);
  for (const auto& f : {train, dev_loss, dev_wer, script}) std::remove(f.c_str());
  if (rc != 0) {
    std::cerr << "curves: gnuplot failed: " << err;
    return false;
  }
  return true;
}

}  // namespace asr
