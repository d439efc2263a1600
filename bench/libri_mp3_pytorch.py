#!/usr/bin/python3
"""PyTorch reference for latentasr's CTC training: the same data folder, features, model size,
optimizer and batching, trained for a wall-clock budget, then evaluated on dev (WER, CER).

"A PyTorch model of the same size trained for the same time is the reference we compare it
with" (libri-mp3, 2-core CPU). Data folder as `asr-prepare --tokenizer char` writes it:
DATA/train.jsonl, DATA/dev.jsonl (docs/data.md, "Manifests"), DATA/cmvn.json and
DATA/tokenizer/tokenizer.json (character vocabulary, CTC blank 0).

  /usr/bin/python3 bench/libri_mp3_pytorch.py --data DATA [--minutes 30] [--max-steps N]
      [--threads 2] [--d-model 128] [--num-layers 8] [--num-heads 4] [--ffn-dim 512]
      [--conv-kernel 15] [--dropout 0.1] [--batch-frames 6000] [--min-frames 10]
      [--max-frames 3000] [--lr 2e-3] [--warmup-steps 400] [--schedule warmuplr|cosine]
      [--total-steps N] [--min-lr 0] [--beam 10] [--log-every 50] [--seed 2022] [--out result.json]

e.g. AN4:  build/bin/asr-prepare --corpus ../shared/data/an4 --layout librispeech \
               --out /tmp/an4data --tokenizer char
           /usr/bin/python3 bench/libri_mp3_pytorch.py --data /tmp/an4data --minutes 3 \
               --threads 1 --out /tmp/an4_pytorch.json

For recipes/librispeech_100/conf/libri_mp3.yaml pass --batch-frames 8000 --max-frames 1200
--lr 1e-3 --schedule cosine --warmup-steps 200 --total-steps 2700 --min-lr 1e-5 --max-steps 2700.

Pipeline (where ours differs, it says so):
- audio: torchaudio.load (sox_io; ours decodes MP3 with libsndfile: on a libri-mp3 file both
  give the same frame count and fbank within 1e-3 on average), the [start, end) segment,
  channels averaged, resampled to 16 kHz if not at 16 kHz;
- features: torchaudio.compliance.kaldi.fbank(samples * 32768, 80 bins, 25/10 ms, dither 0),
  computed once before training starts (ours recomputes them each epoch in a loader thread;
  the training clock here excludes this, printed separately), then global CMVN from
  DATA/cmvn.json ({"frames", "sum", "sum_sq"}; std floored at 1e-5);
- SpecAugment per utterance and step (none with --no-specaugment): by default ESPnet's time
  warp (window 5, bicubic), 2 frequency masks up to 27 bins and 5 time masks up to 5% of the
  utterance (torchaudio.transforms), masked to 0; --time-warp, --freq-masks, --freq-width,
  --time-masks, --time-ratio set conf/libri_mp3.yaml's milder masks;
- batches: utterances sorted by length, filled greedily while (size + 1) * length <=
  --batch-frames (padding counted), outside [--min-frames, --max-frames] left out, batch order
  shuffled per epoch;
- model: Conv2d subsampling x4 (two 3x3 stride-2 convolutions with ReLU, Linear to d_model),
  x * sqrt(d_model) + absolute sinusoidal positions (torchaudio's Conformer has no positional
  encoding of its own; ours uses relative positions, ESPnet rel_pos), torchaudio.models.Conformer
  (macaron FFNs, MHA, batch-norm convolution module), a final LayerNorm, Linear to the vocabulary;
- loss: CTC, blank 0, summed over the batch / batch size;
- Adam (lr 2e-3, betas 0.9/0.98, eps 1e-9, L2 weight decay 1e-6), ESPnet WarmupLR
  (lr * warmup^0.5 * min(step^-0.5, step * warmup^-1.5)) or --schedule cosine (linear warm-up,
  cosine decay to --min-lr at --total-steps, as nn/schedule.h), gradient norm clipped at 5 (a step with
  a non-finite norm is skipped);
- evaluation: every dev utterance of >= 7 frames, greedy CTC and (with --beam > 1) CTC prefix
  beam search with this frame's top --beam tokens as extensions (as ours); WER and CER with
  NIST sclite's alignment costs (sub 4, ins/del 3), as asr/eval/wer.cpp. No checkpoint
  averaging (ours averages the best 5).

Logs to stderr; prints the parameter count beside ours for the same flags, the dev WER/CER and
one JSON line, also written to --out.
"""
import argparse
import json
import math
import os
import random
import sys
import time

import torch
import torchaudio
from torch import nn

SAMPLE_RATE = 16000
NUM_BINS = 80
MIN_EVAL_FRAMES = 7  # the fewest frames 4x subsampling keeps one output of (kMinUtteranceFrames)


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


# ---- data ------------------------------------------------------------------------------------

def read_manifest(path):
    """Utterance dicts of a JSON-lines manifest; a relative audio path is relative to its folder."""
    folder = os.path.dirname(os.path.abspath(path))
    utts = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                u = json.loads(line)
                u["audio"] = os.path.join(folder, u["audio"])
                utts.append(u)
    return utts


def normalize_text(text):
    """Ours: ASCII letters upper-cased, whitespace runs collapsed to one space, ends trimmed."""
    return " ".join("".join(c.upper() if c.isascii() else c for c in text).split())


class CharTokenizer:
    """DATA/tokenizer/tokenizer.json's character vocabulary: piece 0 <blank>, <space> the word
    boundary, the others single characters."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            spec = json.load(f)
        if spec.get("type") != "char" or spec["pieces"][0] != "<blank>":
            raise SystemExit(f"{path}: need a char tokenizer with <blank> first (asr-prepare "
                             f"--tokenizer char), got type {spec.get('type')!r}")
        self.chars = [" " if p == "<space>" else p for p in spec["pieces"]]
        self.chars[0] = ""
        self.ids = {c: i for i, c in enumerate(self.chars) if i > 0}

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        """Token ids of the normalized text, or None when a character is outside the vocabulary."""
        ids = [self.ids.get(c) for c in normalize_text(text)]
        return None if None in ids else ids

    def decode(self, ids):
        return "".join(self.chars[i] for i in ids)


def load_features(utt):
    """[frames, 80] Kaldi fbank of the utterance's segment at 16 kHz, as ours."""
    wave, rate = torchaudio.load(utt["audio"])
    start = round(utt.get("start", 0.0) * rate)
    end = wave.shape[1] if utt.get("end", -1.0) < 0 else round(utt["end"] * rate)
    wave = wave[:, start:end].mean(dim=0, keepdim=True)
    if rate != SAMPLE_RATE:
        wave = torchaudio.functional.resample(wave, rate, SAMPLE_RATE)
    if wave.shape[1] < 400:
        return torch.zeros(0, NUM_BINS)
    return torchaudio.compliance.kaldi.fbank(wave * 32768, num_mel_bins=NUM_BINS,
                                             frame_length=25.0, frame_shift=10.0, dither=0.0,
                                             sample_frequency=SAMPLE_RATE)


def load_cmvn(path, train_feats):
    """(mean, std) from ours' cmvn.json, or computed from the training features without one."""
    if os.path.exists(path):
        with open(path) as f:
            stats = json.load(f)
        frames = stats["frames"]
        total = torch.tensor(stats["sum"], dtype=torch.float64)
        total_sq = torch.tensor(stats["sum_sq"], dtype=torch.float64)
    else:
        log(f"no {path}: CMVN computed from the training features")
        allf = torch.cat(train_feats).double()
        frames, total, total_sq = allf.shape[0], allf.sum(0), (allf * allf).sum(0)
    mean = total / frames
    std = (total_sq / frames - mean * mean).clamp(min=0).sqrt().clamp(min=1e-5)
    return mean.float(), std.float()


def prepare_split(utts, tokenizer, min_frames, max_frames):
    """(key, normalized text, features before CMVN, token ids) of every utterance with text the
    tokenizer spells and [min_frames, max_frames] frames; and the count skipped per reason."""
    out, skips = [], {}
    for u in utts:
        ids = tokenizer.encode(u["text"])
        feats = load_features(u) if ids else None
        reason = ("empty or unencodable text" if not ids
                  else "too few frames" if feats.shape[0] < min_frames
                  else "too many frames" if feats.shape[0] > max_frames else None)
        if reason:
            skips[reason] = skips.get(reason, 0) + 1
        else:
            out.append((u["key"], normalize_text(u["text"]), feats, ids))
    return out, skips


def make_batches(lengths, batch_frames):
    """Ours (asr/data/batching.h): indices sorted by length (ties by index), filled greedily
    while (size + 1) * length <= batch_frames; a longer utterance goes alone."""
    batches, current = [], []
    for i in sorted(range(len(lengths)), key=lambda i: (lengths[i], i)):
        if current and (len(current) + 1) * lengths[i] > batch_frames:
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def time_warp(x, window):
    """ESPnet's time warp of one utterance [T, F]: frames [0, c) stretched to [0, w), the rest
    to [w, T), c uniform in [window, T - window), w within window of c (bicubic)."""
    t = x.shape[0]
    if window <= 0 or t - window <= window:
        return x
    center = int(torch.randint(window, t - window, (1,)))
    warped = int(torch.randint(center - window, center + window, (1,))) + 1
    x4 = x[None, None]
    left = nn.functional.interpolate(x4[:, :, :center], (warped, x.shape[1]), mode="bicubic",
                                     align_corners=False)
    right = nn.functional.interpolate(x4[:, :, center:], (t - warped, x.shape[1]),
                                      mode="bicubic", align_corners=False)
    return torch.cat([left, right], dim=2)[0, 0]


class SpecAugment:
    def __init__(self, warp_window, freq_masks, freq_width, time_masks, time_ratio, max_frames):
        self.warp_window = warp_window
        self.masks = ([torchaudio.transforms.FrequencyMasking(freq_width)] * freq_masks
                      + [torchaudio.transforms.TimeMasking(max_frames, p=time_ratio)] * time_masks)

    def __call__(self, x):  # [T, F] -> [T, F]
        spec = time_warp(x, self.warp_window).t()[None]  # [1, F, T], as torchaudio masks take it
        for mask in self.masks:
            spec = mask(spec, 0.0)
        return spec[0].t()


def pad_feats(feats):
    """[B, T_max, 80] zero-padded features and their lengths [B]."""
    lengths = torch.tensor([f.shape[0] for f in feats])
    padded = torch.zeros(len(feats), int(lengths.max()), NUM_BINS)
    for b, f in enumerate(feats):
        padded[b, :f.shape[0]] = f
    return padded, lengths


# ---- model -----------------------------------------------------------------------------------

def subsampled(lengths):
    """Frames left after two 3x3 stride-2 convolutions without padding."""
    return ((lengths - 1) // 2 - 1) // 2


class ConformerCtc(nn.Module):
    def __init__(self, vocab, d_model, num_layers, num_heads, ffn_dim, conv_kernel, dropout):
        super().__init__()
        self.d_model = d_model
        self.conv = nn.Sequential(nn.Conv2d(1, d_model, 3, 2), nn.ReLU(),
                                  nn.Conv2d(d_model, d_model, 3, 2), nn.ReLU())
        self.conv_out = nn.Linear(d_model * subsampled(NUM_BINS), d_model)
        self.pos_dropout = nn.Dropout(dropout)
        self.conformer = torchaudio.models.Conformer(
            input_dim=d_model, num_heads=num_heads, ffn_dim=ffn_dim, num_layers=num_layers,
            depthwise_conv_kernel_size=conv_kernel, dropout=dropout)
        self.after_norm = nn.LayerNorm(d_model)
        self.ctc_lo = nn.Linear(d_model, vocab)

    def positions(self, t):
        """ESPnet's absolute sinusoidal table [t, d]: sin on even dims, cos on odd."""
        pos = torch.arange(t, dtype=torch.float32)[:, None]
        div = torch.exp(torch.arange(0, self.d_model, 2, dtype=torch.float32)
                        * -(math.log(10000.0) / self.d_model))
        pe = torch.zeros(t, self.d_model)
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div)
        return pe

    def forward(self, feats, lengths):  # [B, T, 80], [B] -> log-probs [B, T', V], [B]
        x = self.conv(feats[:, None])  # [B, d, T', 19]
        b, d, t, f = x.shape
        x = self.conv_out(x.transpose(1, 2).reshape(b, t, d * f))
        x = self.pos_dropout(x * math.sqrt(self.d_model) + self.positions(t))
        out_lengths = subsampled(lengths)
        x, _ = self.conformer(x, out_lengths)
        return self.ctc_lo(self.after_norm(x)).log_softmax(-1), out_lengths


def ours_param_count(model, num_layers, d_model):
    """latentasr's model for the same flags: the same modules except that its relative-position
    attention adds linear_pos (d x d, no bias) and pos_bias_u, pos_bias_v (d each) per layer."""
    params = sum(p.numel() for p in model.parameters())
    return params + num_layers * (d_model * d_model + 2 * d_model)


# ---- decoding and scoring --------------------------------------------------------------------

def log_add(a, b):
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    return max(a, b) + math.log1p(math.exp(-abs(a - b)))


def ctc_greedy(lp):
    """lp: [T, V] log-probs -> ids (repeats merged, blanks dropped)."""
    best = lp.argmax(-1).tolist()
    return [k for t, k in enumerate(best) if k != 0 and (t == 0 or k != best[t - 1])]


def ctc_prefix_beam(lp, beam):
    """CTC prefix beam search (no LM) as asr/model/ctc_decode.cpp: each prefix scored as
    (ends in blank, ends in its last token); only this frame's `beam` best tokens extend."""
    beams = {(): (0.0, -math.inf)}
    top = lp[:, 1:].topk(min(beam, lp.shape[1] - 1), dim=-1).indices + 1
    for frame, cands in zip(lp.tolist(), top.tolist()):
        nxt = {}
        for prefix, (pb, pt) in beams.items():
            total = log_add(pb, pt)
            sb, st = nxt.get(prefix, (-math.inf, -math.inf))
            sb = log_add(sb, total + frame[0])
            if prefix:
                st = log_add(st, pt + frame[prefix[-1]])
            nxt[prefix] = (sb, st)
            for k in cands:
                longer = prefix + (k,)
                src = pb if prefix and prefix[-1] == k else total
                eb, et = nxt.get(longer, (-math.inf, -math.inf))
                nxt[longer] = (eb, log_add(et, src + frame[k]))
        ranked = sorted(nxt.items(), key=lambda kv: log_add(*kv[1]), reverse=True)[:beam]
        beams = dict(ranked)
    return list(max(beams.items(), key=lambda kv: log_add(*kv[1]))[0])


def align_counts(ref, hyp):
    """(sub, del, ins) of sclite's alignment (sub 4, ins/del 3), backtracked as ours."""
    r, h = len(ref), len(hyp)
    cost = [[0] * (h + 1) for _ in range(r + 1)]
    for i in range(r + 1):
        cost[i][0] = 3 * i
    for j in range(h + 1):
        cost[0][j] = 3 * j

    def diag(i, j):
        return cost[i - 1][j - 1] + (0 if ref[i - 1] == hyp[j - 1] else 4)

    for i in range(1, r + 1):
        for j in range(1, h + 1):
            cost[i][j] = min(diag(i, j), cost[i - 1][j] + 3, cost[i][j - 1] + 3)
    sub = dele = ins = 0
    i, j = r, h
    while i > 0 or j > 0:
        if i > 0 and j > 0 and cost[i][j] == diag(i, j):
            sub += ref[i - 1] != hyp[j - 1]
            i, j = i - 1, j - 1
        elif i > 0 and (j == 0 or cost[i - 1][j] + 3 < cost[i][j - 1] + 3):
            # asr/eval/wer.cpp's (sclite's) tie-break: an insertion before a deletion on ties;
            # it changes the counts (and the WER) in a few alignments
            dele, i = dele + 1, i - 1
        else:
            ins, j = ins + 1, j - 1
    return sub, dele, ins


def split_chars(text):
    """Characters, each run of spaces between words one " " symbol (ours, ESPnet's CER)."""
    return list(" ".join(text.split()))


def error_rate(pairs, split):
    """(errors / reference symbols, sub, del, ins, reference symbols) over (ref, hyp) pairs."""
    sub = dele = ins = ref_total = 0
    for ref, hyp in pairs:
        r, h = split(ref), split(hyp)
        s, d, i = align_counts(r, h)
        sub, dele, ins, ref_total = sub + s, dele + d, ins + i, ref_total + len(r)
    return (sub + dele + ins) / max(ref_total, 1), sub, dele, ins, ref_total


# ---- training and evaluation -----------------------------------------------------------------

def lr_factor(args):
    """The learning rate at 0-based step s as a factor of --lr, as nn/schedule.h at step s + 1."""
    warmup = args.warmup_steps
    if args.schedule == "warmuplr":
        return lambda s: warmup ** 0.5 * min((s + 1) ** -0.5, (s + 1) * warmup ** -1.5)
    floor = args.min_lr / args.lr
    total = max(args.total_steps - warmup, 1)

    def cosine(s):
        step = s + 1
        if warmup > 0 and step <= warmup:
            return step / warmup
        t = min(max((step - warmup) / total, 0.0), 1.0)
        return floor + 0.5 * (1.0 - floor) * (1.0 + math.cos(math.pi * t))
    return cosine


def train(model, data, args, cmvn):
    mean, std = cmvn
    feats = [(f - mean) / std for _, _, f, _ in data]
    targets = [ids for _, _, _, ids in data]
    batches = make_batches([f.shape[0] for f in feats], args.batch_frames)
    log(f"train: {len(feats)} utterances, {sum(f.shape[0] for f in feats)} frames, "
        f"{len(batches)} batches of <= {args.batch_frames} padded frames")
    augment = (SpecAugment(args.time_warp, args.freq_masks, args.freq_width, args.time_masks,
                           args.time_ratio, args.max_frames)
               if args.specaugment else (lambda f: f))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.98), eps=1e-9,
                                 weight_decay=1e-6)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor(args))
    model.train()
    order_rng = random.Random(args.seed)
    budget = args.minutes * 60 if args.minutes > 0 else math.inf
    step, epoch, start, first_loss = 0, 0, time.monotonic(), None
    window_loss, window_utts, window_frames, window_start = 0.0, 0, 0, start
    while True:
        order = list(range(len(batches)))
        order_rng.shuffle(order)
        for bi in order:
            x, lengths = pad_feats([augment(feats[i]) for i in batches[bi]])
            flat_targets = torch.tensor([k for i in batches[bi] for k in targets[i]])
            target_lengths = torch.tensor([len(targets[i]) for i in batches[bi]])
            log_probs, out_lengths = model(x, lengths)
            loss = nn.functional.ctc_loss(log_probs.transpose(0, 1), flat_targets, out_lengths,
                                          target_lengths, blank=0, reduction="sum",
                                          zero_infinity=True) / x.shape[0]
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            lr = schedule.get_last_lr()[0]
            if torch.isfinite(norm):
                optimizer.step()
            schedule.step()
            step += 1
            if first_loss is None:
                first_loss = loss.item()
            window_loss += loss.item() * x.shape[0]
            window_utts += x.shape[0]
            window_frames += int(lengths.sum())
            now = time.monotonic()
            if step == 1 or step % args.log_every == 0:
                log(f"step {step} epoch {epoch} loss {window_loss / window_utts:.2f} "
                    f"lr {lr:.2e} {window_frames / (now - window_start):.0f} frames/s "
                    f"elapsed {(now - start) / 60:.2f} min")
                window_loss, window_utts, window_frames, window_start = 0.0, 0, 0, now
            if now - start >= budget or step >= args.max_steps > 0:
                return step, epoch + 1, (now - start) / 60, first_loss, loss.item()
        epoch += 1


@torch.no_grad()
def evaluate(model, data, args, cmvn, tokenizer):
    mean, std = cmvn
    model.eval()
    refs, greedy_hyps, beam_hyps = [], [], []
    for batch in make_batches([f.shape[0] for _, _, f, _ in data], args.batch_frames):
        x, lengths = pad_feats([(data[i][2] - mean) / std for i in batch])
        log_probs, out_lengths = model(x, lengths)
        for b, i in enumerate(batch):
            lp = log_probs[b, :int(out_lengths[b])]
            refs.append(data[i][1])
            greedy_hyps.append(tokenizer.decode(ctc_greedy(lp)))
            if args.beam > 1:
                beam_hyps.append(tokenizer.decode(ctc_prefix_beam(lp, args.beam)))
    return refs, greedy_hyps, beam_hyps


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="asr-prepare's data folder")
    p.add_argument("--minutes", type=float, default=30.0,
                   help="training wall-clock budget (0: none)")
    p.add_argument("--max-steps", type=int, default=0, help="stop after N steps (0: none)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--num-layers", type=int, default=8)
    p.add_argument("--num-heads", type=int, default=4)
    p.add_argument("--ffn-dim", type=int, default=512)
    p.add_argument("--conv-kernel", type=int, default=15)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--batch-frames", type=int, default=6000)
    p.add_argument("--min-frames", type=int, default=10,
                   help="shorter training utterances left out")
    p.add_argument("--max-frames", type=int, default=3000,
                   help="longer training utterances left out")
    p.add_argument("--no-specaugment", dest="specaugment", action="store_false",
                   help="train without SpecAugment (conf/libri_mp3.yaml's data.specaugment)")
    p.add_argument("--freq-masks", type=int, default=2, help="SpecAugment frequency masks")
    p.add_argument("--freq-width", type=int, default=27, help="widest frequency mask (bins)")
    p.add_argument("--time-masks", type=int, default=5, help="SpecAugment time masks")
    p.add_argument("--time-ratio", type=float, default=0.05,
                   help="widest time mask, as a fraction of the utterance")
    p.add_argument("--time-warp", type=int, default=5,
                   help="SpecAugment time-warp window (0: none)")
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate")
    p.add_argument("--warmup-steps", type=int, default=400)
    p.add_argument("--schedule", choices=["warmuplr", "cosine"], default="warmuplr",
                   help="ESPnet WarmupLR, or linear warm-up then cosine decay to --min-lr at "
                        "--total-steps (schedule.type cosine)")
    p.add_argument("--total-steps", type=int, default=0, help="cosine: where the decay ends")
    p.add_argument("--min-lr", type=float, default=0.0, help="cosine: the final learning rate")
    p.add_argument("--beam", type=int, default=10, help="prefix beam size (1: greedy only)")
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--seed", type=int, default=2022)
    p.add_argument("--out", help="also write the JSON result line here")
    args = p.parse_args()
    if args.minutes <= 0 and args.max_steps <= 0:
        p.error("give --minutes or --max-steps")
    if args.schedule == "cosine" and args.total_steps <= args.warmup_steps:
        p.error("--schedule cosine needs --total-steps above --warmup-steps")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    tokenizer = CharTokenizer(os.path.join(args.data, "tokenizer", "tokenizer.json"))

    t0 = time.monotonic()
    train_data, train_skips = prepare_split(read_manifest(os.path.join(args.data, "train.jsonl")),
                                            tokenizer, args.min_frames, args.max_frames)
    dev_data, dev_skips = prepare_split(read_manifest(os.path.join(args.data, "dev.jsonl")),
                                        tokenizer, MIN_EVAL_FRAMES, math.inf)
    cmvn = load_cmvn(os.path.join(args.data, "cmvn.json"), [d[2] for d in train_data])
    log(f"features: {len(train_data)} train, {len(dev_data)} dev utterances in "
        f"{time.monotonic() - t0:.1f} s (not counted in the training time); skipped: "
        f"train {train_skips or 'none'}, dev {dev_skips or 'none'}")

    model = ConformerCtc(len(tokenizer), args.d_model, args.num_layers, args.num_heads,
                         args.ffn_dim, args.conv_kernel, args.dropout)
    params = sum(p.numel() for p in model.parameters())
    ours = ours_param_count(model, args.num_layers, args.d_model)
    log(f"model: {params} parameters ({params / 1e6:.2f} M); latentasr's with the same flags: "
        f"{ours} ({ours / 1e6:.2f} M, relative-position attention); vocabulary {len(tokenizer)} "
        f"with the blank; positions: absolute sinusoidal added after subsampling "
        f"(torchaudio's Conformer has none)")

    steps, epochs, minutes, first_loss, last_loss = train(model, train_data, args, cmvn)
    log(f"trained {steps} steps ({epochs} epochs started) in {minutes:.2f} min; "
        f"loss {first_loss:.2f} (step 1) -> {last_loss:.2f} (step {steps})")

    t0 = time.monotonic()
    refs, greedy_hyps, beam_hyps = evaluate(model, dev_data, args, cmvn, tokenizer)
    greedy_wer = error_rate(zip(refs, greedy_hyps), str.split)
    greedy_cer = error_rate(zip(refs, greedy_hyps), split_chars)
    wer, cer = greedy_wer, greedy_cer
    if args.beam > 1:
        wer = error_rate(zip(refs, beam_hyps), str.split)
        cer = error_rate(zip(refs, beam_hyps), split_chars)
    decoding = f"prefix beam {args.beam}" if args.beam > 1 else "greedy"
    log(f"dev ({len(refs)} utterances, {wer[4]} words, {time.monotonic() - t0:.1f} s): "
        f"greedy WER {100 * greedy_wer[0]:.2f}% CER {100 * greedy_cer[0]:.2f}%")
    for r, h in list(zip(refs, beam_hyps or greedy_hyps))[:3]:
        log(f"  REF: {r}\n  HYP: {h}")
    print(f"WER {100 * wer[0]:.2f}% (sub {wer[1]}, del {wer[2]}, ins {wer[3]} of {wer[4]} words), "
          f"CER {100 * cer[0]:.2f}%, {decoding}; params {params} (latentasr {ours})")
    result = {"wer": round(100 * wer[0], 2), "cer": round(100 * cer[0], 2),
              "steps": steps, "minutes": round(minutes, 2), "params": params,
              "utterances": len(refs),
              "greedy_wer": round(100 * greedy_wer[0], 2),
              "greedy_cer": round(100 * greedy_cer[0], 2), "decoding": decoding,
              "params_latentasr": ours, "epochs": epochs, "first_loss": round(first_loss, 3),
              "last_loss": round(last_loss, 3), "threads": args.threads,
              "positions": "absolute sinusoidal (torchaudio Conformer has none)",
              "torch": torch.__version__}
    line = json.dumps(result)
    print(line)
    if args.out:  # atomically: a reader never sees half a line
        with open(args.out + ".tmp", "w") as f:
            f.write(line + "\n")
        os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
