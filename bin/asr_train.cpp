// [mpirun -np N] asr-train --config C --output-dir D [--init CKPT] [--resume [auto]] [--max-steps N]
//           [--dry-run] [--set section.key=value ...]
#include <CLI/CLI.hpp>
#include <iostream>

#include "asr/train/trainer.h"
#include "distributed/launch.h"

int main(int argc, char** argv) {
  CLI::App app{"Trains a speech recognizer (CTC, or hybrid CTC/attention with model.decoder) from a YAML config."};
  asr::TrainOptions o;
  std::string resume;
  app.add_option("--config", o.config, "YAML experiment config")->required()->check(CLI::ExistingFile);
  app.add_option("--output-dir", o.output_dir, "experiment folder (checkpoints, metrics, curves)");
  app.add_option("--init", o.init, "checkpoint whose matching parameters start the model")
      ->check(CLI::ExistingFile);
  CLI::Option* resume_opt =
      app.add_option("--resume", resume,
                     "continue from the newest checkpoint in --output-dir (an error when there is "
                     "none); `--resume auto`: from the newest complete one, or start fresh when "
                     "there is none (a requeued job's command line)")
          ->expected(0, 1);
  app.add_option("--max-steps", o.max_steps, "stop after N optimizer steps (with a checkpoint)");
  app.add_flag("--dry-run", o.dry_run, "build the model, print its sizes and KV-cache bytes, stop");
  app.add_option("--set", o.overrides, "override a config key, e.g. --set optim.lr=1e-3");
  CLI11_PARSE(app, argc, argv);
  if (!o.dry_run && o.output_dir.empty()) {
    std::cerr << "asr-train: --output-dir is required\n";
    return 2;
  }
  if (resume_opt->count() > 0) {
    if (!resume.empty() && resume != "auto") {
      std::cerr << "asr-train: --resume takes no value or 'auto', got '" << resume << "'\n";
      return 2;
    }
    o.resume = resume.empty() ? asr::Resume::newest : asr::Resume::automatic;
  }
  // Under mpirun an error on any rank ends the whole job with that rank's message.
  return dist::run_guarded("asr-train", [&] { return asr::train(o); });
}
