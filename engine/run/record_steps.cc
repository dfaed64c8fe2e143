#include "engine/run/record_steps.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "engine/model/state_hash.h"
#include "io/file_bytes.h"

namespace thaw {

DigestRule record_digest_rule(const nlohmann::ordered_json& record) {
  return digest_rule_for_record_version(record.at("version").get<int64_t>());
}

nlohmann::ordered_json StepLineMaker::next(const StepInfo& info) {
  const StepDigest d = step_digest(previous_checksum_, info.params, rule_);
  const double norm = d.grad_norm;
  previous_checksum_ = d.checksum;
  nlohmann::ordered_json j;
  j["step"] = info.step;
  j["epoch"] = info.epoch;
  j["lr"] = info.lr;
  j["loss"] = info.loss;
  j["loss_bits"] = double_bits_hex(info.loss);
  j["grad_norm"] = norm;
  j["grad_norm_bits"] = double_bits_hex(norm);
  j["batch_hash"] = hex64(batch_hash(info.indices));
  j["param_checksum"] = hex64(previous_checksum_);
  return j;
}

StepsWriter::StepsWriter(const std::filesystem::path& path, DigestRule rule) : path_(path), maker_(rule) {
  file_ = std::fopen(path.c_str(), "w");
  if (file_ == nullptr) fail_user("cannot write ", path.string(), ": ", std::strerror(errno));
}

StepsWriter::StepsWriter(const std::filesystem::path& path, int64_t keep_lines, uint64_t previous_checksum,
                         DigestRule rule)
    : path_(path), maker_(rule, previous_checksum) {
  const std::string text = read_file_bytes(path, "the run folder has no step log");
  size_t end = 0;
  for (int64_t i = 0; i < keep_lines; ++i) {
    const size_t nl = text.find('\n', end);
    if (nl == std::string::npos) fail_user(path.string(), ": holds fewer than ", keep_lines, " whole lines");
    end = nl + 1;
  }
  std::error_code ec;
  std::filesystem::resize_file(path, end, ec);
  if (ec) fail_user("cannot write ", path.string(), ": ", ec.message());
  file_ = std::fopen(path.c_str(), "a");
  if (file_ == nullptr) fail_user("cannot write ", path.string(), ": ", std::strerror(errno));
}

StepsWriter::~StepsWriter() {
  if (file_) std::fclose(file_);
}

bool StepsWriter::on_step(const StepInfo& info) {
  const std::string line = maker_.next(info).dump() + "\n";
  // One fwrite of the whole line, then down to the disk: a crash leaves whole lines, at most a
  // torn last one, which readers ignore.
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0 ||
      fsync(fileno(file_)) != 0) {
    fail_user("cannot write ", path_.string(), ": ", std::strerror(errno));
  }
  return true;
}

}  // namespace thaw
