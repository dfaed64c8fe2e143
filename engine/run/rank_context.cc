#include "engine/run/rank_context.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ostream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/sha256.h"
#include "engine/parallel/comm_mpi.h"
#include "engine/parallel/launch_env.h"
#include "engine/parallel/rank_threads.h"


namespace thaw {

namespace {

// Rank 0's observer decides for everyone: after each step the ranks gather every rank's "go on"
// (an observer that is not there says yes) and stop together.
class StopVote final : public StepObserver {
 public:
  StopVote(Comm& comm, StepObserver* inner) : comm_(comm), inner_(inner) {}
  bool on_step(const StepInfo& info) override {
    const char go = inner_ == nullptr || inner_->on_step(info) ? 1 : 0;
    std::vector<char> all(static_cast<size_t>(comm_.size()));
    all_gather(comm_, &go, all.data(), 1, cat_str("decision to go on after step ", info.step));
    return std::all_of(all.begin(), all.end(), [](char c) { return c != 0; });
  }

 private:
  Comm& comm_;
  StepObserver* inner_;
};

// The first top-level key whose value differs, as "key: rank 0 has X, this rank has Y".
std::string first_difference(const std::string& ours, const std::string& theirs, int rank) {
  const nlohmann::json a = nlohmann::json::parse(theirs, nullptr, false);
  const nlohmann::json b = nlohmann::json::parse(ours, nullptr, false);
  if (a.is_object() && b.is_object()) {
    for (const auto& [k, v] : a.items()) {
      const nlohmann::json mine = b.contains(k) ? b[k] : nlohmann::json();
      if (mine != v) return cat_str(k, ": rank 0 has ", v.dump(), ", rank ", rank, " has ", mine.dump());
    }
    for (const auto& [k, v] : b.items()) {
      if (!a.contains(k)) return cat_str(k, ": rank 0 has none, rank ", rank, " has ", v.dump());
    }
  }
  return "the configurations differ";
}

}  // namespace

RankContext::RankContext(const RankOptions& o) : options_(o) {
  if (o.threads < 1) fail_user("--ranks: expected at least 1, got ", o.threads);
  if (o.timeout.count() <= 0) fail_user("--rank-timeout: expected a positive number of seconds");
  if (o.threads > 1 && !o.devices.empty()) fail_user("--ranks and --devices: give one of them");
  launch_ = detect_launch();
  if (!launch_) check_devices(o);  // under a launcher, --devices names each node's GPUs (set_device)
  const std::optional<LaunchEnv>& launch = launch_;
  if (!launch) return;
  if (o.threads > 1) {
    fail_user("--ranks ", o.threads, ": under ", launch->source == "SLURM_PROCID/SLURM_STEP_NUM_TASKS" ? "srun" : "mpirun",
              " every process is one rank; set the number of processes there instead");
  }
  if (!mpi_built()) {
    if (launch->size == 1) return;  // a launch of one needs no MPI
    fail_user("started as rank ", launch->rank, " of ", launch->size, " (", launch->source,
              ") but this thaw was built without MPI: install OpenMPI (scripts/setup) and rebuild");
  }
  mpi_ = std::make_unique<MpiSession>();
  if (mpi_->size() != launch->size) {
    fail_user("the launcher says ", launch->size, " ranks (", launch->source, ") but MPI sees ", mpi_->size(),
              ": was thaw started by another MPI's mpirun?");
  }
  mpi_comm_ = std::make_unique<MpiComm>(*mpi_, o.timeout);
}

RankContext::~RankContext() = default;

int RankContext::total_ranks() const { return mpi_ ? mpi_->size() : thread_ranks(); }

bool RankContext::is_writer() const { return !mpi_ || mpi_->rank() == 0; }

std::string RankContext::describe() const {
  if (mpi_) return cat_str("MPI rank ", mpi_->rank(), " of ", mpi_->size());
  if (!options_.devices.empty()) return cat_str(options_.devices.size(), " GPU rank", options_.devices.size() == 1 ? "" : "s");
  return options_.threads == 1 ? "1 rank" : cat_str(options_.threads, " thread ranks");
}

Comm* RankContext::process_comm() { return mpi_comm_.get(); }

void RankContext::run(const std::function<void()>& body) {
  if (!mpi_ || mpi_->size() == 1) return body();
  try {
    body();
  } catch (const UserError& e) {
    std::fprintf(stderr, "thaw: error: rank %d: %s\n", mpi_->rank(), e.what());
    std::fflush(stderr);
    mpi_->abort_job(2);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "thaw: error: rank %d: %s\n", mpi_->rank(), e.what());
    std::fflush(stderr);
    mpi_->abort_job(1);
  }
}

void RankContext::agree_on(const std::string& config_json) {
  if (!mpi_comm_ || mpi_comm_->size() == 1) return;
  Comm& comm = *mpi_comm_;
  const int n = comm.size(), r = comm.rank();
  const std::string mine = sha256_hex(config_json);
  std::vector<char> all(mine.size() * static_cast<size_t>(n));
  all_gather(comm, mine.data(), all.data(), mine.size(), "configuration hash");
  std::vector<int> differ;
  for (int q = 1; q < n; ++q) {
    if (std::memcmp(all.data() + q * mine.size(), all.data(), mine.size()) != 0) differ.push_back(q);
  }
  if (differ.empty()) return;
  // Rank 0's text to every rank, so each can name what differs.
  uint64_t len = config_json.size();
  broadcast(comm, &len, sizeof len, 0, "configuration length");
  std::string first(len, '\0');
  if (r == 0) first = config_json;
  broadcast(comm, first.data(), len, 0, "configuration");
  std::string ranks;
  for (int q : differ) ranks += cat_str(ranks.empty() ? "" : ", ", q);
  if (std::find(differ.begin(), differ.end(), r) != differ.end()) {
    fail_user("the configuration of rank ", r, " differs from rank 0's (", first_difference(config_json, first, r),
              "); every rank must run the same command");
  }
  fail_user("the configuration of rank ", ranks, " differs from rank 0's; every rank must run the same command");
}

TrainSummary RankContext::train(const Graph& g, ModelState<float>& state, const Dataset& train_data,
                                const Dataset* val_data, TrainConfig cfg, std::ostream& log, StepObserver* observer) {
  cfg.ranks = total_ranks();
  if (mpi_comm_) {
    cfg.comm = mpi_comm_.get();
    std::ostream quiet(nullptr);
    const bool writer = is_writer();
    if (!writer) {
      cfg.out_dir.clear();
      cfg.interactive = false;
      cfg.epoch_observer = nullptr;
    }
    std::unique_ptr<Comm> gpu;
    if (cfg.cuda) {
      cfg.gpu = process_gpu_;
      if (cfg.ranks > 1) gpu = make_gpu_comm(options_.gpu_comm, *mpi_comm_, cfg.gpu, options_.timeout);
      cfg.gpu_comm = gpu.get();
    }
    StopVote vote(*mpi_comm_, observer);
    return thaw::train(g, state, train_data, val_data, cfg, writer ? log : quiet, &vote);
  }
  if (cfg.cuda && !options_.devices.empty()) cfg.gpu = options_.devices[0];
  if (thread_ranks() == 1) return thaw::train(g, state, train_data, val_data, cfg, log, observer);
  return train_threads(g, state, train_data, val_data, cfg, log, observer);
}

TrainSummary RankContext::train_threads(const Graph& g, ModelState<float>& state, const Dataset& train_data,
                                        const Dataset* val_data, const TrainConfig& cfg, std::ostream& log,
                                        StepObserver* observer) {
  const int n = thread_ranks();
  // Replicas made before any rank starts to change rank 0's state.
  std::vector<ModelState<float>> replicas(static_cast<size_t>(n - 1), state);
  TrainSummary summary;
  run_thread_ranks(n, options_.timeout, [&](Comm& comm) {
    const int r = comm.rank();
    TrainConfig c = cfg;
    c.comm = &comm;
    std::unique_ptr<Comm> gpu;
    if (c.cuda && !options_.devices.empty()) {
      c.gpu = options_.devices[static_cast<size_t>(r)];
      gpu = make_gpu_comm(options_.gpu_comm, comm, c.gpu, options_.timeout);
      c.gpu_comm = gpu.get();
    }
    std::ostream quiet(nullptr);
    if (r != 0) {
      c.out_dir.clear();
      c.interactive = false;
      c.epoch_observer = nullptr;
    }
    StopVote vote(comm, r == 0 ? observer : nullptr);
    ModelState<float>& st = r == 0 ? state : replicas[static_cast<size_t>(r - 1)];
    TrainSummary s = thaw::train(g, st, train_data, val_data, c, r == 0 ? log : quiet, &vote);
    if (r == 0) summary = std::move(s);
  });
  return summary;
}

}  // namespace thaw
