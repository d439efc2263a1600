// checkpoints.json (asr/train/checkpoint_keeper): the records of a run's kept checkpoints,
// read back on resuming (a record is kept where its path exists: the seeds name /tmp).
#include "asr/train/checkpoint_keeper.h"
#include "common/scratch.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const testing::Scratch scratch("fuzz_checkpoints_json");
  scratch.write("checkpoints.json", fuzz::text(data, size));
  asr::CheckpointKeeper keeper(2, 2);
  try {
    keeper.load(scratch.dir.string());
    keeper.best(2);
  } catch (const ag::Error&) {
  }
  return 0;
}
