// Our trn files and error counts agree with NIST sclite (Debian's sctk) on the same pairs.
#include <unistd.h>
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "asr/eval/wer.h"

namespace fs = std::filesystem;

namespace {
// The Sum/Avg row of `sclite -o sum stdout`: Corr Sub Del Ins Err (percent).
std::vector<double> sclite_sum(const std::string& ref, const std::string& hyp) {
  std::string cmd = "sctk sclite -r " + ref + " trn -h " + hyp + " trn -i rm -o sum stdout 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  BOOST_REQUIRE_MESSAGE(p, "cannot run sctk (Debian package sctk)");
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  pclose(p);
  size_t at = out.find("Sum/Avg");
  BOOST_REQUIRE_MESSAGE(at != std::string::npos, "no Sum/Avg line from sclite:\n" << out);
  std::string line = out.substr(at, out.find('\n', at) - at);
  for (char& c : line)
    if (c == '|') c = ' ';
  std::istringstream in(line.substr(7));
  double snt, wrd;
  std::vector<double> v(5);
  in >> snt >> wrd >> v[0] >> v[1] >> v[2] >> v[3] >> v[4];
  return v;
}
}  // namespace

BOOST_AUTO_TEST_CASE(sclite_reports_the_same_wer) {
  const std::vector<std::string> words = {"ONE", "TWO", "THREE", "A", "B", "C", "ENTER", "ERASE", "YES", "NO"};
  std::mt19937 rng(5);
  fs::path dir = fs::temp_directory_path() / ("latentasr_sclite_" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream ref(dir / "ref.trn"), hyp(dir / "hyp.trn");
  asr::ErrorCounts total;
  for (int u = 0; u < 40; ++u) {
    std::vector<std::string> r, h;
    for (int i = 0, n = 2 + rng() % 8; i < n; ++i) r.push_back(words[rng() % words.size()]);
    for (const auto& w : r) {  // substitutions, deletions, insertions at random
      int roll = rng() % 10;
      if (roll == 0) continue;
      h.push_back(roll == 1 ? words[rng() % words.size()] : w);
      if (roll == 2) h.push_back(words[rng() % words.size()]);
    }
    auto join = [](const std::vector<std::string>& v) {
      std::string s;
      for (const auto& w : v) s += (s.empty() ? "" : " ") + w;
      return s;
    };
    std::string id = "spk" + std::to_string(u % 3) + "-utt" + std::to_string(u);
    ref << asr::trn_line(join(r), id);
    hyp << asr::trn_line(join(h), id);
    total += asr::word_errors(join(r), join(h));
  }
  ref.close();
  hyp.close();
  std::vector<double> s = sclite_sum((dir / "ref.trn").string(), (dir / "hyp.trn").string());
  auto pct = [&](int64_t n) { return 100.0 * static_cast<double>(n) / static_cast<double>(total.ref); };
  BOOST_TEST_MESSAGE("ours: err " << pct(total.errors()) << "%, sclite: " << s[4] << "%");
  BOOST_CHECK_SMALL(s[4] - pct(total.errors()), 0.051);  // sclite prints one decimal
  BOOST_CHECK_SMALL(s[1] - pct(total.sub), 0.051);
  BOOST_CHECK_SMALL(s[2] - pct(total.del), 0.051);
  BOOST_CHECK_SMALL(s[3] - pct(total.ins), 0.051);
  fs::remove_all(dir);
}
