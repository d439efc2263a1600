#include "asr/data/manifest.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "nn/safetensors.h"

namespace asr {
namespace fs = std::filesystem;
using nlohmann::json;

void write_manifest(const std::string& path, const std::vector<Utterance>& utts) {
  std::string out;
  for (const Utterance& u : utts) {
    nlohmann::ordered_json j = {{"key", u.key},     {"audio", u.audio}, {"text", u.text},
                                {"start", u.start}, {"end", u.end},     {"duration", u.duration}};
    out += j.dump() + "\n";
  }
  try {
    nn::write_file_atomic(path, out);
  } catch (const ag::Error& e) {
    throw CorpusError(path + ": cannot write the manifest: " + e.what());
  }
}

namespace {

template <class T>
T field(const json& j, const char* name, const std::string& where) {
  auto it = j.find(name);
  if (it == j.end()) throw CorpusError(where + ": missing \"" + name + "\"");
  bool ok = std::is_same_v<T, std::string> ? it->is_string() : it->is_number();
  if (!ok)
    throw CorpusError(where + ": \"" + name + "\" must be a " +
                      (std::is_same_v<T, std::string> ? "string" : "number") + ", got " +
                      it->dump());
  return it->get<T>();
}

Utterance parse_line(const std::string& line, const fs::path& folder, const std::string& where) {
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw CorpusError(where + ": not a JSON object");
  Utterance u;
  u.key = field<std::string>(j, "key", where);
  u.audio = field<std::string>(j, "audio", where);
  u.text = field<std::string>(j, "text", where);
  u.start = field<double>(j, "start", where);
  u.end = field<double>(j, "end", where);
  if (u.key.empty() || u.audio.empty()) throw CorpusError(where + ": empty \"key\" or \"audio\"");
  if (u.start < 0 || (u.end >= 0 && u.end <= u.start))
    throw CorpusError(where + ": bad segment [" + std::to_string(u.start) + ", " +
                      std::to_string(u.end) + ")");
  u.duration = j.contains("duration") ? field<double>(j, "duration", where)
                                      : (u.end >= 0 ? u.end - u.start : 0);
  if (fs::path(u.audio).is_relative()) u.audio = (folder / u.audio).string();
  return u;
}

}  // namespace

std::vector<Utterance> read_manifest(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw CorpusError(path + ": cannot open the manifest");
  fs::path folder = fs::path(path).parent_path();
  std::vector<Utterance> utts;
  std::unordered_map<std::string, int64_t> line_of_key;
  std::string line;
  for (int64_t line_no = 1; std::getline(in, line); ++line_no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::string where = path + ":" + std::to_string(line_no);
    Utterance u = parse_line(line, folder, where);
    auto [it, fresh] = line_of_key.emplace(u.key, line_no);
    if (!fresh)
      throw CorpusError(where + ": key '" + u.key + "' already on line " +
                        std::to_string(it->second));
    utts.push_back(std::move(u));
  }
  if (in.bad()) throw CorpusError(path + ": read error");
  return utts;
}

std::string resolve_manifest(const std::string& name) {
  if (fs::is_regular_file(name)) return name;
  if (fs::is_regular_file(name + ".jsonl")) return name + ".jsonl";
  throw CorpusError(name + ": no such manifest (nor " + name + ".jsonl)");
}

}  // namespace asr
