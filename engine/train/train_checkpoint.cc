#include "engine/train/train_checkpoint.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>

#include "core/error.h"
#include "core/sha256.h"
#include "engine/model/tensor_checks.h"
#include "engine/model/state_hash.h"
#include "engine/model/weights_origin.h"
#include "io/safetensors.h"

namespace thaw {

namespace {

using ojson = nlohmann::ordered_json;

constexpr const char* kFilePrefix = "checkpoint-";
constexpr const char* kFileSuffix = ".safetensors";
constexpr const char* kGeneratorState =
    "counter-based: every draw is keyed by (seed, purpose, epoch or step, sample), so the seed and "
    "the position are the whole generator state";

double double_from_bits_hex(const std::string& hex, const std::string& origin) {
  if (hex.size() != 16 || hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
    fail_user(origin, ": epoch_loss_sum_bits is not 16 hex digits");
  }
  return std::bit_cast<double>(static_cast<uint64_t>(std::stoull(hex, nullptr, 16)));
}

// The state_dict tensor a state name belongs to ("x.weight.exp_avg" -> "x.weight"), for its shape.
int state_param_tensor(const Graph& g, const std::string& state_name) {
  const size_t dot = state_name.rfind('.');
  return dot == std::string::npos ? -1 : g.find_tensor(state_name.substr(0, dot));
}

template <typename T>
T meta_field(const ojson& j, const char* key, const std::string& origin) {
  if (!j.contains(key)) fail_user(origin, ": checkpoint metadata has no ", key);
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    fail_user(origin, ": checkpoint metadata field ", key, " has the wrong type");
  }
}

CheckpointMeta parse_meta(const ojson& j, const std::string& origin) {
  if (!j.is_object()) fail_user(origin, ": ", kCheckpointMetaKey, " metadata is not a JSON object");
  if (j.value("format", "") != kCheckpointFormat) fail_user(origin, ": expected format \"", kCheckpointFormat, "\"");
  const int64_t version = meta_field<int64_t>(j, "version", origin);
  if (version > kCheckpointVersion) {
    fail_user(origin, ": checkpoint format version ", version, " is newer than this thaw reads (", kCheckpointVersion,
              ")");
  }
  if (version < 1) fail_user(origin, ": bad checkpoint format version ", version);
  CheckpointMeta m;
  m.run_id = meta_field<std::string>(j, "run_id", origin);
  m.run_sha256 = meta_field<std::string>(j, "run_sha256", origin);
  m.progress.steps_done = meta_field<int64_t>(j, "steps_done", origin);
  m.progress.epoch = meta_field<int64_t>(j, "epoch", origin);
  m.progress.epoch_steps_done = meta_field<int64_t>(j, "epoch_steps_done", origin);
  m.progress.epoch_loss_sum = double_from_bits_hex(meta_field<std::string>(j, "epoch_loss_sum_bits", origin), origin);
  // Checkpoints written before the field kept no time: the epoch's summary counts the resumed part only.
  m.progress.epoch_seconds = j.contains("epoch_seconds") && j["epoch_seconds"].is_number() ? j["epoch_seconds"].get<double>() : 0.0;
  m.steps_per_epoch = meta_field<int64_t>(j, "steps_per_epoch", origin);
  m.total_steps = meta_field<int64_t>(j, "total_steps", origin);
  m.seed = meta_field<uint64_t>(j, "seed", origin);
  const TrainProgress& p = m.progress;
  const bool consistent = m.steps_per_epoch > 0 && p.steps_done >= 1 && p.steps_done <= m.total_steps &&
                          p.epoch_steps_done >= 1 && p.epoch_steps_done <= m.steps_per_epoch &&
                          p.steps_done == p.epoch * m.steps_per_epoch + p.epoch_steps_done;
  if (!consistent) {
    fail_user(origin, ": inconsistent position (", p.steps_done, " steps done, epoch ", p.epoch, " with ",
              p.epoch_steps_done, " of ", m.steps_per_epoch, " steps done, ", m.total_steps, " steps in all)");
  }
  return m;
}

}  // namespace

std::string run_identity_sha256(const nlohmann::ordered_json& record) {
  ojson id;
  id["resolved"] = record.at("resolved");
  id["freeze"] = record.at("freeze");
  id["manifest_sha256"] = record.at("data").at("manifest_sha256");
  id["initial_state_sha256"] = record.at("initial_weights").at("state_sha256");
  id["V"] = record.value("V", 1);
  return sha256_hex(id.dump());
}

void write_train_checkpoint(const std::filesystem::path& path, const Graph& g, const ModelState<float>& state,
                            const Optimizer<float>& optimizer, const CheckpointMeta& meta) {
  SafeTensorsWriter w;
  Sha256 data_hash;  // over the tensors' bytes in the order they are added, which is the file's
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    const TensorSpec& spec = g.tensors[i];
    if (spec.role == TensorRole::NumBatchesTracked) {
      const int64_t v = state.batches_tracked[i];
      w.add_int64_scalar(spec.name, v);
      data_hash.update(&v, sizeof v);
      continue;
    }
    const Tensor<float>& t = state.values[i];
    THAW_CHECK(t.shape() == spec.shape, "state tensor ", spec.name, " has shape ", shape_str(t.shape()));
    w.add(spec.name, t);
    data_hash.update(t.data(), static_cast<size_t>(t.numel()) * sizeof(float));
  }
  for (const auto& [name, span] : optimizer.state()) {
    const int p = state_param_tensor(g, name);
    const Shape shape = p >= 0 && shape_numel(g.tensors[p].shape) == static_cast<int64_t>(span.size())
                            ? g.tensors[p].shape
                            : Shape{static_cast<int64_t>(span.size())};
    w.add(kOptimizerTensorPrefix + name, DType::F32, shape, span.data());
    data_hash.update(span.data(), span.size() * sizeof(float));
  }
  const TrainProgress& p = meta.progress;
  ojson j;
  j["format"] = kCheckpointFormat;
  j["version"] = kCheckpointVersion;
  j["run_id"] = meta.run_id;
  j["run_sha256"] = meta.run_sha256;
  j["steps_done"] = p.steps_done;
  j["epoch"] = p.epoch;
  j["epoch_steps_done"] = p.epoch_steps_done;
  j["epoch_loss_sum"] = p.epoch_loss_sum;
  j["epoch_loss_sum_bits"] = double_bits_hex(p.epoch_loss_sum);
  j["epoch_seconds"] = p.epoch_seconds;
  j["steps_per_epoch"] = meta.steps_per_epoch;
  j["total_steps"] = meta.total_steps;
  j["seed"] = meta.seed;
  j["generator"] = "philox4x32-10";
  j["generator_state"] = kGeneratorState;
  j["optimizer"] = {{"kind", optimizer_kind_name(optimizer.config().kind)},
                    {"steps", optimizer.step_count()},
                    {"state_tensors", optimizer.state().size()}};
  j["data_sha256"] = data_hash.hex_digest();
  w.set_metadata("format", "pt");
  w.set_metadata("arch", g.arch);
  w.set_metadata("num_classes", std::to_string(g.num_classes));
  for (const auto& [k, v] : conventions_metadata(g)) w.set_metadata(k, v);
  w.set_metadata(kCheckpointMetaKey, j.dump());
  w.write(path);
}

ModelState<float> read_model_tensors(const SafeTensorsFile& file, const Graph& g) {
  const std::string& origin = file.origin();
  ModelState<float> state = ModelState<float>::zeros(g);
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    const TensorSpec& spec = g.tensors[i];
    if (!file.has(spec.name)) fail_user(origin, ": missing tensor ", spec.name);
    const SafeTensorInfo& info = file.info(spec.name);
    if (spec.role == TensorRole::NumBatchesTracked) {
      if (info.dtype != DType::I64) fail_user(origin, ": tensor ", spec.name, " is not an I64 scalar");
      state.batches_tracked[i] = read_batches_tracked(file, spec.name);
      continue;
    }
    // Exactly what training had: F32, nothing converted.
    if (info.dtype != DType::F32)
      fail_user(origin, ": tensor ", spec.name, " is ", dtype_name(info.dtype), ", expected F32");
    if (info.shape != spec.shape) {
      fail_user(origin, ": tensor ", spec.name, " has shape ", shape_str(info.shape), ", expected ",
                shape_str(spec.shape));
    }
    Tensor<float> t(spec.shape);
    std::memcpy(t.data(), info.bytes.data(), info.bytes.size());
    check_finite<float>({t.data(), static_cast<size_t>(t.numel())}, origin, spec.name);
    state.values[i] = std::move(t);
  }
  return state;
}

TrainCheckpoint read_train_checkpoint(const std::filesystem::path& path, const Graph& g,
                                      const std::string& expect_run_sha256) {
  const std::string origin = path.string();
  const SafeTensorsFile file = SafeTensorsFile::read(path);
  const auto it = file.metadata().find(kCheckpointMetaKey);
  if (it == file.metadata().end()) {
    fail_user(origin, ": not a thaw training checkpoint (no ", kCheckpointMetaKey, " metadata)");
  }
  const ojson j = ojson::parse(it->second, nullptr, false);
  if (j.is_discarded()) fail_user(origin, ": ", kCheckpointMetaKey, " metadata is not valid JSON");
  TrainCheckpoint c;
  c.file = path;
  c.meta = parse_meta(j, origin);
  if (!expect_run_sha256.empty() && c.meta.run_sha256 != expect_run_sha256) {
    throw ForeignCheckpoint(cat_str(origin, ": checkpoint of another run configuration (run ", c.meta.run_id,
                                    ", identity ", c.meta.run_sha256.substr(0, 16), "...; this run's is ",
                                    expect_run_sha256.substr(0, 16), "...)"));
  }
  const ojson& opt = j.contains("optimizer") ? j["optimizer"] : ojson();
  c.optimizer_kind = meta_field<std::string>(opt, "kind", origin);
  c.optimizer_steps = meta_field<int64_t>(opt, "steps", origin);

  Sha256 data_hash;
  for (const std::string& name : file.names()) {
    const SafeTensorInfo& info = file.info(name);
    data_hash.update(info.bytes.data(), info.bytes.size());
  }
  if (data_hash.hex_digest() != meta_field<std::string>(j, "data_sha256", origin)) {
    fail_user(origin, ": tensor data does not match its recorded SHA-256 (the file is damaged)");
  }

  c.state = read_model_tensors(file, g);
  c.metadata = file.metadata();
  const std::string prefix = kOptimizerTensorPrefix;
  for (const std::string& name : file.names()) {
    if (g.find_tensor(name) >= 0) continue;
    if (name.rfind(prefix, 0) != 0) {
      fail_user(origin, ": unexpected tensor ", name, " (neither part of ", g.arch, " nor optimizer state)");
    }
    const SafeTensorInfo& info = file.info(name);
    if (info.dtype != DType::F32)
      fail_user(origin, ": tensor ", name, " is ", dtype_name(info.dtype), ", expected F32");
    std::vector<float> v(info.bytes.size() / sizeof(float));
    std::memcpy(v.data(), info.bytes.data(), info.bytes.size());
    c.optimizer_state.emplace(name.substr(prefix.size()), std::move(v));
  }
  return c;
}

void restore_optimizer(const TrainCheckpoint& c, Optimizer<float>& optimizer) {
  const std::string origin = c.file.string();
  const std::string kind = optimizer_kind_name(optimizer.config().kind);
  if (c.optimizer_kind != kind) fail_user(origin, ": optimizer state of ", c.optimizer_kind, ", the run uses ", kind);
  std::map<std::string, std::span<float>> state = optimizer.state();
  for (const auto& [name, span] : state) {
    const auto it = c.optimizer_state.find(name);
    if (it == c.optimizer_state.end()) fail_user(origin, ": missing optimizer state ", kOptimizerTensorPrefix, name);
    if (it->second.size() != span.size()) {
      fail_user(origin, ": optimizer state ", kOptimizerTensorPrefix, name, " has ", it->second.size(),
                " values, expected ", span.size());
    }
  }
  for (const auto& [name, values] : c.optimizer_state) {
    if (!state.contains(name)) fail_user(origin, ": unexpected optimizer state ", kOptimizerTensorPrefix, name);
  }
  for (auto& [name, span] : state)
    std::copy(c.optimizer_state.at(name).begin(), c.optimizer_state.at(name).end(), span.begin());
  optimizer.set_step_count(c.optimizer_steps);
}

std::filesystem::path checkpoint_path(const std::filesystem::path& run_dir, int64_t steps_done) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%09lld", static_cast<long long>(steps_done));
  return run_dir / (std::string(kFilePrefix) + buf + kFileSuffix);
}

std::vector<CheckpointFile> list_checkpoints(const std::filesystem::path& run_dir) {
  std::vector<CheckpointFile> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(run_dir, ec)) {
    const std::string name = entry.path().filename().string();
    const std::string prefix = kFilePrefix, suffix = kFileSuffix;
    if (name.size() <= prefix.size() + suffix.size() || name.rfind(prefix, 0) != 0 ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    const std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    if (digits.size() > 18 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    out.push_back({std::stoll(digits), entry.path()});
  }
  std::sort(out.begin(), out.end(), [](const CheckpointFile& a, const CheckpointFile& b) {
    return a.steps_done != b.steps_done ? a.steps_done < b.steps_done : a.path < b.path;
  });
  return out;
}

void prune_checkpoints(const std::filesystem::path& run_dir, int64_t keep) {
  THAW_CHECK(keep >= 1, "keep ", keep, " checkpoints");
  const std::vector<CheckpointFile> all = list_checkpoints(run_dir);
  for (size_t i = 0; i + static_cast<size_t>(keep) < all.size(); ++i) {
    std::error_code ec;
    std::filesystem::remove(all[i].path, ec);
    if (ec) fail_user("cannot remove the old checkpoint ", all[i].path.string(), ": ", ec.message());
  }
}

std::vector<std::filesystem::path> remove_checkpoints_after(const std::filesystem::path& run_dir, int64_t steps_done) {
  std::vector<std::filesystem::path> removed;
  for (const CheckpointFile& f : list_checkpoints(run_dir)) {
    if (f.steps_done <= steps_done) continue;
    std::error_code ec;
    std::filesystem::remove(f.path, ec);
    if (ec) fail_user("cannot remove the checkpoint ", f.path.string(), ": ", ec.message());
    removed.push_back(f.path);
  }
  return removed;
}

}  // namespace thaw
