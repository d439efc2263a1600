// [mpirun -np N] asr-train --config C --output-dir D [--init CKPT] [--resume] [--max-steps N] [--dry-run]
//           [--set section.key=value ...]
#include <CLI/CLI.hpp>
#include <iostream>

#include "asr/train/trainer.h"
#include "distributed/launch.h"

int main(int argc, char** argv) {
  CLI::App app{"Trains a CTC speech recognizer from a YAML config."};
  asr::TrainOptions o;
  app.add_option("--config", o.config, "YAML experiment config")->required()->check(CLI::ExistingFile);
  app.add_option("--output-dir", o.output_dir, "experiment folder (checkpoints, metrics, curves)");
  app.add_option("--init", o.init, "checkpoint whose matching parameters start the model")
      ->check(CLI::ExistingFile);
  app.add_flag("--resume", o.resume, "continue from the newest checkpoint in --output-dir");
  app.add_option("--max-steps", o.max_steps, "stop after N optimizer steps (with a checkpoint)");
  app.add_flag("--dry-run", o.dry_run, "build the model, print its sizes and KV-cache bytes, stop");
  app.add_option("--set", o.overrides, "override a config key, e.g. --set optim.lr=1e-3");
  CLI11_PARSE(app, argc, argv);
  if (!o.dry_run && o.output_dir.empty()) {
    std::cerr << "asr-train: --output-dir is required\n";
    return 2;
  }
  // Under mpirun an error on any rank ends the whole job with that rank's message.
  return dist::run_guarded("asr-train", [&] { return asr::train(o); });
}
