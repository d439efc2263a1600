// asr-train as a library: builds model and data from a config, trains with gradient
// accumulation, validates, keeps checkpoints, averages the best, and can resume exactly.
#pragma once
#include <string>
#include <vector>

namespace asr {

enum class Resume {
  no,         // start fresh
  newest,     // --resume: from the newest checkpoint in output_dir; an error when there is none
  automatic,  // --resume auto: from the newest complete one (damaged newer ones are moved
              // aside, saying so), or fresh when there is none: a requeued job's command line
};

struct TrainOptions {
  std::string config;                  // YAML file
  std::vector<std::string> overrides;  // "section.key=value"
  std::string output_dir;
  std::string init;                    // checkpoint whose matching parameters start the model
  Resume resume = Resume::no;
  int64_t max_steps = -1;              // -1: the config's train.max_steps
  bool dry_run = false;                // build the model, print its sizes, stop
};

// Runs training; returns the process exit code (0 done, 128+signal when interrupted after
// writing a checkpoint). Throws ag::Error for bad input (config, data, checkpoint).
int train(const TrainOptions& options);

}  // namespace asr
