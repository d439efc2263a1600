#include "asr/train/optim_factory.h"

namespace asr {

std::unique_ptr<nn::Optimizer> make_optimizer(const OptimConfig& c, nn::NamedTensors params) {
  if (c.type == "sgd")
    return std::make_unique<nn::SGD>(std::move(params), c.lr, c.momentum, c.weight_decay,
                                     c.nesterov);
  if (c.type == "adam" || c.type == "adamw")
    return std::make_unique<nn::Adam>(std::move(params), c.lr, c.betas[0], c.betas[1], c.eps,
                                      c.weight_decay, c.type == "adamw");
  throw ConfigError("config: 'optim.type' must be one of adam, adamw, sgd; got '" + c.type + "'");
}

std::unique_ptr<nn::Schedule> make_schedule(const Config& c) {
  const ScheduleConfig& s = c.schedule;
  float lr = c.optim.lr;
  if (s.type == "warmuplr") return std::make_unique<nn::WarmupLR>(lr, s.warmup_steps);
  if (s.type == "noam") return std::make_unique<nn::NoamLR>(lr, c.model.d_model, s.warmup_steps);
  if (s.type == "cosine")
    return std::make_unique<nn::CosineLR>(lr, s.warmup_steps, s.total_steps, s.min_lr);
  if (s.type == "constant") return std::make_unique<nn::ConstantLR>(lr);
  throw ConfigError("config: 'schedule.type' must be one of warmuplr, noam, cosine, constant; "
                    "got '" + s.type + "'");
}

}  // namespace asr
