// The config's keys as one table: each dotted key bound to the Config member it sets, with the
// allowed values of enum keys. Reading, writing, overrides, equality and the docs test all
// walk this table, so a key exists in exactly one place.
#pragma once
#include <array>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "asr/config/config.h"

namespace asr {

using FloatPair = std::array<float, 2>;
using IntList = std::vector<int64_t>;
using StringList = std::vector<std::string>;

struct ConfigField {
  std::string key;  // "model.attention_kwargs.latent_dim"
  std::variant<int64_t*, float*, bool*, std::string*, FloatPair*, IntList*, StringList*> value;
  std::vector<std::string> choices;  // enum keys: the allowed values; empty: any string
};

// In file order. The pointers point into c.
std::vector<ConfigField> config_fields(Config& c);

// Where each key's value came from, appended to messages: " (line 7)" or
// " (override 'optim.lr=1e-3')". Keys left at their defaults are absent.
using KeyOrigins = std::map<std::string, std::string>;

// validate(), with each message naming where the offending key was set.
void validate(const Config& c, const std::string& source_name, const KeyOrigins& origins);

// Copies d_model and the positional encoding into model.attention, as the schema defines them.
void sync_attention(nn::EncoderConfig& model);
// Copies d_model into the decoder's config and attentions (absolute positions) and the
// decoder's num_heads into its src_attention, as the schema defines them.
void sync_decoder(Config& c);

}  // namespace asr
