// The background loader on AN4 utterances: the same batches whatever the number of workers,
// per-epoch order, the frame budget on real features, plain features in eval mode, CMVN, every
// kind of bad utterance skipped and counted once, and clean early stops.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <set>

#include "asr/data/audio.h"
#include "asr/data/char_tokenizer.h"
#include "asr/data/loader.h"
#include "asr/data/corpus_testing.h"

using namespace asr;
using namespace testing;

namespace {

const CharTokenizer& chars() {
  static CharTokenizer tok(CharTokenizer::default_pieces(), "test");
  return tok;
}

// The first n AN4 dev utterances.
std::vector<Utterance> an4_dev(size_t n) {
  SkipCounts skips;
  std::vector<Utterance> utts = read_librispeech((an4_dir() / "dev").string(), skips);
  utts.resize(n);
  return utts;
}

DataConfig config(int64_t workers, int64_t batch_frames = 1500) {
  DataConfig c;
  c.num_workers = workers;
  c.batch_frames = batch_frames;
  c.max_frames = batch_frames;
  c.cmvn = false;
  return c;
}

std::vector<Batch> epoch(Loader& loader, int64_t e) {
  loader.start_epoch(e);
  std::vector<Batch> out;
  while (auto b = loader.next()) out.push_back(std::move(*b));
  return out;
}

void check_same(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  BOOST_REQUIRE_EQUAL(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    BOOST_REQUIRE(a[i].keys == b[i].keys);
    BOOST_REQUIRE(a[i].lengths == b[i].lengths);
    BOOST_REQUIRE(a[i].targets == b[i].targets);
    BOOST_REQUIRE(a[i].feats.to_vector() == b[i].feats.to_vector());
  }
}

std::vector<std::string> keys_of(const std::vector<Batch>& batches) {
  std::vector<std::string> keys;
  for (const Batch& b : batches) keys.insert(keys.end(), b.keys.begin(), b.keys.end());
  return keys;
}

}  // namespace

BOOST_AUTO_TEST_CASE(same_batches_whatever_the_workers) {
  std::vector<Utterance> utts = an4_dev(12);
  Loader serial(utts, chars(), std::nullopt, config(0), true, 7);
  Loader one(utts, chars(), std::nullopt, config(1), true, 7);
  Loader three(utts, chars(), std::nullopt, config(3), true, 7);
  BOOST_CHECK_EQUAL(serial.num_planned(), 36u);  // 0.9, 1.0 and 1.1 copies
  std::vector<Batch> e0 = epoch(serial, 0), e1 = epoch(serial, 1);
  check_same(e0, epoch(one, 0));
  check_same(e0, epoch(three, 0));
  check_same(e1, epoch(three, 1));
  check_same(e0, epoch(three, 0));  // an epoch can be read again
  // Every utterance copy once per epoch, in another order each epoch.
  std::vector<std::string> k0 = keys_of(e0), k1 = keys_of(e1);
  BOOST_CHECK_EQUAL(k0.size(), 36u);
  BOOST_CHECK_EQUAL(std::set<std::string>(k0.begin(), k0.end()).size(), 36u);
  BOOST_CHECK(std::set<std::string>(k0.begin(), k0.end()) ==
              std::set<std::string>(k1.begin(), k1.end()));
  BOOST_CHECK(k0 != k1);
  BOOST_CHECK(
      std::count_if(k0.begin(), k0.end(), [](auto& k) { return k.rfind("sp0.9-", 0) == 0; }) == 12);
  // SpecAugment differs between epochs: the same utterance copy gets other masks.
  auto feats_of = [](const std::vector<Batch>& bs, const std::string& key) {
    for (const Batch& b : bs)
      for (int64_t i = 0; i < b.size(); ++i)
        if (b.keys[i] == key) {
          std::vector<float> all = b.feats.to_vector();
          int64_t t = b.feats.size(1), f = b.feats.size(2);
          return std::vector<float>(all.begin() + i * t * f,
                                    all.begin() + (i * t + b.lengths[i]) * f);
        }
    return std::vector<float>();
  };
  BOOST_CHECK(feats_of(e0, utts[0].key) != feats_of(e1, utts[0].key));
  BOOST_CHECK_EQUAL(serial.skips().total(), 0);
}

BOOST_AUTO_TEST_CASE(real_batches_keep_the_frame_budget) {
  std::vector<Utterance> utts = an4_dev(20);
  DataConfig c = config(2, 1000);
  Loader loader(utts, chars(), std::nullopt, c, true, 1);
  int64_t delivered = 0;
  for (const Batch& b : epoch(loader, 0)) {
    int64_t t = b.feats.size(1);
    BOOST_CHECK_EQUAL(t, *std::max_element(b.lengths.begin(), b.lengths.end()));
    BOOST_CHECK(b.size() == 1 || b.size() * t <= c.batch_frames);
    BOOST_CHECK_EQUAL(b.feats.size(2), 80);
    std::vector<float> v = b.feats.to_vector();
    for (int64_t i = 0; i < b.size(); ++i) {
      for (int64_t j = b.lengths[i] * 80; j < t * 80; ++j)
        BOOST_REQUIRE_EQUAL(v[i * t * 80 + j], 0.0f);
      BOOST_CHECK_GE(b.lengths[i], c.min_frames);
      BOOST_CHECK_LE(b.lengths[i], c.max_frames);
    }
    delivered += b.size();
  }
  BOOST_CHECK_EQUAL(delivered + loader.skips().total(), 60);
}

BOOST_AUTO_TEST_CASE(eval_mode_gives_plain_features_shortest_first) {
  std::vector<Utterance> utts = an4_dev(10);
  Loader loader(utts, chars(), std::nullopt, config(2), false, 1);
  BOOST_CHECK_EQUAL(loader.num_planned(), 10u);
  std::vector<Batch> batches = epoch(loader, 0);
  Fbank fbank;
  int64_t prev = 0, seen = 0;
  for (const Batch& b : batches) {
    BOOST_CHECK_GE(b.lengths.front(), prev);
    prev = b.lengths.back();
    std::vector<float> v = b.feats.to_vector();
    int64_t t = b.feats.size(1);
    for (int64_t i = 0; i < b.size(); ++i, ++seen) {
      auto u = std::find_if(utts.begin(), utts.end(), [&](auto& x) { return x.key == b.keys[i]; });
      BOOST_REQUIRE(u != utts.end());
      BOOST_CHECK_EQUAL(b.texts[i], u->text);
      BOOST_CHECK(b.targets[i] == chars().encode(u->text));
      std::vector<float> want = fbank.compute(read_audio(u->audio)).to_vector();
      BOOST_REQUIRE_EQUAL(b.lengths[i] * 80, static_cast<int64_t>(want.size()));
      BOOST_CHECK(std::equal(want.begin(), want.end(), v.begin() + i * t * 80));
    }
  }
  BOOST_CHECK_EQUAL(seen, 10);
}

BOOST_AUTO_TEST_CASE(cmvn_normalizes_the_features) {
  std::vector<Utterance> utts = an4_dev(10);
  Fbank fbank;
  Cmvn cmvn;
  for (const Utterance& u : utts) cmvn.add(fbank.compute(read_audio(u.audio)));
  DataConfig c = config(1);
  BOOST_CHECK_THROW(Loader(utts, chars(), cmvn, c, false, 1), ag::Error);  // c.cmvn is false
  c.cmvn = true;
  BOOST_CHECK_THROW(Loader(utts, chars(), std::nullopt, c, false, 1), ag::Error);
  Loader loader(utts, chars(), cmvn, c, false, 1);
  std::vector<double> sum(80), sum_sq(80);
  int64_t frames = 0;
  for (const Batch& b : epoch(loader, 0)) {
    std::vector<float> v = b.feats.to_vector();
    int64_t t = b.feats.size(1);
    for (int64_t i = 0; i < b.size(); ++i)
      for (int64_t j = 0; j < b.lengths[i]; ++j, ++frames)
        for (int64_t f = 0; f < 80; ++f) {
          double x = v[(i * t + j) * 80 + f];
          sum[f] += x;
          sum_sq[f] += x * x;
        }
  }
  BOOST_CHECK_EQUAL(frames, cmvn.frames());
  for (int64_t f = 0; f < 80; ++f) {
    BOOST_CHECK_SMALL(sum[f] / frames, 1e-3);
    BOOST_CHECK_CLOSE(sum_sq[f] / frames, 1.0, 0.5);
  }
}

BOOST_AUTO_TEST_CASE(bad_utterances_are_skipped_and_counted_once) {
  TempDir tmp("loader_bad");
  std::vector<short> pcm = read_pcm(an4_flac("dev", "1001-1-0251"));
  const double secs = pcm.size() / 16000.0;
  write_pcm(tmp.path / "good.wav", pcm);
  write_pcm(tmp.path / "short.wav", std::vector<short>(800, 100));  // 0.05 s: 3 frames
  write_text(tmp.path / "garbage.flac", "this is not audio");
  write_pcm(tmp.path / "truncated.wav", pcm);
  fs::resize_file(tmp.path / "truncated.wav", 1000);
  write_pcm(tmp.path / "vanishes.wav", pcm);
  auto u = [&](std::string key, std::string file, std::string text, double duration,
               double start = 0, double end = -1) {
    return Utterance{key, (tmp.path / file).string(), text, start, end, duration};
  };
  std::vector<Utterance> utts = {
      u("good", "good.wav", "YES", secs),
      u("good_unknown_length", "good.wav", "YES", 0),  // duration from the header
      u("missing_planned", "nope.wav", "YES", 0),      // found missing when planning
      u("missing_loaded", "nope.wav", "YES", 2.0),     // found missing when loading
      u("vanishes", "vanishes.wav", "YES", secs),      // deleted after planning
      u("garbage_planned", "garbage.flac", "YES", 0),  // header unreadable when planning
      u("garbage_loaded", "garbage.flac", "YES", 2.0),
      u("truncated", "truncated.wav", "YES", secs),
      u("outside", "good.wav", "YES", 1.0, 100.0, 101.0),  // segment past the end
      u("empty", "good.wav", "", secs),
      u("blank", "good.wav", "   ", secs),
      u("digits", "good.wav", "ROOM 101", secs),
      u("accent", "good.wav", "CAF\xC3\x89", secs),
      u("short_planned", "short.wav", "YES", 0.05),
      u("short_loaded", "short.wav", "YES", 2.0),  // duration wrong in the manifest
  };
  for (int64_t workers : {0, 2}) {
    Loader loader(utts, chars(), std::nullopt, config(workers), false, 1);
    fs::copy_file(tmp.path / "vanishes.wav", tmp.path / "kept.wav",
                  fs::copy_options::overwrite_existing);
    fs::remove(tmp.path / "vanishes.wav");
    for (int64_t e : {0, 1}) {
      std::vector<std::string> keys = keys_of(epoch(loader, e));
      std::sort(keys.begin(), keys.end());
      BOOST_CHECK(keys == (std::vector<std::string>{"good", "good_unknown_length"}));
      SkipCounts s = loader.skips();
      BOOST_CHECK_EQUAL(s.count(SkipReason::missing_audio), 3);
      BOOST_CHECK_EQUAL(s.count(SkipReason::bad_audio), 4);
      BOOST_CHECK_EQUAL(s.count(SkipReason::empty_transcript), 2);
      BOOST_CHECK_EQUAL(s.count(SkipReason::unknown_character), 2);
      BOOST_CHECK_EQUAL(s.count(SkipReason::too_short), 2);
      BOOST_CHECK_EQUAL(s.total(), 13);
      BOOST_CHECK(s.summary().find("digits") != std::string::npos);
    }
    fs::rename(tmp.path / "kept.wav", tmp.path / "vanishes.wav");
  }
}

BOOST_AUTO_TEST_CASE(train_mode_skips_by_length) {
  std::vector<Utterance> utts = an4_dev(20);
  DataConfig c = config(0, 5000);
  c.speed_perturb = false;
  c.min_frames = 150;
  c.max_frames = 300;
  Fbank fbank;
  int64_t below = 0, above = 0;
  for (const Utterance& u : utts) {
    int64_t t = fbank.num_frames(std::llround(u.duration * 16000));
    below += t < 150;
    above += t > 300;
  }
  BOOST_REQUIRE_GT(below, 0);
  BOOST_REQUIRE_GT(above, 0);
  Loader loader(utts, chars(), std::nullopt, c, true, 1);
  SkipCounts s = loader.skips();
  BOOST_CHECK_EQUAL(s.count(SkipReason::below_min_frames), below);
  BOOST_CHECK_EQUAL(s.count(SkipReason::above_max_frames), above);
  BOOST_CHECK_EQUAL(loader.num_planned() - s.total(), 20u - below - above);
}

BOOST_AUTO_TEST_CASE(early_stops_and_restarts_do_not_hang) {
  std::vector<Utterance> utts = an4_dev(12);
  Loader reference(utts, chars(), std::nullopt, config(0, 600), true, 3);
  std::vector<Batch> want = epoch(reference, 1);
  {
    Loader loader(utts, chars(), std::nullopt, config(3, 600), true, 3);
    BOOST_CHECK_THROW(loader.next(), ag::Error);  // no epoch started
    loader.start_epoch(0);
    BOOST_REQUIRE(loader.next());
    loader.start_epoch(1);  // abandons epoch 0 with workers busy
    std::optional<Batch> first = loader.next();
    BOOST_REQUIRE(first);
    check_same({*first}, {want[0]});
    loader.start_epoch(2);
  }  // destroyed with an epoch in flight
  { Loader idle(utts, chars(), std::nullopt, config(2), true, 3); }  // never started
  Loader empty({}, chars(), std::nullopt, config(2), true, 3);
  empty.start_epoch(0);
  BOOST_CHECK(!empty.next());
}
