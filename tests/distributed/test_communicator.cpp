// Run by ctest under `mpirun -np 2`; also passes as a single process.
#include <boost/test/unit_test.hpp>

#include <vector>

#include "distributed/communicator.h"

using dist::ReduceOp;

namespace {
dist::Communicator& comm() { return dist::world(); }
float sum_of_ranks() {
  const int n = comm().world_size();
  return static_cast<float>(n * (n - 1)) / 2;
}
}  // namespace

BOOST_AUTO_TEST_CASE(ranks_are_consistent) {
  BOOST_TEST(comm().rank() >= 0);
  BOOST_TEST(comm().rank() < comm().world_size());
  BOOST_TEST(comm().local_rank() < comm().local_size());
  if (!dist::launched_by_mpi()) BOOST_TEST(comm().world_size() == 1);
}

BOOST_AUTO_TEST_CASE(all_reduce_sum_and_average) {
  std::vector<float> v = {static_cast<float>(comm().rank()), 1.0f, -2.5f};
  comm().all_reduce(v.data(), v.size(), ReduceOp::sum);
  const float n = static_cast<float>(comm().world_size());
  BOOST_TEST(v[0] == sum_of_ranks());
  BOOST_TEST(v[1] == n);
  BOOST_TEST(v[2] == -2.5f * n);
  std::vector<double> d = {static_cast<double>(comm().rank()), 4.0};
  comm().all_reduce(d.data(), d.size(), ReduceOp::average);
  BOOST_TEST(d[0] == sum_of_ranks() / n);
  BOOST_TEST(d[1] == 4.0);
}

BOOST_AUTO_TEST_CASE(all_reduce_max) {
  double v = comm().rank();
  comm().all_reduce(&v, 1, ReduceOp::max);
  BOOST_TEST(v == comm().world_size() - 1);
}

BOOST_AUTO_TEST_CASE(broadcast_copies_the_root) {
  std::vector<int64_t> v = {comm().rank() * 10 + 1, comm().rank() * 10 + 2};
  comm().broadcast(v.data(), v.size() * sizeof(int64_t), 0);
  BOOST_TEST(v[0] == 1);
  BOOST_TEST(v[1] == 2);
}

BOOST_AUTO_TEST_CASE(non_blocking_all_reduce) {
  // Several in flight at once, completed out of order.
  std::vector<std::vector<float>> bufs(3, std::vector<float>(1000));
  for (size_t b = 0; b < bufs.size(); ++b)
    for (size_t i = 0; i < bufs[b].size(); ++i) bufs[b][i] = static_cast<float>(b + i + comm().rank());
  std::vector<std::unique_ptr<dist::Request>> reqs;
  reqs.push_back(comm().all_reduce_async(bufs[0].data(), bufs[0].size(), ReduceOp::sum));
  reqs.push_back(comm().all_reduce_async(bufs[1].data(), bufs[1].size(), ReduceOp::average));
  reqs.push_back(comm().all_reduce_async(bufs[2].data(), bufs[2].size(), ReduceOp::sum));
  reqs[2]->wait();
  while (!reqs[0]->test()) {
  }
  reqs[1]->wait();
  BOOST_TEST(reqs[1]->test());
  const float n = static_cast<float>(comm().world_size());
  for (size_t i = 0; i < 1000; i += 111) {
    BOOST_TEST(bufs[0][i] == n * static_cast<float>(i) + sum_of_ranks());
    BOOST_TEST(bufs[1][i] == (n * static_cast<float>(1 + i) + sum_of_ranks()) / n,
               boost::test_tools::tolerance(1e-6f));
  }
  comm().barrier();
}
