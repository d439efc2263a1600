// Reading a config (YAML tree -> keys -> typed values), overrides, writing it back.
#include "asr/config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "asr/config/config_schema.h"

namespace asr {

namespace {

// A key's YAML value and where it was set (a KeyOrigins entry).
struct Entry {
  YAML::Node value;
  std::string origin;
};
using Entries = std::map<std::string, Entry>;

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw ConfigError(source + ": " + what);
}

std::string line_of(const YAML::Mark& mark) {
  return mark.is_null() ? "" : " (line " + std::to_string(mark.line + 1) + ")";
}

class Schema {
 public:
  explicit Schema(Config& c) : fields_(config_fields(c)) {}

  std::vector<ConfigField>& fields() { return fields_; }
  bool is_key(const std::string& key) const {
    for (const auto& f : fields_)
      if (f.key == key) return true;
    return false;
  }
  bool is_section(const std::string& key) const {
    for (const auto& f : fields_)
      if (f.key.starts_with(key + ".")) return true;
    return false;
  }
  // "; did you mean 'optim.lr'?" for a misspelt or misplaced key, else "".
  std::string suggestion(const std::string& key) const {
    std::string leaf = key.substr(key.rfind('.') + 1), best;
    size_t best_distance = 3;
    for (const auto& f : fields_) {
      if (f.key.substr(f.key.rfind('.') + 1) == leaf) return "; did you mean '" + f.key + "'?";
      size_t d = edit_distance(key, f.key);
      if (d < best_distance) best_distance = d, best = f.key;
    }
    return best.empty() ? "" : "; did you mean '" + best + "'?";
  }

 private:
  static size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      size_t diagonal = row[0];
      row[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
        diagonal = up;
      }
    }
    return row[b.size()];
  }

  std::vector<ConfigField> fields_;
};

// Walks a map of the file, checking every key against the schema; leaves go into `out`.
void collect(const YAML::Node& map, const std::string& prefix, const Schema& schema,
             const std::string& source, Entries& out) {
  std::set<std::string> seen;
  for (const auto& item : map) {
    const YAML::Node& name = item.first;
    const YAML::Node& value = item.second;
    std::string where = line_of(name.Mark());
    if (!name.IsScalar()) fail(source, "a key under '" + prefix + "' is not a plain name" + where);
    std::string key = prefix + name.Scalar();
    if (!seen.insert(key).second) fail(source, "duplicate key '" + key + "'" + where);
    if (schema.is_key(key)) {
      out[key] = {value, where};
    } else if (schema.is_section(key)) {
      if (value.IsNull()) continue;
      if (!value.IsMap()) fail(source, "'" + key + "' must be a map of keys" + where);
      collect(value, key + ".", schema, source, out);
    } else {
      fail(source, "unknown key '" + key + "'" + where + schema.suggestion(key));
    }
  }
}

// "section.key=value": the value parsed as YAML (a scalar or a list).
void apply_override(const std::string& text, const Schema& schema, const std::string& source,
                    Entries& out) {
  size_t eq = text.find('=');
  std::string key = text.substr(0, eq);
  if (eq == std::string::npos || key.empty())
    fail(source, "override '" + text + "' is not of the form section.key=value");
  std::string origin = " (override '" + text + "')";
  if (schema.is_section(key))
    fail(source, "'" + key + "' is a section, not a key: override its keys one by one" + origin);
  if (!schema.is_key(key))
    fail(source, "unknown key '" + key + "'" + origin + schema.suggestion(key));
  try {
    out[key] = {YAML::Load(text.substr(eq + 1)), origin};
  } catch (const YAML::Exception& e) {
    fail(source, "the value of '" + key + "' is not valid YAML: " + e.msg + origin);
  }
}

// 'abc', [0.9, x], a map, nothing: a value as the message quotes it.
std::string describe(const YAML::Node& n) {
  if (n.IsScalar()) return "'" + n.Scalar() + "'";
  if (n.IsMap()) return "a map";
  if (!n.IsSequence()) return "nothing";
  std::string items;
  for (const auto& item : n) {
    if (!item.IsScalar()) return "a nested list";
    items += (items.empty() ? "" : ", ") + item.Scalar();
  }
  return "[" + items + "]";
}

// YAML value -> typed value; false when the value has the wrong type.
bool decode(const YAML::Node& n, int64_t& v) {
  if (!n.IsScalar()) return false;
  const std::string& s = n.Scalar();
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size();
}
bool decode(const YAML::Node& n, float& v) {
  if (!n.IsScalar()) return false;
  std::string s = n.Scalar();
  if (s.starts_with('+')) s.erase(0, 1);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size() && std::isfinite(v);
}
bool decode(const YAML::Node& n, bool& v) {
  return n.IsScalar() && YAML::convert<bool>::decode(n, v);
}
// Well-formed UTF-8 without control characters: what a path, name or pattern can be, and what
// to_yaml writes back unchanged (found by fuzz_config: bytes \xff and \x01 in a path did not
// read back equal).
bool printable_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto lead = static_cast<unsigned char>(s[i]);
    if (lead < 0x80) {  // ASCII: no C0 control characters, no DEL
      if (lead < 0x20 || lead == 0x7f) return false;
      ++i;
      continue;
    }
    size_t extra;  // continuation bytes after the lead byte
    if (lead >= 0xc2 && lead <= 0xdf) extra = 1;
    else if (lead >= 0xe0 && lead <= 0xef) extra = 2;
    else if (lead >= 0xf0 && lead <= 0xf4) extra = 3;
    else return false;
    if (s.size() - i <= extra) return false;  // cut short
    uint32_t cp = lead & (0x3fu >> extra);
    for (size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(s[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (next & 0x3fu);
    }
    const uint32_t shortest = extra == 1 ? 0x80 : extra == 2 ? 0x800 : 0x10000;
    if (cp < shortest || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp < 0xa0)
      return false;  // overlong, beyond Unicode, a surrogate, or a C1 control character
    i += extra + 1;
  }
  return true;
}
bool decode(const YAML::Node& n, std::string& v) {
  if (!n.IsScalar() || !printable_utf8(n.Scalar())) return false;
  v = n.Scalar();
  return true;
}
bool decode(const YAML::Node& n, FloatPair& v) {
  return n.IsSequence() && n.size() == 2 && decode(n[0], v[0]) && decode(n[1], v[1]);
}
template <class T>
bool decode(const YAML::Node& n, std::vector<T>& v) {  // IntList, StringList
  if (!n.IsSequence()) return false;
  v.assign(n.size(), T{});
  for (size_t i = 0; i < n.size(); ++i)
    if (!decode(n[i], v[i])) return false;
  return true;
}

const char* type_name(const int64_t*) { return "an integer"; }
const char* type_name(const float*) { return "a finite number"; }
const char* type_name(const bool*) { return "true or false"; }
const char* type_name(const std::string*) { return "a string (printable UTF-8)"; }
const char* type_name(const FloatPair*) { return "a list of 2 numbers"; }
const char* type_name(const IntList*) { return "a list of integers"; }
const char* type_name(const StringList*) { return "a list of strings (printable UTF-8)"; }

// Stores an entry's value into the field, or throws naming the key and the expected type.
void read_field(const ConfigField& field, const Entry& entry, const std::string& source) {
  std::visit(
      [&](auto* v) {
        if (!decode(entry.value, *v))
          fail(source, "'" + field.key + "' must be " + type_name(v) + ", got " +
                           describe(entry.value) + entry.origin);
      },
      field.value);
}

// Shortest text that reads back as the same float.
std::string format_float(float v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

// A flow-style YAML list of the values (IntList, StringList).
template <class T>
YAML::Node list_node(const std::vector<T>& values) {
  YAML::Node list(YAML::NodeType::Sequence);
  for (const T& x : values) list.push_back(x);
  list.SetStyle(YAML::EmitterStyle::Flow);
  return list;
}

YAML::Node to_node(const ConfigField& field) {
  struct Visitor {
    YAML::Node operator()(const int64_t* v) const { return YAML::Node(*v); }
    YAML::Node operator()(const float* v) const { return YAML::Node(format_float(*v)); }
    YAML::Node operator()(const bool* v) const { return YAML::Node(*v); }
    YAML::Node operator()(const std::string* v) const { return YAML::Node(*v); }
    YAML::Node operator()(const FloatPair* v) const {
      YAML::Node list(YAML::NodeType::Sequence);
      for (float x : *v) list.push_back(format_float(x));
      list.SetStyle(YAML::EmitterStyle::Flow);
      return list;
    }
    YAML::Node operator()(const IntList* v) const { return list_node(*v); }
    YAML::Node operator()(const StringList* v) const { return list_node(*v); }
  };
  return std::visit(Visitor{}, field.value);
}

// node[path[0]][path[1]]... = value, creating maps on the way.
void put(YAML::Node node, const std::string& dotted_key, const YAML::Node& value) {
  size_t dot = dotted_key.find('.');
  if (dot == std::string::npos) {
    node[dotted_key] = value;
    return;
  }
  put(node[dotted_key.substr(0, dot)], dotted_key.substr(dot + 1), value);
}

}  // namespace

Config parse_config(const std::string& yaml_text, const std::string& source_name,
                    const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    fail(source_name, "not valid YAML: " + e.msg + line_of(e.mark));
  }
  Config c;
  Schema schema(c);
  Entries entries;
  if (root.IsMap())
    collect(root, "", schema, source_name, entries);
  else if (!root.IsNull())
    fail(source_name, "the top level must be a map of sections (model, data, optim, schedule, train)");
  for (const auto& o : overrides) apply_override(o, schema, source_name, entries);

  KeyOrigins origins;
  for (const auto& field : schema.fields()) {
    auto it = entries.find(field.key);
    if (it == entries.end()) continue;
    read_field(field, it->second, source_name);
    origins[field.key] = it->second.origin;
  }
  sync_attention(c.model);
  sync_decoder(c);
  validate(c, source_name, origins);
  return c;
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!std::filesystem::is_regular_file(path) || !in)
    throw ConfigError(path + ": cannot read the config file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(path + ": error while reading the config file");
  return parse_config(text.str(), path, overrides);
}

std::string to_yaml(const Config& c) {
  Config copy = c;
  YAML::Node root(YAML::NodeType::Map);
  for (const auto& field : config_fields(copy)) put(root, field.key, to_node(field));
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str()) + "\n";
}

bool operator==(const Config& a, const Config& b) {
  Config x = a, y = b;
  std::vector<ConfigField> fx = config_fields(x), fy = config_fields(y);
  for (size_t i = 0; i < fx.size(); ++i) {
    bool same = std::visit(
        [&](auto* p) { return *p == *std::get<decltype(p)>(fy[i].value); }, fx[i].value);
    if (!same) return false;
  }
  return x.model.attention.d_model == y.model.attention.d_model &&
         x.model.attention.relative == y.model.attention.relative;
}

nn::DecoderConfig HybridConfig::default_decoder() {
  nn::DecoderConfig d;  // ESPnet's LibriSpeech-100 decoder_conf: 6 blocks, 4 heads, 2048 units
  for (nn::AttentionConfig* a : {&d.self_attention, &d.src_attention}) {
    a->num_heads = 4;
    a->dropout = 0.1f;
    a->relative = false;
  }
  return d;
}

std::optional<nn::DecoderConfig> HybridConfig::decoder_config() const {
  if (decoder == "none") return std::nullopt;
  return decoder_conf;
}

}  // namespace asr
