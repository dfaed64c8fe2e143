#pragma once
// Where a training step's time goes (`thaw bench --profile`): time per node and part (forward,
// backward, and a convolution's backward split into its data and weight gradients), summed over
// the profiled steps, reported per block and per op kind so that the next optimisation is chosen
// from numbers. The CPU executor times its ops with the host clock; the GPU executor with CUDA
// events around each op on its stream (engine/gpu/cuda_executor.h), so both report the same rows.
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "graph/graph.h"

namespace thaw {

enum class ProfilePart { Forward, Backward, BackwardData, BackwardWeight };

class StepProfile {
 public:
  explicit StepProfile(const Graph& g);

  void add(int node, ProfilePart part, double ms);
  // Work outside the nodes (the loss, the optimizer, uploads), by name.
  void add_other(const std::string& what, double ms);
  // One more step profiled: the report divides by the count.
  void end_step() { ++steps_; }
  int64_t steps() const { return steps_; }

  // Per step: the op kinds ("conv fwd", "conv dgrad", "conv wgrad", "batch norm bwd", ...) and the
  // blocks (forward and backward ms each), largest first, with each row's share of the total.
  void write_report(std::ostream& os) const;
  nlohmann::json to_json() const;
  // Milliseconds per step of one op kind row ("conv fwd"), 0 when absent (for tests).
  double kind_ms(const std::string& kind) const;
  double total_ms() const;

 private:
  struct Row {
    std::string name;
    double ms = 0;
  };
  static void add_to(std::vector<Row>& rows, const std::string& name, double ms);
  std::vector<Row> sorted(const std::vector<Row>& rows) const;

  const Graph& g_;
  int64_t steps_ = 0;
  std::vector<Row> kinds_, others_;
  std::vector<double> block_fwd_, block_bwd_;
};

}  // namespace thaw
