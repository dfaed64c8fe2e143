#pragma once
// A comm over device memory whose bytes travel through the host: each exchange copies the sends
// out to host buffers, exchanges those over a host comm (ThreadComm or MpiComm), and copies the
// receives back in. Sums stay where the data lives (the device's BufferSpace), in the fixed tree
// of engine/parallel/tree_reduce.h, so the bits are those of any other comm.
//
// Why it exists: NCCL refuses two ranks on one GPU, and the machine thaw is tested on has one GPU.
// Two GPU ranks on GPU 0 with this comm run everything of the GPU ranks but NCCL's transport, bit
// for bit against one rank (`thaw train --device cuda --devices 0,0 --gpu-comm staged`). It also
// works wherever NCCL does not (a GPU per process under an MPI without NCCL), at host-copy speed.
//
// The copies go through a Staging: for a GPU, pinned host buffers and copies on the rank's stream
// (engine/parallel/cuda_staging.h); in the CPU tests, host memory whose copies are only made at
// wait(), as an asynchronous device would, so that a missing wait shows up as wrong bytes.
#include <string_view>

#include "engine/parallel/comm.h"

namespace thaw {

class Staging {
 public:
  virtual ~Staging() = default;
  // A host area of `bytes`, valid until the next call (no copy may be queued on it then).
  virtual void* host(size_t bytes) = 0;
  // Queue a copy after the device work already queued.
  virtual void to_host(void* host, const void* device, size_t bytes) = 0;
  virtual void to_device(void* device, const void* host, size_t bytes) = 0;
  // Returns once every queued copy, and the device work queued before it, has completed.
  virtual void wait(std::string_view what) = 0;
};

class StagedComm : public Comm {
 public:
  // `host` carries the bytes between ranks; `device` is where the data lives and is added;
  // `staging` copies between the two. All three outlive the comm.
  StagedComm(Comm& host, BufferSpace& device, Staging& staging) : host_(host), device_(device), staging_(staging) {}
  int rank() const override { return host_.rank(); }
  int size() const override { return host_.size(); }
  std::string_view kind() const override { return "staged"; }
  BufferSpace& space() override { return device_; }
  bool any_thread() const override { return host_.any_thread(); }  // the Staging sets its GPU in each call
  // Pointers are device pointers.
  void exchange(std::span<const Transfer> sends, std::span<const Transfer> recvs, std::string_view what) override;
  void abort(const std::string& why) override { host_.abort(why); }
  bool stopped() const override { return host_.stopped(); }

 private:
  Comm& host_;
  BufferSpace& device_;
  Staging& staging_;
};

}  // namespace thaw
