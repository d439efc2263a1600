// The optimizer and learning-rate schedule a config asks for.
#pragma once
#include <memory>

#include "asr/config/config.h"
#include "nn/optim.h"
#include "nn/schedule.h"

namespace asr {

// adam: nn::Adam with L2 weight decay (ESPnet's adam); adamw: decoupled weight decay;
// sgd: nn::SGD with momentum / nesterov. Starts at optim.lr; the schedule sets lr per step.
std::unique_ptr<nn::Optimizer> make_optimizer(const OptimConfig& c, nn::NamedTensors params);

// warmuplr: peak optim.lr at warmup_steps; noam: optim.lr scales d_model^-0.5 (model.d_model);
// cosine: linear warmup to optim.lr, cosine decay to min_lr at total_steps; constant: optim.lr.
std::unique_ptr<nn::Schedule> make_schedule(const Config& c);

}  // namespace asr
