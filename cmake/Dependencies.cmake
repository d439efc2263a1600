# Finds every external dependency. A missing one stops the configure step with the
# Debian package that provides it (scripts/install-deps.sh installs them all).

macro(latentasr_require found what package)
  if(NOT ${found})
    message(FATAL_ERROR "${what} not found: install the Debian package '${package}' "
                        "(or run scripts/install-deps.sh)")
  endif()
endmacro()

find_package(OpenMP)
latentasr_require(OpenMP_CXX_FOUND "OpenMP" "g++ (build-essential)")

# OpenBLAS, the OpenMP build: its threads are OpenMP's, shared with our kernels.
find_path(OPENBLAS_INCLUDE_DIR cblas.h
  PATHS /usr/include/x86_64-linux-gnu/openblas-openmp /usr/include/aarch64-linux-gnu/openblas-openmp
  NO_DEFAULT_PATH)
find_library(OPENBLAS_LIBRARY openblas
  PATHS /usr/lib/x86_64-linux-gnu/openblas-openmp /usr/lib/aarch64-linux-gnu/openblas-openmp
  NO_DEFAULT_PATH)
if(NOT OPENBLAS_INCLUDE_DIR OR NOT OPENBLAS_LIBRARY)
  set(OPENBLAS_FOUND FALSE)
else()
  set(OPENBLAS_FOUND TRUE)
endif()
latentasr_require(OPENBLAS_FOUND "OpenBLAS (OpenMP build)" "libopenblas-openmp-dev")
add_library(latentasr::openblas INTERFACE IMPORTED)
target_include_directories(latentasr::openblas INTERFACE ${OPENBLAS_INCLUDE_DIR})
target_link_libraries(latentasr::openblas INTERFACE ${OPENBLAS_LIBRARY})

find_path(LAPACKE_INCLUDE_DIR lapacke.h)
find_library(LAPACKE_LIBRARY lapacke)
if(LAPACKE_INCLUDE_DIR AND LAPACKE_LIBRARY)
  set(LAPACKE_FOUND TRUE)
endif()
latentasr_require(LAPACKE_FOUND "LAPACKE" "liblapacke-dev")

find_package(Boost 1.74 COMPONENTS unit_test_framework)
latentasr_require(Boost_FOUND "Boost.Test" "libboost-test-dev")

find_package(Python3 COMPONENTS Interpreter)

find_package(nlohmann_json 3 QUIET)
latentasr_require(nlohmann_json_FOUND "nlohmann-json" "nlohmann-json3-dev")

find_package(yaml-cpp QUIET)
latentasr_require(yaml-cpp_FOUND "yaml-cpp" "libyaml-cpp-dev")
