#!/usr/bin/env bash
# Installs the Debian packages latentasr needs to build, test and run (PyTorch included: a test
# reads a model file with scripts/load_in_pytorch.py); with --bench also torchaudio (the
# reference for benchmarks and golden-file scripts).
# Safe to run again: apt-get skips what is already there. Needs root (or sudo).
set -euo pipefail

packages=(
  build-essential cmake pkg-config curl ca-certificates
  libopenblas-openmp-dev liblapacke-dev     # BLAS (OpenMP build: one thread pool) + LAPACKE
  libyaml-cpp-dev                           # YAML configs
  libboost-test-dev                         # test suite
  libopenmpi-dev openmpi-bin                # data-parallel training
  libsndfile1-dev libsoxr-dev libfftw3-dev  # audio I/O, resampling, FFT
  libsentencepiece-dev sentencepiece        # BPE / unigram tokenizers
  nlohmann-json3-dev libcli11-dev           # JSON (safetensors headers, manifests), CLI
  gnuplot-nox sctk sox                      # curves, NIST sclite, AN4 download layout
  python3 python3-numpy python3-torch       # scripts/load_in_pytorch.py (a test runs it)
  clang libclang-rt-14-dev libomp-dev      # sanitizer build, fuzz targets (scripts/sanitize.sh, fuzz.sh)
)
if [ "${1:-}" = "--bench" ]; then
  packages+=(python3-torchaudio)  # the reference and speed peer of the benchmarks
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present" >&2
  exit 0
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
