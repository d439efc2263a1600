#!/usr/bin/python3
"""Lays out CMU's AN4 archive (an4_sphere.tar.gz) the way LibriSpeech is laid out, as
../shared/data/an4 is: <split>/<speaker>/1/<speaker>-1-<utt>.flac with
<speaker>-1.trans.txt, SPEAKERS.TXT mapping numeric ids to AN4's speaker names.

Speakers get ids 1001, 1002, ... in sorted name order over train and test together; the
utterance number is AN4's (an251 -> 0251). As ESPnet's an4 recipe: dev is the first 100
training utterances in sorted speaker-utterance order, train the other 848; test is AN4's.
Needs sox (for SPHERE -> FLAC).

    scripts/an4_to_librispeech.py AN4_ROOT OUT     # AN4_ROOT holds etc/ and wav/
"""
import os
import re
import subprocess
import sys


def read_split(root, name):
    """[(speaker, utt_number, text, sph_path)] of an4_<name>."""
    etc = os.path.join(root, "etc")
    with open(os.path.join(etc, f"an4_{name}.fileids")) as f:
        ids = [line.strip() for line in f if line.strip()]
    with open(os.path.join(etc, f"an4_{name}.transcription")) as f:
        texts = [line.strip() for line in f if line.strip()]
    if len(ids) != len(texts):
        sys.exit(f"an4_{name}: {len(ids)} file ids but {len(texts)} transcriptions")
    out = []
    for fileid, line in zip(ids, texts):
        text = re.sub(r"\s*\([^)]*\)\s*$", "", line)          # trailing (fileid)
        text = re.sub(r"</?s>", "", text).strip().upper()
        speaker = fileid.split("/")[0]
        number = int(re.search(r"an(\d+)", fileid.split("/")[-1]).group(1))
        out.append((speaker, number, " ".join(text.split()),
                    os.path.join(root, "wav", f"an4_clstk" if name == "train" else "an4test_clstk",
                                 fileid + ".sph")))
    return out


def write_split(utts, split, ids, out):
    by_folder = {}
    for speaker, number, text, sph in utts:
        sid = ids[speaker]
        folder = os.path.join(out, split, str(sid), "1")
        os.makedirs(folder, exist_ok=True)
        key = f"{sid}-1-{number:04d}"
        subprocess.run(["sox", sph, "-r", "16000", "-b", "16", "-c", "1",
                        os.path.join(folder, key + ".flac")], check=True)
        by_folder.setdefault(folder, []).append((key, text))
    for folder, lines in by_folder.items():
        sid = os.path.basename(os.path.dirname(folder))
        with open(os.path.join(folder, f"{sid}-1.trans.txt"), "w") as f:
            for key, text in sorted(lines):
                f.write(f"{key} {text}\n")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    root, out = sys.argv[1], sys.argv[2]
    train, test = read_split(root, "train"), read_split(root, "test")
    names = sorted({u[0] for u in train + test})
    ids = {name: 1001 + i for i, name in enumerate(names)}
    train.sort(key=lambda u: (ids[u[0]], u[1]))
    write_split(train[:100], "dev", ids, out)
    write_split(train[100:], "train", ids, out)
    write_split(test, "test", ids, out)
    with open(os.path.join(out, "SPEAKERS.TXT"), "w") as f:
        for name in names:
            f.write(f"{ids[name]} | {name[0].upper()} | an4 speaker {name}\n")
    print(f"{len(train) - 100} train, 100 dev, {len(test)} test utterances in {out}")


if __name__ == "__main__":
    main()
