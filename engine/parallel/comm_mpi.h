#pragma once
// Ranks as processes started by mpirun or srun, one rank each. Built where CMake finds MPI
// (OpenMPI on Debian); elsewhere the constructors say that this thaw has no MPI.
//
// Faults: MPI calls return their errors (MPI_ERRORS_RETURN) and become exceptions; every wait
// polls its requests against the timeout and names the ranks that did not deliver. A rank that
// stops with an error ends the job (MpiSession::abort_job), so no rank waits for it forever.
#include <chrono>
#include <memory>
#include <string>

#include "engine/parallel/comm.h"

namespace thaw {

bool mpi_built();  // whether this thaw was built with MPI

// MPI for the lifetime of one command: MPI_Init_thread on construction, MPI_Finalize on
// destruction.
class MpiSession {
 public:
  MpiSession();
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  int rank() const { return rank_; }
  int size() const { return size_; }
  // MPI_THREAD_SERIALIZED or more: any thread may call MPI, one at a time.
  bool serialized() const { return serialized_; }
  // Ends every process of the job with `code` (MPI_Abort); the caller has printed why.
  [[noreturn]] void abort_job(int code);

 private:
  int rank_ = 0, size_ = 1;
  bool serialized_ = false;
};

class MpiComm final : public Comm {
 public:
  MpiComm(MpiSession& session, std::chrono::milliseconds timeout);
  ~MpiComm() override;
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string_view kind() const override { return "mpi"; }
  BufferSpace& space() override { return space_; }
  bool any_thread() const override { return session_.serialized(); }
  void exchange(std::span<const Transfer> sends, std::span<const Transfer> recvs, std::string_view what) override;
  void abort(const std::string& why) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  MpiSession& session_;
  std::chrono::milliseconds timeout_;
  int rank_ = 0, size_ = 1;
  HostSpace space_;
};

}  // namespace thaw
