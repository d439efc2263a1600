#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz for SECONDS each (default 30), as many at once as
# there are cores. New inputs go to build-san/fuzz/corpus/<target>/ (the seeds in
# tests/fuzz/corpus/<target>/ are read, never written); a crash is written to
# build-san/fuzz/crashes/ and fails the run: fix it, then add the input to the target's seed
# folder as a regression input (ctest -L fuzz runs them all). Logs: build-san/fuzz/<target>.log.
# TARGETS="safetensors config" limits the run to those targets.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
source scripts/sanitizer-env.sh
read -r -a targets <<<"${TARGETS:-${fuzz_names[*]}}"
bash scripts/build-san.sh "${targets[@]/#/fuzz_}"
mkdir -p build-san/fuzz/crashes

# Absolute paths throughout: fuzz_kaldi_dir changes its current directory.
run_one() {  # target seconds root
  local t="$1" out="$3/build-san/fuzz"
  mkdir -p "$out/corpus/$t"
  if "$3/build-san/tests/fuzz/fuzz_$t" "$out/corpus/$t" "$3/tests/fuzz/corpus/$t" \
       -max_total_time="$2" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$out/crashes/$t-" >"$out/$t.log" 2>&1; then
    local runs
    runs=$(grep -ao 'number_of_executed_units: *[0-9]*' "$out/$t.log" | grep -o '[0-9]*$')
    echo "fuzz $t: $runs executions in $2 s, no crash"
  else
    echo "fuzz $t: CRASH, see $out/$t.log and $out/crashes/$t-*"
    return 1
  fi
}
export -f run_one
printf '%s\n' "${targets[@]}" | xargs -P "$(nproc)" -I{} bash -c "run_one {} $seconds $PWD"
