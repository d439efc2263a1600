// Which parameters a run trains (train.trainable_param, train.freeze_param; docs/config.md):
// e.g. only the latent projections of a converted model, the rest frozen.
#pragma once
#include <string>

#include "asr/config/config.h"
#include "nn/module.h"

namespace asr {

// Whether `pattern` (a shell glob: '*' any characters) matches the dotted parameter name
// itself or a prefix of it that ends at a dot, as ESPnet's --freeze_param matches prefixes.
bool matches_param(const std::string& pattern, const std::string& name);

// Of `params`, those that train under c: matching a trainable_param pattern (every one when
// that list is empty) and no freeze_param pattern. The others get requires_grad false, so
// backward computes no gradient for them (buffers such as BatchNorm statistics still update
// in training mode). Throws
// ag::Error naming the key and pattern when a pattern matches no parameter, and when nothing
// is left to train.
nn::NamedTensors trainable_parameters(const nn::NamedTensors& params, const TrainConfig& c);

}  // namespace asr
