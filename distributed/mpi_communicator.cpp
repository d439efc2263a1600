#include "mpi_communicator.h"

#include <climits>
#include <cstdlib>
#include <string>

#include "autograd/error.h"

namespace dist {

void check_mpi(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int len = 0;
  if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) len = 0;
  ag::detail::fail(call, " failed: MPI error ", rc, " (", std::string(text, len), ")");
}

namespace {

int mpi_count(size_t n, const char* call) {
  AG_CHECK(n <= static_cast<size_t>(INT_MAX), call, ": ", n, " elements exceed MPI's int count");
  return static_cast<int>(n);
}

MPI_Op mpi_op(ReduceOp op) { return op == ReduceOp::max ? MPI_MAX : MPI_SUM; }

template <class T>
void scale(T* data, size_t n, T factor) {
  for (size_t i = 0; i < n; ++i) data[i] *= factor;
}

class MpiRequest final : public Request {
 public:
  // `watchdog` (null: none) watches the wait.
  MpiRequest(float* data, size_t n, float factor, std::shared_ptr<CollectiveWatchdog> watchdog,
             int64_t step)
      : data_(data), n_(n), factor_(factor), watchdog_(std::move(watchdog)), step_(step) {}
  MPI_Request* handle() { return &request_; }
  bool test() override {
    if (done_) return true;
    int flag = 0;
    check_mpi(MPI_Test(&request_, &flag, MPI_STATUS_IGNORE), "MPI_Test");
    if (flag) complete();
    return done_;
  }
  void wait() override {
    if (done_) return;
    {
      std::optional<CollectiveWatchdog::Watch> watched;
      if (watchdog_) watched.emplace(*watchdog_, "MPI_Wait (all-reduce)", step_);
      check_mpi(MPI_Wait(&request_, MPI_STATUS_IGNORE), "MPI_Wait");
    }
    complete();
  }

 private:
  void complete() {
    if (factor_ != 1.0f) scale(data_, n_, factor_);
    done_ = true;
  }
  MPI_Request request_ = MPI_REQUEST_NULL;
  float* data_;
  size_t n_;
  float factor_;
  std::shared_ptr<CollectiveWatchdog> watchdog_;
  int64_t step_;
  bool done_ = false;
};

}  // namespace

Mpi::Mpi() {
  int initialized = 0;
  check_mpi(MPI_Initialized(&initialized), "MPI_Initialized");
  if (!initialized) {
    int provided = 0;
    check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    initialized_here_ = true;
    AG_CHECK(provided >= MPI_THREAD_FUNNELED, "MPI_Init_thread: thread level ", provided,
             " provided, MPI_THREAD_FUNNELED (", MPI_THREAD_FUNNELED, ") needed");
  }
  check_mpi(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  check_mpi(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
  check_mpi(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
  MPI_Comm node;  // the ranks sharing this machine's memory
  check_mpi(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node),
            "MPI_Comm_split_type");
  check_mpi(MPI_Comm_rank(node, &local_rank_), "MPI_Comm_rank(node)");
  check_mpi(MPI_Comm_size(node, &local_size_), "MPI_Comm_size(node)");
  check_mpi(MPI_Comm_free(&node), "MPI_Comm_free");
}

Mpi::~Mpi() {
  int finalized = 0;
  if (initialized_here_ && MPI_Finalized(&finalized) == MPI_SUCCESS && !finalized) MPI_Finalize();
}

void Mpi::set_timeout(double seconds) {
  AG_CHECK(seconds >= 0, "collective timeout ", seconds, " s is negative");
  watchdog_.reset();
  if (seconds > 0) watchdog_ = std::make_shared<CollectiveWatchdog>(rank_, seconds);
}

std::optional<CollectiveWatchdog::Watch> Mpi::watch(const char* what) {
  if (!watchdog_ || untimed()) return std::nullopt;
  return std::optional<CollectiveWatchdog::Watch>(std::in_place, *watchdog_, what, step());
}

void Mpi::all_reduce(float* data, size_t n, ReduceOp op) {
  auto watched = watch("MPI_Allreduce");
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, data, mpi_count(n, "MPI_Allreduce"), MPI_FLOAT, mpi_op(op),
                          MPI_COMM_WORLD),
            "MPI_Allreduce");
  if (op == ReduceOp::average) scale(data, n, 1.0f / static_cast<float>(size_));
}

void Mpi::all_reduce(double* data, size_t n, ReduceOp op) {
  auto watched = watch("MPI_Allreduce");
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, data, mpi_count(n, "MPI_Allreduce"), MPI_DOUBLE, mpi_op(op),
                          MPI_COMM_WORLD),
            "MPI_Allreduce");
  if (op == ReduceOp::average) scale(data, n, 1.0 / static_cast<double>(size_));
}

std::unique_ptr<Request> Mpi::all_reduce_async(float* data, size_t n, ReduceOp op) {
  float factor = op == ReduceOp::average ? 1.0f / static_cast<float>(size_) : 1.0f;
  auto r = std::make_unique<MpiRequest>(data, n, factor, untimed() ? nullptr : watchdog_, step());
  check_mpi(MPI_Iallreduce(MPI_IN_PLACE, data, mpi_count(n, "MPI_Iallreduce"), MPI_FLOAT, mpi_op(op),
                           MPI_COMM_WORLD, r->handle()),
            "MPI_Iallreduce");
  return r;
}

void Mpi::broadcast(void* data, size_t bytes, int root) {
  AG_CHECK(root >= 0 && root < size_, "broadcast: root ", root, " outside ", size_, " ranks");
  auto watched = watch("MPI_Bcast");
  auto* p = static_cast<char*>(data);
  while (bytes > 0) {  // MPI counts are int: send in pieces of at most 1 GiB
    size_t piece = std::min<size_t>(bytes, size_t{1} << 30);
    check_mpi(MPI_Bcast(p, static_cast<int>(piece), MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
    p += piece;
    bytes -= piece;
  }
}

void Mpi::barrier() {
  auto watched = watch("MPI_Barrier");
  check_mpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
}

void Mpi::abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; this is for the compiler
}

}  // namespace dist
