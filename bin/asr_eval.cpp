// asr-eval --checkpoint CKPT --data DIR|MANIFEST [--beam N] [--out DIR] [--json]
//          [--decode ctc_greedy|ctc_beam|attention_rescoring|joint [--ctc-weight W]
//           [--length-bonus B]]
//          [--chunk C [--left-chunks L] [--streaming [--cache-dtype f32|int8]]] [--device cpu|cuda]
// asr-eval --compare D1 D2 ... [--json]
#include <CLI/CLI.hpp>
#include <iomanip>
#include <iostream>

#include "asr/eval/eval_tool.h"

namespace {
void print_streaming(const nlohmann::json& s) {
  std::cout << std::setprecision(3) << "streaming: chunk " << s["chunk"] << ", left_chunks "
            << s["left_chunks"] << ", cache " << s.value("cache_dtype", "f32")
            << (s["exact"].get<bool>() ? "" : " (non-causal: not exact)")
            << "  chunk latency mean " << s["chunk_latency_ms_mean"].get<double>() << " ms, p95 "
            << s["chunk_latency_ms_p95"].get<double>() << " ms over " << s["chunks"]
            << " chunks  RTF " << s["rtf"].get<double>() << "\n"
            << "  attention cache at 1000 frames: " << s["cache_bytes_measured_1000"]
            << " bytes measured, " << s["cache_bytes_formula_1000"] << " by formula, "
            << s["cache_bytes_allocated_1000"] << " allocated;  conv cache "
            << s["conv_cache_bytes"] << " bytes;  weights shared by all streams "
            << s["shared_weight_bytes_1000"] << " bytes\n";
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Decodes a data set with a checkpoint and reports WER, CER, RTF and the KV caches."};
  asr::EvalToolOptions o;
  bool json = false;
  std::vector<std::string> compare;
  app.add_option("--checkpoint", o.checkpoint, "model file written by asr-train");
  app.add_option("--data", o.data, "manifest (.jsonl), split DIR/dev, data folder, or corpus split folder (LibriSpeech, TED-LIUM, Kaldi data directory)");
  app.add_option("--beam", o.beam_size, "beam size (CTC prefix beam, rescoring n-best, joint beam)")
      ->check(CLI::PositiveNumber);
  app.add_option("--decode", o.decode,
                 "ctc_greedy, ctc_beam, or with a hybrid model attention_rescoring (the CTC "
                 "n-best rescored by the decoder) or joint (CTC/attention beam search)")
      ->check(CLI::IsMember({"ctc_greedy", "ctc_beam", "attention_rescoring", "joint"}));
  app.add_option("--ctc-weight", o.ctc_weight,
                 "attention_rescoring, joint: CTC's weight against the decoder's (0.3)");
  app.add_option("--length-bonus", o.length_bonus, "joint: score added per token (0)");
  app.add_option("--out", o.out, "folder for ref.trn, hyp.trn, results.txt, eval.json");
  app.add_option("--chunk", o.chunk_size, "encoder frames per chunk (0: full context)");
  app.add_option("--left-chunks", o.left_chunks, "chunks of history (-1: all)");
  app.add_flag("--streaming", o.streaming,
               "decode chunk by chunk through the caches (B = 1; needs --chunk > 0)");
  app.add_option("--cache-dtype", o.cache_dtype,
                 "streaming attention caches: f32, or int8 (keys per channel, values and "
                 "latents per token, scales counted)")
      ->check(CLI::IsMember({"f32", "int8"}));
  app.add_option("--threads", o.threads, "CPU threads (0: all cores)");
  app.add_option("--device", o.device, "where the model decodes (streaming: cpu only)")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_flag("--json", json, "print the summary as one JSON object (--compare: an array)");
  app.add_option("--compare", compare,
                 "experiments (folders with eval.json) to tabulate, each after the first with "
                 "its WER difference from the first: 95% CI and MAPSSWE p");
  CLI11_PARSE(app, argc, argv);
  try {
    if (!compare.empty()) {
      if (json)
        std::cout << asr::compare_json(compare).dump() << "\n";
      else
        std::cout << asr::compare_table(compare);
      return 0;
    }
    if (o.checkpoint.empty() || o.data.empty()) {
      std::cerr << "asr-eval: --checkpoint and --data are required (or --compare)\n";
      return 2;
    }
    nlohmann::json j = asr::run_eval(o);
    if (json) {
      std::cout << j.dump() << "\n";
    } else {
      std::cout << std::fixed << std::setprecision(2) << "WER " << 100 * j["wer"].get<double>()
                << "% (sub " << j["sub"] << ", del " << j["del"] << ", ins " << j["ins"] << " of "
                << j["ref_words"] << " words)  CER " << 100 * j["cer"].get<double>() << "%  "
                << j["utterances"] << " utterances  RTF " << std::setprecision(3)
                << j["rtf"].get<double>() << "  params " << j["params"] << "  KV cache "
                << j["kv_cache_bytes_per_frame"] << " bytes/frame  decode " << j["decode"]
                << "\n";
      if (j.contains("decoder"))
        std::cout << "decoder caches: self-attention (" << j["decoder"]["self_attention"]
                  << ") " << j["decoder"]["self_cache_bytes_per_token_measured"]
                  << " bytes/token, cross-attention (" << j["decoder"]["src_attention"] << ") "
                  << j["decoder"]["src_cache_bytes_per_frame_measured"]
                  << " bytes/encoder frame (measured)\n";
      if (j.contains("streaming")) print_streaming(j["streaming"]);
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "asr-eval: " << e.what() << "\n";
    return 1;
  }
}
