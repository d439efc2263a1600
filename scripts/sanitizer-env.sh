# Sourced by scripts/sanitize.sh and scripts/fuzz.sh: sanitizer options under which any finding
# fails, and the fuzz targets (tests/fuzz/fuzz_<name>.cpp -> names). Leaks are reported
# (LeakSanitizer), except those of the libraries listed in tests/sanitizer/lsan.supp.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$root/tests/sanitizer/lsan.supp:print_suppressions=0"
mapfile -t fuzz_names < <(cd "$root/tests/fuzz" && ls fuzz_*.cpp | sed 's/^fuzz_//; s/\.cpp$//')
