# Sanitizer and fuzzing builds (clang; scripts/sanitize.sh and scripts/fuzz.sh use them).
#   -DLATENTASR_SANITIZE=address,undefined  every target built with these sanitizers; the first
#                                          finding ends the process (-fno-sanitize-recover)
#   -DLATENTASR_FUZZ=ON                     also the libFuzzer targets of tests/fuzz/ (needs
#                                          LATENTASR_SANITIZE; the libraries get coverage
#                                          instrumentation for the fuzzer)
set(LATENTASR_SANITIZE "" CACHE STRING "Sanitizers to build with (clang), e.g. address,undefined")
option(LATENTASR_FUZZ "Build the libFuzzer targets of tests/fuzz (clang, with LATENTASR_SANITIZE)" OFF)

if(LATENTASR_SANITIZE)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "LATENTASR_SANITIZE needs clang: configure with "
                        "-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++")
  endif()
  add_compile_options("$<$<COMPILE_LANGUAGE:C,CXX>:-fsanitize=${LATENTASR_SANITIZE};-fno-sanitize-recover=all;-fno-omit-frame-pointer;-g>")
  add_link_options(-fsanitize=${LATENTASR_SANITIZE})
endif()

if(LATENTASR_FUZZ)
  if(NOT LATENTASR_SANITIZE)
    message(FATAL_ERROR "LATENTASR_FUZZ needs LATENTASR_SANITIZE (e.g. address,undefined)")
  endif()
  add_compile_options("$<$<COMPILE_LANGUAGE:C,CXX>:-fsanitize=fuzzer-no-link>")
endif()
