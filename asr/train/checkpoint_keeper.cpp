#include "asr/train/checkpoint_keeper.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <regex>
#include <set>
#include <utility>

#include "asr/model/checkpoint.h"
#include "nn/safetensors.h"

namespace asr {

std::vector<CheckpointRecord> CheckpointKeeper::best(int64_t n) const {
  std::vector<CheckpointRecord> v;
  for (const auto& r : kept_)
    if (r.dev_wer >= 0) v.push_back(r);
  auto key = [this](const CheckpointRecord& r) {
    return by_ == BestBy::kWer ? std::pair(r.dev_wer, r.dev_loss) : std::pair(r.dev_loss, r.dev_wer);
  };
  std::stable_sort(v.begin(), v.end(),
                   [&](const CheckpointRecord& a, const CheckpointRecord& b) { return key(a) < key(b); });
  if (static_cast<int64_t>(v.size()) > n) v.resize(static_cast<size_t>(std::max<int64_t>(n, 0)));
  return v;
}

void CheckpointKeeper::add(const CheckpointRecord& r) {
  kept_.erase(std::remove_if(kept_.begin(), kept_.end(),
                             [&](const CheckpointRecord& k) { return k.step == r.step; }),
              kept_.end());
  kept_.push_back(r);
  std::set<int64_t> keep = {r.step};  // the newest: what a resume starts from
  int64_t validated = 0;
  for (auto k = kept_.rbegin(); k != kept_.rend() && validated < keep_last_; ++k)
    if (k->dev_wer >= 0) {
      keep.insert(k->step);
      ++validated;
    }
  for (const auto& b : best(keep_best_)) keep.insert(b.step);
  std::vector<CheckpointRecord> still;
  for (const auto& k : kept_) {
    if (keep.count(k.step)) {
      still.push_back(k);
    } else {
      std::filesystem::remove(k.path);
      std::filesystem::remove(optimizer_path(k.path));
    }
  }
  kept_ = std::move(still);
}

void CheckpointKeeper::save(const std::string& dir) const {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& r : kept_)
    j.push_back({{"step", r.step}, {"path", r.path}, {"dev_wer", r.dev_wer}, {"dev_loss", r.dev_loss}});
  nn::write_file_atomic(dir + "/checkpoints.json", j.dump(1) + "\n");
}

void CheckpointKeeper::load(const std::string& dir) {
  kept_.clear();
  const std::string file = dir + "/checkpoints.json";
  std::ifstream in(file);
  if (!in) return;
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  AG_CHECK(j.is_array(), file, " is not a JSON array");
  for (size_t i = 0; i < j.size(); ++i) {
    const nlohmann::json& e = j[i];
    AG_CHECK(e.is_object(), file, ": record ", i, " is not a JSON object");
    AG_CHECK(!e.contains("step") || e.at("step").is_number_integer(), file, ": record ", i,
             ": \"step\" is not an integer");
    AG_CHECK(!e.contains("path") || e.at("path").is_string(), file, ": record ", i,
             ": \"path\" is not a string");
    for (const char* key : {"dev_wer", "dev_loss"})
      AG_CHECK(!e.contains(key) || e.at(key).is_number(), file, ": record ", i, ": \"", key,
               "\" is not a number");
    if (std::filesystem::exists(e.value("path", "")))
      kept_.push_back({e.value("step", int64_t{0}), e.value("path", ""), e.value("dev_wer", -1.0),
                       e.value("dev_loss", 0.0)});
  }
}

std::vector<std::string> checkpoints_newest_first(const std::string& dir) {
  std::vector<std::pair<int64_t, std::string>> found;
  const std::regex pattern("step_([0-9]+)\\.safetensors");
  if (!std::filesystem::exists(dir)) return {};
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::smatch m;
    const std::string name = e.path().filename().string();
    if (std::regex_match(name, m, pattern)) found.emplace_back(std::stoll(m[1]), e.path().string());
  }
  std::sort(found.begin(), found.end(), std::greater<>());
  std::vector<std::string> paths;
  for (auto& [step, path] : found) paths.push_back(std::move(path));
  return paths;
}

std::string latest_checkpoint(const std::string& dir) {
  std::vector<std::string> all = checkpoints_newest_first(dir);
  return all.empty() ? "" : all.front();
}

std::optional<FoundCheckpoint> newest_complete_checkpoint(const std::string& dir, std::ostream& log) {
  for (const std::string& path : checkpoints_newest_first(dir)) {
    try {
      AG_CHECK(std::filesystem::exists(optimizer_path(path)), optimizer_path(path), " is missing");
      return FoundCheckpoint{path, read_checkpoint(path)};
    } catch (const ag::Error& e) {
      log << "resume: passing over " << path << " (" << e.what() << "): moved aside to "
          << path << ".damaged\n";
      for (const std::string& file : {path, optimizer_path(path)})
        if (std::filesystem::exists(file)) std::filesystem::rename(file, file + ".damaged");
    }
  }
  return std::nullopt;
}

}  // namespace asr
