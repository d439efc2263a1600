// The libraries' layer order, checked on the sources: every `#include "..."` of a library
// folder names a header of its own folder or of a folder it may use. A lower layer that
// includes a higher one fails here with the file, the line and the rule it breaks.
//
//   autograd < nn < distributed < asr/config, asr/data, asr/model < asr/eval
//            < asr/train, asr/convert < bin
//
// Inside the middle tiers: data uses config (and distributed's sampler); model uses neither
// config nor data; eval uses data and model; train and convert use eval (validation and
// conversion quality decode through it) and never each other.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

using Rules = std::map<std::string, std::set<std::string>>;  // folder -> folders it may include

// The declared order: each library folder and every folder it may include besides itself.
const Rules& declared_rules() {
  static const Rules rules = [] {
    Rules r;
    r["autograd"] = {};
    r["nn"] = {"autograd"};
    r["distributed"] = {"autograd", "nn"};
    r["asr/config"] = {"autograd", "nn"};
    r["asr/model"] = {"autograd", "nn"};
    r["asr/data"] = {"autograd", "nn", "distributed", "asr/config"};
    r["asr/eval"] = {"autograd", "nn", "distributed", "asr/config", "asr/data", "asr/model"};
    r["asr/train"] = r["asr/eval"];
    r["asr/train"].insert("asr/eval");
    r["asr/convert"] = r["asr/train"];
    for (const auto& [folder, _] : r) r["bin"].insert(folder);
    return r;
  }();
  return rules;
}

// The folder (a key of `rules`) that a repository-relative path belongs to: the longest key
// that is a prefix of it, or "" when none is.
std::string folder_of(const std::string& path, const Rules& rules) {
  std::string best;
  for (const auto& [folder, _] : rules)
    if (path.rfind(folder + "/", 0) == 0 && folder.size() > best.size()) best = folder;
  return best;
}

bool is_source(const fs::path& p) {
  const std::string ext = p.extension().string();
  return ext == ".h" || ext == ".cpp" || ext == ".cu" || ext == ".cuh";
}

// Every broken rule under `root`, one line each: "file:line: includes X: <folder> may not
// include <folder>". A quoted include of a project folder (autograd/, nn/, distributed/,
// asr/) outside any declared library folder is reported too, as is a source file that sits in
// asr/ itself rather than in one of its libraries.
std::vector<std::string> violations(const fs::path& root, const Rules& rules) {
  std::vector<std::string> out;
  const std::regex include_re(R"re(^\s*#\s*include\s+"([^"]+)")re");
  const std::set<std::string> project_tops = {"autograd", "nn", "distributed", "asr", "bin"};
  for (const auto& [folder, allowed] : rules) {
    const fs::path dir = root / folder;
    if (!fs::is_directory(dir)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (!entry.is_regular_file() || !is_source(entry.path())) continue;
      const std::string rel = fs::relative(entry.path(), root).generic_string();
      if (folder_of(rel, rules) != folder) continue;  // a nested library folder checks it
      std::ifstream in(entry.path());
      std::string line;
      for (int n = 1; std::getline(in, line); ++n) {
        std::smatch m;
        if (!std::regex_search(line, m, include_re)) continue;
        const std::string inc = m[1].str();
        const std::string top = inc.substr(0, inc.find('/'));
        if (inc.find('/') == std::string::npos || !project_tops.count(top)) continue;
        const std::string target = folder_of(inc, rules);
        std::ostringstream msg;
        msg << rel << ":" << n << ": includes " << inc << ": ";
        if (target.empty())
          out.push_back(msg.str() + "not in any library folder of the declared order");
        else if (target != folder && !allowed.count(target))
          out.push_back(msg.str() + folder + " may not include " + target);
      }
    }
  }
  if (fs::is_directory(root / "asr"))
    for (const auto& entry : fs::directory_iterator(root / "asr"))
      if (entry.is_regular_file() && is_source(entry.path()))
        out.push_back(fs::relative(entry.path(), root).generic_string() +
                      ": sits in asr/ itself, not in one of its library folders");
  return out;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_library_folder_exists_and_holds_sources) {
  const fs::path root = LATENTASR_SOURCE_DIR;
  for (const auto& [folder, _] : declared_rules()) {
    BOOST_TEST_CONTEXT(folder) {
      BOOST_TEST(fs::is_directory(root / folder));
      int sources = 0;
      for (const auto& e : fs::recursive_directory_iterator(root / folder))
        sources += e.is_regular_file() && is_source(e.path());
      BOOST_TEST(sources > 0);
    }
  }
}

BOOST_AUTO_TEST_CASE(the_tree_follows_the_declared_order) {
  const std::vector<std::string> found = violations(LATENTASR_SOURCE_DIR, declared_rules());
  BOOST_TEST(found.empty(), "includes against the layer order:\n" << joined(found));
}

BOOST_AUTO_TEST_CASE(the_check_catches_upward_includes) {
  const fs::path root =
      fs::temp_directory_path() / ("latentasr_layering_" + std::to_string(::getpid()));
  fs::remove_all(root);
  write(root / "nn/ok.h", "#include \"autograd/tensor.h\"\n#include <vector>\n");
  write(root / "asr/data/loader.cpp",
        "#include \"asr/data/loader.h\"\n#include \"asr/config/config.h\"\n"
        "  #  include \"asr/train/trainer.h\"\n");
  write(root / "asr/model/ctc_model.h", "#include \"asr/eval/wer.h\"\n");
  write(root / "autograd/tensor.cpp", "#include \"nn/module.h\"\n");
  write(root / "asr/eval/wer.cpp", "#include \"asr/wer.h\"\n");
  write(root / "asr/flat.cpp", "\n");
  const std::vector<std::string> found = violations(root, declared_rules());
  fs::remove_all(root);
  const std::string all = joined(found);
  BOOST_TEST_MESSAGE(all);
  BOOST_TEST(found.size() == 5u);
  BOOST_TEST(all.find("asr/data/loader.cpp:3: includes asr/train/trainer.h: asr/data may not "
                      "include asr/train") != std::string::npos);
  BOOST_TEST(all.find("asr/model/ctc_model.h:1: includes asr/eval/wer.h: asr/model may not "
                      "include asr/eval") != std::string::npos);
  BOOST_TEST(all.find("autograd/tensor.cpp:1: includes nn/module.h: autograd may not include nn") !=
             std::string::npos);
  BOOST_TEST(all.find("asr/eval/wer.cpp:1: includes asr/wer.h: not in any library folder") !=
             std::string::npos);
  BOOST_TEST(all.find("asr/flat.cpp: sits in asr/ itself") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(train_and_convert_stay_apart) {
  const Rules& r = declared_rules();
  BOOST_TEST(!r.at("asr/train").count("asr/convert"));
  BOOST_TEST(!r.at("asr/convert").count("asr/train"));
  BOOST_TEST(!r.at("asr/data").count("asr/model"));
  BOOST_TEST(!r.at("asr/model").count("asr/data"));
}
