#include "engine/parallel/comm_mpi.h"

#include "core/error.h"

#if THAW_HAVE_MPI

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <thread>
#include <vector>

namespace thaw {

namespace {

std::string mpi_error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) return cat_str("MPI error ", code);
  return std::string(text, static_cast<size_t>(len));
}

void check_mpi(int code, const char* call, std::string_view context) {
  if (code != MPI_SUCCESS) fail_internal(call, " (", context, "): ", mpi_error_text(code));
}

}  // namespace

bool mpi_built() { return true; }

MpiSession::MpiSession() {
  int provided = 0;
  // The rank's training loop calls MPI, and its gradient buckets' thread while backward runs
  // (engine/parallel/grad_buckets.h), never both at once. With less than SERIALIZED the buckets are
  // reduced on the training loop's thread after backward.
  check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread", "start-up");
  serialized_ = provided >= MPI_THREAD_SERIALIZED;
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  check_mpi(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank", "start-up");
  check_mpi(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size", "start-up");
}

MpiSession::~MpiSession() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

void MpiSession::abort_job(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; this is for a library that would
}

struct MpiComm::Impl {
  MPI_Comm comm = MPI_COMM_NULL;
  std::vector<MPI_Request> requests;
};

MpiComm::MpiComm(MpiSession& session, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()), session_(session), timeout_(timeout) {
  // A communicator of its own: no other library's messages can match ours.
  check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &impl_->comm), "MPI_Comm_dup", "start-up");
  MPI_Comm_set_errhandler(impl_->comm, MPI_ERRORS_RETURN);
  check_mpi(MPI_Comm_rank(impl_->comm, &rank_), "MPI_Comm_rank", "start-up");
  check_mpi(MPI_Comm_size(impl_->comm, &size_), "MPI_Comm_size", "start-up");
}

MpiComm::~MpiComm() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && impl_->comm != MPI_COMM_NULL) MPI_Comm_free(&impl_->comm);
}

void MpiComm::exchange(std::span<const Transfer> sends, std::span<const Transfer> recvs, std::string_view what) {
  std::vector<MPI_Request>& req = impl_->requests;
  req.assign(sends.size() + recvs.size(), MPI_REQUEST_NULL);
  size_t k = 0;
  for (const Transfer& t : recvs) {
    THAW_CHECK(t.bytes <= INT_MAX && t.peer != rank_, "a receive of ", t.bytes, " bytes from rank ", t.peer);
    check_mpi(MPI_Irecv(t.data, static_cast<int>(t.bytes), MPI_BYTE, t.peer, 0, impl_->comm, &req[k++]), "MPI_Irecv",
              cat_str(what, " from rank ", t.peer));
  }
  for (const Transfer& t : sends) {
    THAW_CHECK(t.bytes <= INT_MAX && t.peer != rank_, "a send of ", t.bytes, " bytes to rank ", t.peer);
    check_mpi(MPI_Isend(t.data, static_cast<int>(t.bytes), MPI_BYTE, t.peer, 0, impl_->comm, &req[k++]), "MPI_Isend",
              cat_str(what, " to rank ", t.peer));
  }
  // Poll rather than block: a peer that never answers must end in a message, not a hang.
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  auto pause = std::chrono::microseconds(20);
  std::vector<MPI_Status> status(req.size());
  for (;;) {
    int done = 0;
    check_mpi(MPI_Testall(static_cast<int>(req.size()), req.data(), &done, status.data()), "MPI_Testall",
              std::string(what));
    if (done) break;
    if (std::chrono::steady_clock::now() > deadline) {
      std::string missing;
      int first = -1;
      for (size_t i = 0; i < recvs.size(); ++i) {
        int one = 0;
        MPI_Test(&req[i], &one, MPI_STATUS_IGNORE);
        if (one) continue;
        missing += cat_str(missing.empty() ? "" : ", ", recvs[i].peer);
        if (first < 0) first = recvs[i].peer;
      }
      if (missing.empty()) missing = "receiving";
      const double s = static_cast<double>(timeout_.count()) / 1000.0;
      throw RankFailure(first, cat_str("rank ", missing, " did not answer for ", s, " s (rank ", rank_,
                                       " was waiting for its ", what, ")"));
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(2000));
  }
  // Received sizes must match what was expected: the ranks run the same program.
  for (size_t i = 0; i < recvs.size(); ++i) {
    int count = 0;
    MPI_Get_count(&status[i], MPI_BYTE, &count);
    if (static_cast<size_t>(count) != recvs[i].bytes) {
      fail_internal("rank ", recvs[i].peer, " sent ", count, " bytes of ", what, " to rank ", rank_, ", which expected ",
                    recvs[i].bytes, ": the ranks are out of step");
    }
  }
}

void MpiComm::abort(const std::string&) { session_.abort_job(1); }

}  // namespace thaw

#else  // no MPI in this build

#include <cstdlib>

namespace thaw {

bool mpi_built() { return false; }

MpiSession::MpiSession() {
  fail_user("this thaw was built without MPI: install OpenMPI (scripts/setup) and rebuild to run under mpirun or srun");
}
MpiSession::~MpiSession() = default;
void MpiSession::abort_job(int code) { std::_Exit(code); }

struct MpiComm::Impl {};

MpiComm::MpiComm(MpiSession& session, std::chrono::milliseconds timeout) : session_(session), timeout_(timeout) {
  fail_user("this thaw was built without MPI");
}
MpiComm::~MpiComm() = default;
void MpiComm::exchange(std::span<const Transfer>, std::span<const Transfer>, std::string_view) {}
void MpiComm::abort(const std::string&) {}

}  // namespace thaw

#endif
