// The model built from every shipped config (CTC-only and hybrid): names, parameter counts,
// output shapes.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>

#include "asr/config/config.h"
#include "asr/model/asr_model.h"
#include "common/gradcheck.h"

using namespace ag;

BOOST_AUTO_TEST_CASE(model_from_every_shipped_config) {
  namespace fs = std::filesystem;
  int count = 0;
  const fs::path recipes = fs::path(LATENTASR_SOURCE_DIR) / "recipes";
  std::vector<fs::path> configs;
  for (const char* conf : {"librispeech_100/conf", "tedlium2/conf"})
    for (const auto& entry : fs::directory_iterator(recipes / conf))
      if (entry.path().extension() == ".yaml") configs.push_back(entry.path());
  for (const fs::path& path : configs) {
    BOOST_TEST_CONTEXT(path.filename()) {
      // Shrunk to 2 layers so the test stays fast; the sizes per layer are the config's.
      asr::Config c = asr::load_config(path.string(), {"model.num_layers=2"});
      asr::AsrModel model(c.model, 30, c.hybrid.decoder_config());
      auto params = model.named_parameters();
      BOOST_CHECK_EQUAL(params.front().first, "encoder.embed.conv.0.weight");
      BOOST_CHECK_EQUAL(params.back().first, "ctc.ctc_lo.bias");
      BOOST_CHECK_EQUAL(model.ctc->num_parameters(), c.model.d_model * 30 + 30);
      const int64_t decoder = model.hybrid() ? model.decoder->num_parameters() : 0;
      BOOST_CHECK_EQUAL(model.hybrid(), c.hybrid.decoder == "transformer");
      BOOST_CHECK_EQUAL(model.num_parameters(), model.encoder->num_parameters() + decoder +
                                                    model.ctc->num_parameters());
      // The decoder's output covers the CTC ids and <sos/eos>.
      if (model.hybrid()) BOOST_CHECK_EQUAL(model.decoder->output_layer->weight.size(0), 31);
      model.eval();
      Tensor feats = normal({2, 40, c.model.input_dim});
      asr::CtcOutput out = model.forward(feats, {40, 31});
      BOOST_CHECK(out.log_probs.shape() == (Shape{2, 9, 30}));
      BOOST_CHECK(out.lengths == (std::vector<int64_t>{9, 7}));  // ((T-1)/2-1)/2
      // log_softmax rows are normalized
      std::vector<float> v = out.log_probs.to_vector();
      double total = 0;
      for (int k = 0; k < 30; ++k) total += std::exp(v[k]);
      BOOST_CHECK_CLOSE(total, 1.0, 1e-3);
      ++count;
    }
  }
  // five attention types per recipe, libri_mp3.yaml, libri_mp3_hybrid.yaml and
  // libri_mp3_stream.yaml
  BOOST_CHECK_EQUAL(count, 13);
}

BOOST_AUTO_TEST_CASE(vocab_without_tokens_is_refused) {
  testing::check_error([] { asr::AsrModel(nn::EncoderConfig(), 1); },
                       "vocab_size 1 leaves no token besides the blank");
}
