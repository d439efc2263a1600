#include "asr/model/checkpoint.h"

#include <cstring>
#include <filesystem>
#include <set>

#include "autograd/ops.h"

namespace asr {
namespace {

// Whether two CPU tensors of one shape and dtype (as read from files) hold the same bytes.
bool same_bytes(const ag::Tensor& a, const ag::Tensor& b) {
  return std::memcmp(a.raw(), b.raw(), static_cast<size_t>(a.numel()) * ag::dtype_size(a.dtype())) == 0;
}

}  // namespace

std::string optimizer_path(const std::string& model_path) {
  const std::string ext = ".safetensors";
  std::string stem = model_path.size() > ext.size() &&
                             model_path.compare(model_path.size() - ext.size(), ext.size(), ext) == 0
                         ? model_path.substr(0, model_path.size() - ext.size())
                         : model_path;
  return stem + ".optim" + ext;
}

void save_model_file(const std::string& path, const nn::Module& model, nn::Metadata metadata,
                     const nn::SafetensorsFile& attached) {
  nn::NamedTensors tensors = model.state_dict();
  std::set<std::string> names;
  for (const auto& [name, t] : tensors) names.insert(name);
  for (const auto& [name, t] : attached.tensors) {
    AG_CHECK(names.insert(name).second, path, ": attached tensor '", name,
             "' has the name of a model tensor");
    tensors.emplace_back(name, t);
  }
  for (const auto& [key, value] : attached.metadata)
    AG_CHECK(metadata.emplace(key, value).second, path, ": attached metadata '", key,
             "' is already set");
  nn::save_safetensors(path, tensors, metadata);
}

std::string save_checkpoint(const std::string& dir, const nn::Module& model,
                            const nn::Optimizer* optimizer, const std::string& config_yaml,
                            const TrainerState& state, const nn::SafetensorsFile& attached) {
  std::filesystem::create_directories(dir);
  std::string path = dir + "/step_" + std::to_string(state.step) + ".safetensors";
  nn::Metadata meta = {{"config", config_yaml},
                       {"step", std::to_string(state.step)},
                       {"epoch", std::to_string(state.epoch)},
                       {"format", "latentasr-ctc-1"}};
  if (state.dev_wer >= 0) meta["dev_wer"] = std::to_string(state.dev_wer);
  // Optimizer first: a model file on disk always has its optimizer file.
  if (optimizer) {
    nn::Metadata om = {{"step", std::to_string(state.step)},
                       {"epoch", std::to_string(state.epoch)},
                       {"batch_in_epoch", std::to_string(state.batch_in_epoch)},
                       {"rng", state.rng},
                       {"dev_loss", std::to_string(state.dev_loss)},
                       {"dev_wer", std::to_string(state.dev_wer)}};
    nn::save_safetensors(optimizer_path(path), optimizer->state(), om);
  }
  save_model_file(path, model, meta, attached);
  return path;
}

LoadedCheckpoint read_checkpoint(const std::string& model_path) {
  LoadedCheckpoint c;
  c.model = nn::load_safetensors(model_path);
  if (auto it = c.model.metadata.find("config"); it != c.model.metadata.end()) c.config_yaml = it->second;
  auto number = [&](const nn::Metadata& m, const char* key, const std::string& file) -> double {
    auto it = m.find(key);
    if (it == m.end()) return 0;
    try {
      return std::stod(it->second);
    } catch (const std::exception&) {
      ag::detail::fail(file, ": metadata '", key, "' is not a number: '", it->second, "'");
    }
  };
  c.state.step = static_cast<int64_t>(number(c.model.metadata, "step", model_path));
  std::string opath = optimizer_path(model_path);
  if (std::filesystem::exists(opath)) {
    nn::SafetensorsFile o = nn::load_safetensors(opath);
    c.optimizer = std::move(o.tensors);
    c.state.step = static_cast<int64_t>(number(o.metadata, "step", opath));
    c.state.epoch = static_cast<int64_t>(number(o.metadata, "epoch", opath));
    c.state.batch_in_epoch = static_cast<int64_t>(number(o.metadata, "batch_in_epoch", opath));
    c.state.dev_loss = number(o.metadata, "dev_loss", opath);
    c.state.dev_wer = number(o.metadata, "dev_wer", opath);
    if (auto it = o.metadata.find("rng"); it != o.metadata.end()) c.state.rng = it->second;
  }
  return c;
}

nn::SafetensorsFile average_checkpoints(const std::vector<std::string>& model_paths) {
  AG_CHECK(!model_paths.empty(), "average_checkpoints: no checkpoints to average");
  nn::SafetensorsFile avg = nn::load_safetensors(model_paths.front());
  const nn::NamedTensors first = avg.tensors;
  std::vector<bool> same(avg.tensors.size(), true);  // equal in every file so far
  for (size_t i = 1; i < model_paths.size(); ++i) {
    nn::SafetensorsFile next = nn::load_safetensors(model_paths[i]);
    AG_CHECK(next.tensors.size() == avg.tensors.size(), "average_checkpoints: ", model_paths[i],
             " has ", next.tensors.size(), " tensors, ", model_paths.front(), " has ",
             avg.tensors.size());
    for (size_t k = 0; k < avg.tensors.size(); ++k) {
      auto& [name, sum] = avg.tensors[k];
      const auto& [other_name, t] = next.tensors[k];
      AG_CHECK(name == other_name && t.shape() == sum.shape() && t.dtype() == sum.dtype(),
               "average_checkpoints: ", model_paths[i], " has '", other_name, "' ",
               ag::shape_str(t.shape()), " where ", model_paths.front(), " has '", name, "' ",
               ag::shape_str(sum.shape()));
      same[k] = same[k] && same_bytes(t, first[k].second);
      sum = sum.dtype() == ag::DType::f32 ? ag::add(sum, t) : t;
    }
    avg.metadata = next.metadata;
  }
  const float scale = 1.0f / static_cast<float>(model_paths.size());
  for (size_t k = 0; k < avg.tensors.size(); ++k) {
    ag::Tensor& t = avg.tensors[k].second;
    if (same[k]) t = first[k].second;
    else if (t.dtype() == ag::DType::f32) t = ag::mul(t, scale);
  }
  avg.metadata["averaged"] = std::to_string(model_paths.size());
  return avg;
}

}  // namespace asr
