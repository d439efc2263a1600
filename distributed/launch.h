// What a program's main() needs under mpirun: a top-level guard that turns an exception on
// any rank into the end of the whole job, and CPU threads shared fairly between the ranks
// of one machine.
#pragma once
#include <functional>

#include "communicator.h"

namespace dist {

// Runs body and returns its exit code. An exception prints "<program>: <what>" on stderr
// and returns 1 in a single process; under MPI it prints "rank R: <program>: <what>" and
// aborts every rank with code 1 (MPI_Abort), so no rank waits forever for a dead peer.
int run_guarded(const char* program, const std::function<int()>& body);

// CPUs this process may run on: the count of its affinity mask (taskset, a launcher's
// binding, a cgroup cpuset), not the machine's cores.
int cpus_allowed();

// OpenMP/BLAS threads for this rank: `configured` when > 0; else 0 (leave OpenMP's choice)
// when OMP_NUM_THREADS is set; else cpus_allowed() divided among the ranks of this machine
// with the same affinity mask: ranks a launcher bound to CPUs of their own (srun
// --cpus-per-task, mpirun --map-by slot:pe=K) keep all of theirs, unbound ranks share.
// Collective unless configured > 0 (configured must agree on all ranks).
int threads_per_rank(int configured, Communicator& comm);

}  // namespace dist
