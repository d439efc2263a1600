#include "asr/train/freeze.h"

#include <fnmatch.h>

namespace asr {

namespace {

bool any_match(const std::vector<std::string>& patterns, const std::string& name) {
  for (const auto& p : patterns)
    if (matches_param(p, name)) return true;
  return false;
}

void check_each_matches(const std::vector<std::string>& patterns, const char* key,
                        const nn::NamedTensors& params) {
  for (const auto& p : patterns) {
    bool found = false;
    for (const auto& entry : params) found = found || matches_param(p, entry.first);
    AG_CHECK(found, key, ": pattern '", p, "' matches no parameter of the model (names such as '",
             params.empty() ? "" : params.front().first, "')");
  }
}

}  // namespace

bool matches_param(const std::string& pattern, const std::string& name) {
  return fnmatch(pattern.c_str(), name.c_str(), 0) == 0 ||
         fnmatch((pattern + ".*").c_str(), name.c_str(), 0) == 0;
}

nn::NamedTensors trainable_parameters(const nn::NamedTensors& params, const TrainConfig& c) {
  check_each_matches(c.trainable_param, "train.trainable_param", params);
  check_each_matches(c.freeze_param, "train.freeze_param", params);
  nn::NamedTensors trained;
  for (const auto& [name, t] : params) {
    const bool trains = (c.trainable_param.empty() || any_match(c.trainable_param, name)) &&
                        !any_match(c.freeze_param, name);
    ag::Tensor handle = t;
    handle.set_requires_grad(trains);
    if (trains) trained.emplace_back(name, t);
  }
  AG_CHECK(!trained.empty(), "train.trainable_param and train.freeze_param leave no parameter ",
           "to train");
  return trained;
}

}  // namespace asr
