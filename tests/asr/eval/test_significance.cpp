// Significance of a WER difference: paired bootstrap and MAPSSWE on hypotheses built to have
// a known answer, MAPSSWE against NIST sctk's sc_stats, pairing errors, and --compare.
#include <unistd.h>
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "asr/eval/eval_tool.h"
#include "asr/eval/significance.h"
#include "autograd/error.h"
#include "common/error_of.h"

namespace fs = std::filesystem;
using asr::PairedUtterance;

namespace {
std::string utt(int i) {  // "u7" (built by appending: GCC 12 warns wrongly on "u" + string)
  std::string id = "u";
  return id += std::to_string(i);
}

PairedUtterance pair(const std::string& id, const std::string& ref, const std::string& a,
                     const std::string& b) {
  return asr::pair_utterance(id, asr::split_words(ref), asr::split_words(a), asr::split_words(b));
}

// A fresh folder under the temp directory, removed with the fixture.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / ("latentasr_sig_" + name + "_" + std::to_string(getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

// An eval.json as asr-eval --out writes it (the fields --compare reads).
std::string eval_json(double wer) {
  return "{\"wer\": " + std::to_string(wer) + ", \"cer\": 0.1, \"encoder\": \"conformer\", "
         "\"attention\": \"mha\", \"params\": 10, \"rtf\": 0.5}\n";
}

// ref.trn and hyp.trn of one system, as asr-eval --out writes them.
void write_system(const fs::path& dir, const std::vector<std::string>& ids,
                  const std::vector<std::string>& refs, const std::vector<std::string>& hyps) {
  std::string ref, hyp;
  for (size_t i = 0; i < ids.size(); ++i) {
    ref += asr::trn_line(refs[i], ids[i]);
    hyp += asr::trn_line(hyps[i], ids[i]);
  }
  write(dir / "ref.trn", ref);
  write(dir / "hyp.trn", hyp);
}

// The worked example (also checked against sc_stats below): A and B on three utterances.
std::vector<PairedUtterance> worked_example() {
  return {pair("s1-u1", "a b c d e f g h", "a x c d e f g h", "a b c d e y g z"),
          pair("s1-u2", "a b c d", "a b c", "a b c d d"),
          pair("s2-u3", "one two three four five six", "one two three four five six",
               "one too three for five six")};
}
}  // namespace

BOOST_AUTO_TEST_CASE(alignment_edits_in_reading_order) {
  using E = asr::Edit;
  auto edits = asr::align(asr::split_words("THE CAT SAT ON THE MAT"),
                          asr::split_words("THE BAT SAT THE MAT TODAY"));
  BOOST_TEST((edits == std::vector<E>{E::correct, E::sub, E::correct, E::del, E::correct,
                                      E::correct, E::ins}));
}

BOOST_AUTO_TEST_CASE(identical_systems_show_no_difference) {
  std::vector<PairedUtterance> u;
  for (int i = 0; i < 30; ++i)
    u.push_back(pair(utt(i), "a b c d e f", "a b x d e", "a b x d e"));
  asr::BootstrapResult b = asr::paired_bootstrap(u);
  BOOST_TEST(b.wer_a == 2.0 / 6.0);
  BOOST_TEST(b.wer_b == b.wer_a);
  BOOST_TEST(b.delta == 0.0);
  BOOST_TEST(b.ci_low == 0.0);
  BOOST_TEST(b.ci_high == 0.0);
  BOOST_TEST(b.prob_improvement == 0.0);
  // Two segments per utterance (the x, closed by "d e", and the deleted f), each with d = 0:
  // sd = 0, Z = 0, p = 1.
  asr::MapssweResult m = asr::mapsswe(u);
  BOOST_TEST(m.segments == 60);
  BOOST_TEST(m.mean == 0.0);
  BOOST_TEST(m.z == 0.0);
  BOOST_TEST(m.p == 1.0);
  // No errors at all: no segments, p = 1.
  asr::MapssweResult none = asr::mapsswe({pair("u", "a b", "a b", "a b")});
  BOOST_TEST(none.segments == 0);
  BOOST_TEST(none.p == 1.0);
}

BOOST_AUTO_TEST_CASE(a_system_worse_on_every_utterance) {
  // A errs once in every utterance (word 1); B errs there too and once or twice more, words
  // 5 and 6, two good words away, so in a segment of its own: d = 1 or 2 per such segment.
  std::vector<PairedUtterance> u;
  int64_t extra = 0;
  for (int i = 0; i < 40; ++i) {
    const std::string hyp_b = i % 2 ? "a X c d e Y Z h i j" : "a X c d e Y g h i j";
    extra += i % 2 ? 2 : 1;
    u.push_back(pair(utt(i), "a b c d e f g h i j", "a X c d e f g h i j", hyp_b));
  }
  asr::BootstrapResult b = asr::paired_bootstrap(u);
  BOOST_TEST(b.delta == static_cast<double>(extra) / 400.0);
  BOOST_TEST(b.ci_low > 0.0);
  BOOST_TEST(b.ci_low <= b.delta);
  BOOST_TEST(b.ci_high >= b.delta);
  BOOST_TEST(b.prob_improvement == 0.0);
  BOOST_TEST(b.relative(b.delta) == 1.5, boost::test_tools::tolerance(1e-12));  // 60 more than A's 40
  // Segments: 40 with d = 0 (word 1 in both) and 40 with d = 1 or 2 (B's errors):
  // mean 0.75, sd = sqrt((40 * 0.75^2 + 20 * 0.25^2 + 20 * 1.25^2) / 79) = sqrt(55 / 79),
  // Z = 0.75 / (sd / sqrt(80)) = 8.04, p ~ 9e-16.
  asr::MapssweResult m = asr::mapsswe(u);
  BOOST_TEST(m.segments == 80);
  BOOST_TEST(m.mean == 0.75);
  BOOST_TEST(m.sd == std::sqrt(55.0 / 79.0), boost::test_tools::tolerance(1e-12));
  BOOST_TEST(m.z == 0.75 / (std::sqrt(55.0 / 79.0) / std::sqrt(80.0)),
             boost::test_tools::tolerance(1e-12));
  BOOST_TEST(m.p < 1e-12);
  BOOST_TEST(m.p > 0.0);

  // The same extra error in every utterance: every resample gives the same difference, and
  // every segment the same d = 1 (sd = 0): Z = +infinity, p = 0.
  std::vector<PairedUtterance> same;
  for (int i = 0; i < 20; ++i)
    same.push_back(pair(utt(i), "a b c d", "a b c d", "a b X d"));
  asr::BootstrapResult s = asr::paired_bootstrap(same);
  BOOST_TEST(s.delta == 0.25);
  BOOST_TEST(s.ci_low == 0.25);
  BOOST_TEST(s.ci_high == 0.25);
  BOOST_TEST(std::isnan(s.relative(s.delta)));  // A makes no errors
  asr::MapssweResult ms = asr::mapsswe(same);
  BOOST_TEST(ms.segments == 20);
  BOOST_TEST(ms.sd == 0.0);
  BOOST_TEST(std::isinf(ms.z));
  BOOST_TEST(ms.z > 0);
  BOOST_TEST(ms.p == 0.0);
  // ... and B better by the same: Z = -infinity, every resample an improvement.
  for (auto& p : same) std::swap(p.a, p.b);
  BOOST_TEST(asr::mapsswe(same).z < 0);
  BOOST_TEST(asr::paired_bootstrap(same).prob_improvement == 1.0);
}

BOOST_AUTO_TEST_CASE(mapsswe_by_hand) {
  // Errors (S sub, D del, I ins; "." correct) and segments, at least 2 good words between:
  //  s1-u1  A: . S . . . . . .     B: . . . . . S . S
  //         segment "b" (c d both good closes it): A 1, B 0 -> d = -1
  //         segment "f g h" (g alone does not close it): A 0, B 2 -> d = +2
  //  s1-u2  A: . . . D             B: . . . . I   segment "d" + the insertion: A 1, B 1 -> 0
  //  s2-u3  A: all correct         B: . S . S . .   segment "two three four": A 0, B 2 -> +2
  // d = (-1, 2, 0, 2): mean 0.75; deviations -1.75, 1.25, -0.75, 1.25, squares summing to
  // 3.0625 + 1.5625 + 0.5625 + 1.5625 = 6.75; sd = sqrt(6.75 / 3) = 1.5;
  // Z = 0.75 / (1.5 / sqrt(4)) = 1.0; p = 2 (1 - Φ(1)) = 0.3173.
  asr::MapssweResult m = asr::mapsswe(worked_example());
  BOOST_TEST(m.segments == 4);
  BOOST_TEST(m.mean == 0.75);
  BOOST_TEST(m.sd == 1.5, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(m.z == 1.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(m.p == 0.31731050786291415, boost::test_tools::tolerance(1e-9));

  // Insertions break runs of good words: "a b" good, then B inserts before c, c d good:
  // the insertion's segment ends only after c d. One good word between errors merges.
  BOOST_TEST(asr::mapsswe({pair("u", "a b c d e f", "a b c d e f", "a b I c d e f")}).segments == 1);
  BOOST_TEST(asr::mapsswe({pair("u", "a b c d e f", "X b Y d e f", "a b c d e f")}).segments == 1);
  BOOST_TEST(asr::mapsswe({pair("u", "a b c d e f", "X b c Y e f", "a b c d e f")}).segments == 2);
  // min_good 1: one good word separates.
  BOOST_TEST(asr::mapsswe({pair("u", "a b c d e f", "X b Y d e f", "a b c d e f")}, 1).segments == 2);
}

BOOST_AUTO_TEST_CASE(bootstrap_is_reproducible_with_its_seed) {
  std::mt19937 rng(3);
  std::vector<PairedUtterance> u;
  for (int i = 0; i < 60; ++i) {
    std::string ref = "a b c d e f g h", a = ref, b = ref;  // about as good as each other
    if (rng() % 2 == 0) a = "a b X d e f g h";
    if (rng() % 2 == 0) b = rng() % 2 ? "a b c d e f g" : "a b c d e f g h Z";
    u.push_back(pair(utt(i), ref, a, b));
  }
  asr::BootstrapResult x = asr::paired_bootstrap(u, 1000, 1), y = asr::paired_bootstrap(u, 1000, 1);
  BOOST_TEST(x.ci_low == y.ci_low);
  BOOST_TEST(x.ci_high == y.ci_high);
  BOOST_TEST(x.prob_improvement == y.prob_improvement);
  BOOST_TEST(x.ci_low < x.delta);
  BOOST_TEST(x.ci_high > x.delta);
  asr::BootstrapResult z = asr::paired_bootstrap(u, 1000, 2);
  BOOST_TEST(z.delta == x.delta);
  BOOST_TEST((z.ci_low != x.ci_low || z.ci_high != x.ci_high || z.prob_improvement != x.prob_improvement));
  BOOST_TEST(testing::error_of([&] { asr::paired_bootstrap(u, 999); }).find("1000 or more") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(mismatched_utterances_are_refused) {
  TempDir t("mismatch");
  const fs::path a = t.path / "a", b = t.path / "b", c = t.path / "c", d = t.path / "d";
  write_system(a, {"u1", "u2"}, {"x y", "z"}, {"x y", "z"});
  write_system(b, {"u1"}, {"x y"}, {"x"});
  write_system(c, {"u1", "u2"}, {"x y", "w"}, {"x y", "z"});
  BOOST_TEST(asr::read_paired(a.string(), a.string()).words.size() == 2);
  BOOST_TEST(asr::read_paired(a.string(), a.string()).characters.size() == 2);
  std::string m = testing::error_of([&] { asr::read_paired(a.string(), b.string()); });
  BOOST_TEST(m.find("u2") != std::string::npos, m);
  BOOST_TEST(m.find((a / "ref.trn").string()) != std::string::npos, m);
  BOOST_TEST(m.find((b / "ref.trn").string()) != std::string::npos, m);
  m = testing::error_of([&] { asr::read_paired(b.string(), a.string()); });  // an extra utterance
  BOOST_TEST(m.find("is in " + (a / "ref.trn").string() + " but not in " + (b / "ref.trn").string()) !=
             std::string::npos, m);
  m = testing::error_of([&] { asr::read_paired(a.string(), c.string()); });
  BOOST_TEST(m.find("another reference") != std::string::npos, m);
  // A folder whose hyp.trn lacks an utterance of its ref.trn.
  write(d / "ref.trn", "x y (u1)\nz (u2)\n");
  write(d / "hyp.trn", "x y (u1)\n");
  m = testing::error_of([&] { asr::read_paired(a.string(), d.string()); });
  BOOST_TEST(m.find((d / "hyp.trn").string()) != std::string::npos, m);
  write(d / "hyp.trn", "x y (u1)\nz u2\n");
  m = testing::error_of([&] { asr::read_paired(a.string(), d.string()); });
  BOOST_TEST(m.find((d / "hyp.trn").string() + ":2: not a trn line") != std::string::npos, m);
}

namespace {
// sc_stats' MAPSSWE Z for two systems' trn files (its sys1 = a), from its verbose report.
double sc_stats_z(const fs::path& dir, const fs::path& ref, const fs::path& a, const fs::path& b) {
  std::string cmd = "cd " + dir.string() + " && sctk sclite -r " + ref.string() + " trn -h " +
                    a.string() + " trn -h " + b.string() +
                    " trn -i rm -o sgml stdout 2>/dev/null | sctk sc_stats -p -t mapsswe -v -n out -O " +
                    dir.string() + " >/dev/null 2>&1";
  BOOST_REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, "sc_stats failed (Debian package sctk): " << cmd);
  std::ifstream in(dir / "out.stats.mapsswe");
  std::stringstream s;
  s << in.rdbuf();
  const std::string text = s.str();
  const size_t at = text.find("(Z Stat:");
  BOOST_REQUIRE_MESSAGE(at != std::string::npos, "no Z Stat in sc_stats' report:\n" << text);
  return std::stod(text.substr(at + 8));
}
}  // namespace

BOOST_AUTO_TEST_CASE(mapsswe_agrees_with_sc_stats) {
  const std::vector<std::string> words = {"ONE", "TWO", "THREE", "A", "B", "C", "ENTER", "YES"};
  TempDir t("sc_stats");
  for (int trial = 0; trial < 4; ++trial) {
    std::mt19937 rng(11 + trial);
    std::string ref, hyp_a, hyp_b;
    std::vector<PairedUtterance> u;
    auto noisy = [&](const std::vector<std::string>& r, int rate) {  // errors at random
      std::vector<std::string> h;
      for (const auto& w : r) {
        const int roll = static_cast<int>(rng() % rate);
        if (roll == 0) continue;
        h.push_back(roll == 1 ? words[rng() % words.size()] : w);
        if (roll == 2) h.push_back(words[rng() % words.size()]);
      }
      return h;
    };
    for (int i = 0; i < 60; ++i) {
      std::vector<std::string> r;
      for (int k = 0, n = 3 + static_cast<int>(rng() % 12); k < n; ++k) r.push_back(words[rng() % words.size()]);
      std::vector<std::string> a = noisy(r, 12), b = noisy(r, 7);
      auto join = [](const std::vector<std::string>& v) {
        std::string s;
        for (const auto& w : v) s += (s.empty() ? "" : " ") + w;
        return s;
      };
      const std::string id = "spk" + std::to_string(i % 4) + "-utt" + std::to_string(i);
      ref += asr::trn_line(join(r), id);
      hyp_a += asr::trn_line(join(a), id);
      hyp_b += asr::trn_line(join(b), id);
      u.push_back(asr::pair_utterance(id, r, a, b));
    }
    write(t.path / "ref.trn", ref);
    write(t.path / "a.trn", hyp_a);
    write(t.path / "b.trn", hyp_b);
    const double z = sc_stats_z(t.path, t.path / "ref.trn", t.path / "a.trn", t.path / "b.trn");
    // sc_stats' d is A - B and its report rounds to 3 decimals.
    const double ours = asr::mapsswe(u).z;
    BOOST_TEST(std::fabs(ours + z) <= 0.0006, "ours " << ours << ", sc_stats " << -z);
    BOOST_TEST(std::fabs(z) > 0.1);  // a test that could disagree
  }
}

BOOST_AUTO_TEST_CASE(compare_adds_the_significance_columns) {
  TempDir t("compare");
  std::vector<std::string> ids, refs, a, b;
  for (int i = 0; i < 20; ++i) {
    ids.push_back("spk-" + std::to_string(i));
    refs.push_back("a b c d e");
    a.push_back(i % 4 ? "a b c d e" : "a b X d e");
    b.push_back(i % 2 ? "a b c d e" : "a b X d e");
  }
  write_system(t.path / "a", ids, refs, a);
  write_system(t.path / "b", ids, refs, b);
  write(t.path / "a" / "eval.json", eval_json(5.0 / 100));
  write(t.path / "b" / "eval.json", eval_json(10.0 / 100));
  const std::string da = (t.path / "a").string(), db = (t.path / "b").string();
  nlohmann::json j = asr::compare_json({da, (t.path / "b" / "eval.json").string()});
  BOOST_REQUIRE(j.is_array());
  BOOST_REQUIRE(j.size() == 2u);
  BOOST_TEST(!j[0].contains("vs_first"));
  const nlohmann::json& v = j[1]["vs_first"];
  BOOST_TEST(v["delta_wer"].get<double>() == 0.05, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(v["delta_wer_rel"].get<double>() == 1.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(v["ci_low"].get<double>() <= 0.05);
  BOOST_TEST(v["resamples"].get<int64_t>() == 1000);
  // Segments: 5 where both err (d = 0) and 5 where only B errs (d = 1): mean 0.5,
  // sd = sqrt(10 * 0.25 / 9), Z = 0.5 / (sd / sqrt(10)) = 3.0.
  BOOST_TEST(v["mapsswe"]["segments"].get<int64_t>() == 10);
  BOOST_TEST(v["mapsswe"]["z"].get<double>() == 3.0, boost::test_tools::tolerance(1e-12));
  // Characters: "a b c d e" is 9 (5 letters, 4 spaces); B substitutes 5 more of the 180.
  const nlohmann::json& c = v["cer"];
  BOOST_TEST(c["delta"].get<double>() == 5.0 / 180, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(c["delta_rel"].get<double>() == 1.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(c["ci_low"].get<double>() <= 5.0 / 180);
  BOOST_TEST(c["ci_high"].get<double>() >= 5.0 / 180);
  // B never beats A in an utterance, and few resamples (about 0.3 %) miss all 5 of its extra
  // errors: the interval excludes 0.
  BOOST_TEST(c["ci_low"].get<double>() > 0);
  const std::string table = asr::compare_table({da, db});
  BOOST_TEST(table.find("ΔCER vs first (95% CI)") != std::string::npos, table);
  BOOST_TEST(table.find("| +2.78 [") != std::string::npos, table);
  BOOST_TEST(table.find("ΔWER vs first (95% CI)") != std::string::npos, table);
  BOOST_TEST(table.find("| MAPSSWE p |") != std::string::npos, table);
  BOOST_TEST(table.find("| +5.00 [") != std::string::npos, table);
  BOOST_TEST(table.find("(+100.0% rel)") != std::string::npos, table);
  BOOST_TEST(table.find("| 0.0027 |") != std::string::npos, table);  // erfc(3 / sqrt 2)
  // Another data set's run: refused, naming both folders' files.
  write_system(t.path / "c", {"other-1"}, {"a"}, {"a"});
  write(t.path / "c" / "eval.json", eval_json(0.0));
  const std::string m = testing::error_of([&] { asr::compare_table({da, (t.path / "c").string()}); });
  BOOST_TEST(m.find((t.path / "c" / "ref.trn").string()) != std::string::npos, m);
  BOOST_TEST(m.find((t.path / "a" / "ref.trn").string()) != std::string::npos, m);
}

BOOST_AUTO_TEST_CASE(compare_json_writes_null_for_no_relative_difference_and_an_infinite_z) {
  // A perfect baseline and B wrong once in every utterance: nothing to divide by for *_rel,
  // and every MAPSSWE segment differs by 1 (sd 0, Z infinite). --json prints them as null.
  TempDir t("compare_null");
  std::vector<std::string> ids, refs, b;
  for (int i = 0; i < 20; ++i) {
    ids.push_back(utt(i));
    refs.push_back("a b c d e");
    b.push_back("a b X d e");
  }
  write_system(t.path / "a", ids, refs, refs);
  write_system(t.path / "b", ids, refs, b);
  write(t.path / "a" / "eval.json", eval_json(0.0));
  write(t.path / "b" / "eval.json", eval_json(0.2));
  const std::string printed =
      asr::compare_json({(t.path / "a").string(), (t.path / "b").string()}).dump();
  const nlohmann::json v = nlohmann::json::parse(printed)[1]["vs_first"];
  BOOST_TEST(v["delta_wer"].get<double>() == 0.2, boost::test_tools::tolerance(1e-12));
  for (const char* key : {"delta_wer_rel", "ci_low_rel", "ci_high_rel"})
    BOOST_TEST(v[key].is_null(), key << " in " << printed);
  for (const char* key : {"delta_rel", "ci_low_rel", "ci_high_rel"})  // the CER's baseline is 0 too
    BOOST_TEST(v["cer"][key].is_null(), "cer." << key << " in " << printed);
  BOOST_TEST(v["cer"]["delta"].get<double>() == 20.0 / 180, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(v["mapsswe"]["segments"].get<int64_t>() == 20);
  BOOST_TEST(v["mapsswe"]["z"].is_null(), printed);
  BOOST_TEST(v["mapsswe"]["p"].get<double>() == 0.0);
}
