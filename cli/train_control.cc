#include "cli/flag_range.h"
#include "cli/train_control.h"

#include "core/error.h"

namespace thaw::cli {

namespace {

// Flags that may come with --resume: they change how fast the run goes and how often it keeps
// checkpoints, never its bits.
bool allowed_with_resume(const std::string& name) {
  for (const char* ok : {"--help", "--resume", "--stop-at-step", "--threads", "--workers", "--checkpoint-every",
                         "--keep-checkpoints", "--ranks", "--devices", "--gpu-comm", "--rank-timeout"}) {
    if (name == ok) return true;
  }
  return false;
}

bool given(const TrainControl& c, const std::string& name) {
  const CLI::Option* opt = c.sub->get_option_no_throw(name);
  return opt != nullptr && opt->count() > 0;
}

}  // namespace

void add_train_control_flags(CLI::App* sub, RunConfig& a, TrainControl& c) {
  c.sub = sub;
  sub->add_option("--resume", c.resume,
                  "Go on with the stopped run in this folder from its newest checkpoint (its options come from its "
                  "record.json)");
  sub->add_option("--checkpoint-every", a.checkpoint_every,
                  "Write a checkpoint every S steps (0: at the end of each epoch); always at the end and on Ctrl-C")
      ->capture_default_str()->check(in_range(whole(0, kMaxCount, "0: at each epoch's end")));
  sub->add_option("--keep-checkpoints", a.keep_checkpoints, "Keep the newest K checkpoints in the run folder")
      ->capture_default_str()->check(in_range(whole(1, 1000000)));
  sub->add_option("--stop-at-step", c.stop_at_step,
                  "Stop with a checkpoint once N steps are done (continue later with --resume)")->check(in_range(whole(1, kMaxCount)));
}

std::optional<ResumeSource> open_resume_flags(const TrainControl& c, const RunConfig& args) {
  if (c.resume.empty()) return std::nullopt;
  for (const CLI::Option* opt : c.sub->get_options()) {
    if (opt->count() == 0 || allowed_with_resume(opt->get_name())) continue;
    fail_user("--resume: ", opt->get_name(), " cannot be given with it; a resumed run takes its options from ",
              (std::filesystem::path(c.resume) / "record.json").string());
  }
  ResumeSource s = open_resume(c.resume);
  if (given(c, "--threads")) s.config.threads = args.threads;
  if (given(c, "--workers")) s.config.workers = args.workers;
  if (given(c, "--checkpoint-every")) s.config.checkpoint_every = args.checkpoint_every;
  if (given(c, "--keep-checkpoints")) s.config.keep_checkpoints = args.keep_checkpoints;
  return s;
}

}  // namespace thaw::cli
