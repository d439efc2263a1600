# Finds every external dependency. A missing one stops the configure step with the
# Debian package that provides it (scripts/install-deps.sh installs them all).

macro(latentasr_require found what package)
  if(NOT ${found})
    message(FATAL_ERROR "${what} not found: install the Debian package '${package}' "
                        "(or run scripts/install-deps.sh)")
  endif()
endmacro()

find_package(OpenMP)
find_package(Threads REQUIRED)
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

# Speech: audio files, resampling, FFT, tokenizers, command lines.
find_path(SNDFILE_INCLUDE_DIR sndfile.h)
find_library(SNDFILE_LIBRARY sndfile)
if(SNDFILE_INCLUDE_DIR AND SNDFILE_LIBRARY)
  set(SNDFILE_FOUND TRUE)
endif()
latentasr_require(SNDFILE_FOUND "libsndfile" "libsndfile1-dev")

find_path(SOXR_INCLUDE_DIR soxr.h)
find_library(SOXR_LIBRARY soxr)
if(SOXR_INCLUDE_DIR AND SOXR_LIBRARY)
  set(SOXR_FOUND TRUE)
endif()
latentasr_require(SOXR_FOUND "libsoxr" "libsoxr-dev")

find_path(FFTW_INCLUDE_DIR fftw3.h)
find_library(FFTWF_LIBRARY fftw3f)
if(FFTW_INCLUDE_DIR AND FFTWF_LIBRARY)
  set(FFTW_FOUND TRUE)
endif()
latentasr_require(FFTW_FOUND "FFTW (single precision)" "libfftw3-dev")

find_path(SENTENCEPIECE_INCLUDE_DIR sentencepiece_processor.h)
find_library(SENTENCEPIECE_LIBRARY sentencepiece)
find_library(SENTENCEPIECE_TRAIN_LIBRARY sentencepiece_train)
if(SENTENCEPIECE_INCLUDE_DIR AND SENTENCEPIECE_LIBRARY AND SENTENCEPIECE_TRAIN_LIBRARY)
  set(SENTENCEPIECE_FOUND TRUE)
endif()
latentasr_require(SENTENCEPIECE_FOUND "sentencepiece" "libsentencepiece-dev")

find_package(CLI11 QUIET)
latentasr_require(CLI11_FOUND "CLI11" "libcli11-dev")

# Data-parallel training: Open MPI for CPU buffers (and to start NCCL).
find_package(MPI COMPONENTS CXX)
latentasr_require(MPI_CXX_FOUND "MPI (C++)" "libopenmpi-dev")
find_program(MPIEXEC_PROGRAM NAMES mpirun mpiexec)
latentasr_require(MPIEXEC_PROGRAM "mpirun" "openmpi-bin")

find_package(CUDAToolkit QUIET)

# The CUDA backend of autograd (autograd/cuda/: cuBLAS and our kernels): on by default where
# nvcc is installed. It compiles for sm_80 (A100) and sm_90 (H100/H200) only, to keep the
# build short; -DCMAKE_CUDA_ARCHITECTURES=... overrides.
find_program(LATENTASR_NVCC nvcc PATHS /usr/local/cuda/bin ${CUDAToolkit_BIN_DIR} NO_CACHE)
if(CUDAToolkit_FOUND AND LATENTASR_NVCC)
  set(CUDA_FOUND_DEFAULT ON)
else()
  set(CUDA_FOUND_DEFAULT OFF)
endif()
option(LATENTASR_CUDA "Build the CUDA backend of autograd (CUDA toolkit with nvcc)"
       ${CUDA_FOUND_DEFAULT})
if(LATENTASR_CUDA)
  if(NOT CUDAToolkit_FOUND OR NOT LATENTASR_NVCC)
    message(FATAL_ERROR "LATENTASR_CUDA: nvcc and the CUDA toolkit were not found (install "
                        "NVIDIA's cuda-toolkit, or configure with -DLATENTASR_CUDA=OFF)")
  endif()
  if(NOT CMAKE_CUDA_COMPILER)
    set(CMAKE_CUDA_COMPILER ${LATENTASR_NVCC})
  endif()
  if(NOT CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 80 90)
  endif()
  enable_language(CUDA)
  set(CMAKE_CUDA_STANDARD 17)  # CMake 3.25 knows no C++20 flag for nvcc
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
endif()
message(STATUS "CUDA backend: ${LATENTASR_CUDA}")

# NCCL for GPU buffers: on by default where the CUDA toolkit and NCCL are installed.
find_path(NCCL_INCLUDE_DIR nccl.h PATHS /usr/local/cuda/include ${CUDAToolkit_INCLUDE_DIRS})
find_library(NCCL_LIBRARY nccl PATHS /usr/local/cuda/lib64 ${CUDAToolkit_LIBRARY_DIR})
if(CUDAToolkit_FOUND AND NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
  set(NCCL_FOUND_DEFAULT ON)
else()
  set(NCCL_FOUND_DEFAULT OFF)
endif()
option(LATENTASR_NCCL "Build the NCCL communicator (CUDA toolkit + NCCL)" ${NCCL_FOUND_DEFAULT})
if(LATENTASR_NCCL)
  if(NOT CUDAToolkit_FOUND)
    message(FATAL_ERROR "LATENTASR_NCCL: the CUDA toolkit was not found (install NVIDIA's "
                        "cuda-toolkit, or configure with -DLATENTASR_NCCL=OFF)")
  endif()
  if(NOT NCCL_INCLUDE_DIR OR NOT NCCL_LIBRARY)
    message(FATAL_ERROR "LATENTASR_NCCL: NCCL not found: install the Debian package "
                        "'libnccl-dev' (or configure with -DLATENTASR_NCCL=OFF)")
  endif()
endif()
message(STATUS "NCCL communicator: ${LATENTASR_NCCL}")
