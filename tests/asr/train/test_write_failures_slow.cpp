// A full disk and an output folder that cannot be made or written (issue #18): asr-train stops
// with one clear line and exit code 1, and leaves no partial file as the newest checkpoint, so
// that --resume auto continues from the last complete one. The full disk is /dev/full standing
// in for the temporary file of the second checkpoint (a symbolic link the writer opens).
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>

#include "asr/train/checkpoint_keeper.h"
#include "asr/train/train_testing.h"
#include "common/run_tool.h"

namespace fs = std::filesystem;
using testing::run_in;
using testing::tool;

BOOST_AUTO_TEST_CASE(a_full_disk_stops_training_and_keeps_the_last_complete_checkpoint) {
  const fs::path root = fs::path(testing::small_an4("disk_full", 12, 4)).parent_path();
  testing::tiny_config((root / "data").string());
  const std::string train = tool("asr-train") + " --config config.yaml --output-dir exp" +
                            " --max-steps 4 --set train.validate_every=2";
  fs::create_directories(root / "exp");
  fs::create_symlink("/dev/full", root / "exp" / "step_4.optim.safetensors.tmp");

  testing::Run full = run_in(root, train);
  BOOST_CHECK_EQUAL(full.rc, 1);
  const std::string expected = "asr-train: cannot write exp/step_4.optim.safetensors.tmp: No space left on device\n";
  BOOST_CHECK_MESSAGE(full.out.size() >= expected.size() &&
                          full.out.compare(full.out.size() - expected.size(), expected.size(), expected) == 0,
                      "asr-train said:\n" << full.out);
  BOOST_CHECK(!fs::exists(root / "exp" / "step_4.safetensors"));
  BOOST_CHECK(!fs::exists(fs::symlink_status(root / "exp" / "step_4.optim.safetensors.tmp")));
  BOOST_CHECK(asr::checkpoints_newest_first((root / "exp").string()) ==
              std::vector<std::string>{(root / "exp" / "step_2.safetensors").string()});

  // Space again: the run continues from step 2 and finishes.
  testing::Run again = run_in(root, train + " --resume auto");
  BOOST_CHECK_EQUAL(again.rc, 0);
  BOOST_CHECK_MESSAGE(again.out.find("resume: exp/step_2.safetensors (step 2,") != std::string::npos, again.out);
  BOOST_CHECK(fs::exists(root / "exp" / "step_4.safetensors"));
  BOOST_CHECK(fs::exists(root / "exp" / "model.avg.safetensors"));
  fs::remove_all(root);
}

BOOST_AUTO_TEST_CASE(an_output_folder_that_cannot_be_made_is_refused_before_training) {
  const fs::path root = fs::path(testing::small_an4("unwritable", 4, 2)).parent_path();
  testing::tiny_config((root / "data").string());
  std::ofstream(root / "a_file") << "not a folder\n";
  testing::Run r = run_in(root, tool("asr-train") + " --config config.yaml --output-dir a_file/exp");
  BOOST_CHECK_EQUAL(r.rc, 1);
  BOOST_CHECK_MESSAGE(r.out.rfind("asr-train: cannot create the output folder a_file/exp", 0) == 0 &&
                          std::count(r.out.begin(), r.out.end(), '\n') == 1,
                      "asr-train said:\n" << r.out);
  fs::remove_all(root);
}

// An existing folder this user may not write in (root may write anywhere: then the run is
// made as the user nobody).
BOOST_AUTO_TEST_CASE(an_output_folder_without_write_permission_is_refused_before_training) {
  const fs::path root = fs::path(testing::small_an4("read_only", 4, 2)).parent_path();
  testing::tiny_config((root / "data").string());
  fs::create_directories(root / "locked");
  fs::permissions(root / "locked", fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write,
                  fs::perm_options::remove);
  const std::string as_user = ::geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
  testing::Run r = run_in(root, as_user + tool("asr-train") + " --config config.yaml --output-dir locked");
  BOOST_CHECK_EQUAL(r.rc, 1);
  BOOST_CHECK_MESSAGE(r.out == "asr-train: cannot write in the output folder locked: Permission denied\n",
                      "asr-train said:\n" << r.out);
  BOOST_CHECK(fs::is_empty(root / "locked"));
  fs::remove_all(root);
}
