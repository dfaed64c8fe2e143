#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/parallel_flags.h"
#include "cli/train_control.h"
#include "core/error.h"
#include "engine/checkpoint.h"
#include "engine/interrupt.h"
#include "engine/rank_context.h"
#include "engine/record.h"
#include "engine/run_config.h"
#include "engine/run_setup.h"
#include "engine/shards.h"
#include "engine/trainer.h"
#include "io/atomic_file.h"

namespace thaw::cli {

namespace {

// The flags fill a RunConfig: the run record keeps it, and `thaw replay` sets the run up from it.
using TrainArgs = RunConfig;

void prepare_out_dir(const std::filesystem::path& dir, bool overwrite) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if ((fs::exists(dir / "weights.safetensors", ec) || fs::exists(dir / "record.json", ec)) && !overwrite) {
    fail_user("--out: ", dir.string(), " already holds a run; choose another folder or pass --overwrite");
  }
  fs::create_directories(dir, ec);
  if (ec) fail_user("--out: cannot create ", dir.string(), ": ", ec.message());
}

// Paths in the record are absolute, so that a replay from another working folder finds the same files.
RunConfig with_absolute_paths(RunConfig c) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!c.weights.empty()) c.weights = fs::absolute(c.weights).string();
  if (c.data != "fashion-mnist" && fs::exists(c.data, ec)) c.data = fs::absolute(c.data).string();
  return c;
}

void run_train(const TrainArgs& args, const TrainControl& control, const std::string& command_line,
               RankContext& ranks) {
  const std::optional<ResumeSource> resume = open_resume_flags(control, args);
  const RunConfig a = resume ? resume->config : with_absolute_paths(args);
  check_threads(a.threads);
  if (a.out.empty()) fail_user("--out: a run folder is required");
  checkpoint_policy(a, control);  // the flags' errors before anything is opened
  ranks.agree_on(nlohmann::json(a).dump());
  RunSetup run = setup_run(a);
  TrainConfig& cfg = run.train;
  cfg.ranks = ranks.total_ranks();
  validate_shards(cfg, run.graph);
  const bool writer = ranks.is_writer();  // rank 0 alone writes the run folder
  cfg.interactive = writer && isatty(STDERR_FILENO) != 0;
  cfg.out_dir = a.out;
  if (writer && !resume) prepare_out_dir(cfg.out_dir, a.overwrite);

  // A resumed run starts from its checkpoint's state and position (engine/train_resume.h).
  std::optional<ResumePoint> point;
  if (resume) point = find_resume_point(*resume, run);
  InitialState init = point ? InitialState{std::move(point->checkpoint.state), point->checkpoint.file.string(), "", ""}
                             : initial_state(a, run.graph);
  if (point) set_start(cfg, point->checkpoint);
  const TrainCheckpoint* restore = point ? &point->checkpoint : nullptr;
  const CheckpointPolicy policy = checkpoint_policy(a, control, cfg.start_step);
  if (!writer) {
    InterruptGuard interrupt;
    CheckpointHook hook(cfg.out_dir, run.graph, policy, checkpoint_base(run, nullptr), &interrupt, restore);
    cfg.hook = &hook;
    const TrainSummary s =
        ranks.train(run.graph, init.state, *run.train_data, run.val_data.get(), cfg, std::cerr, nullptr);
    if (s.halted && interrupt.signal_received() != 0) throw ExitStatus{128 + interrupt.signal_received()};
    return;
  }
  if (point) {
    std::cerr << "thaw: resuming " << cfg.out_dir.string() << " from " << point->checkpoint.file.string() << "\n";
  } else if (a.weights.empty()) {
    std::cerr << "thaw: no --weights given: starting from a seeded random initialisation (seed " << a.seed << ")\n";
  } else if (!init.note.empty()) {
    std::cerr << "thaw: " << init.note << "\n";
  }
  std::cerr << "thaw: training " << run.train_data->describe() << "; held out: " << run.val_data->describe() << "\n";
  if (point) prepare_resume_folder(cfg.out_dir, *point);
  if (!point) remove_checkpoints_after(cfg.out_dir, 0);  // stale ones of a run this one --overwrites
  RunRecorder recorder = point ? RunRecorder(cfg.out_dir, resume->record, point->checkpoint.meta.progress.steps_done,
                                             point->chain, resume_entry(*resume, *point, command_line))
                               : RunRecorder(cfg.out_dir, a, command_line, run, init);
  InterruptGuard interrupt;
  CheckpointHook hook(cfg.out_dir, run.graph, policy, checkpoint_base(run, &recorder.record()), &interrupt, restore);
  cfg.hook = &hook;
  TrainSummary s =
      ranks.train(run.graph, init.state, *run.train_data, run.val_data.get(), cfg, std::cerr, &recorder.steps());
  if (s.halted) {
    recorder.stopped(hook.last_checkpoint_steps(), hook.last_checkpoint(),
                     hook.stop_signal() != 0 ? signal_name(hook.stop_signal()) : "--stop-at-step");
    if (const int code = report_stop(hook, planned_steps(cfg, run.train_data->size()), cfg.out_dir)) {
      throw ExitStatus{code};
    }
    return;
  }
  if (point) {  // summary.json lists the epochs finished before the stop too
    const int64_t first_epoch = cfg.start_step / point->checkpoint.meta.steps_per_epoch;
    const std::vector<EpochResult> before = epochs_before(cfg.out_dir, first_epoch);
    s.epochs.insert(s.epochs.begin(), before.begin(), before.end());
  }

  const std::filesystem::path weights_file = cfg.out_dir / "weights.safetensors";
  std::map<std::string, std::string> meta = {{"thaw_freeze_through", a.freeze_through},
                                             {"thaw_seed", std::to_string(a.seed)}};
  // The class order of the outputs, for `thaw predict` on images (only when the head has exactly these).
  const std::vector<std::string> names = run.train_full->class_names();
  if (static_cast<int64_t>(names.size()) == run.classes) meta["thaw_class_names"] = nlohmann::json(names).dump();
  save_weights(weights_file, run.graph, init.state, meta);
  recorder.finish(s, run.graph, init.state, weights_file);
  nlohmann::json j;
  j["command"] = command_line;
  j["data"] = args.data;
  j["initial_weights"] = a.weights.empty() ? "seeded random initialisation (seed " + std::to_string(a.seed) + ")"
                                           : args.weights;
  j["classes"] = run.classes;
  j["class_names"] = run.train_full->class_names();
  j["input_size"] = a.input_size;
  j["freeze_through"] = a.freeze_through;
  j["trainable_parameters"] = s.trainable_parameters;
  j["steps"] = s.steps;
  for (const EpochResult& e : s.epochs) {
    j["epochs"].push_back({{"epoch", e.epoch}, {"train_loss", e.train_loss}, {"seconds", e.seconds},
                           {"images_per_s", e.images_per_s}, {"val_loss", e.val_loss}, {"val_accuracy", e.val_accuracy}});
  }
  write_file_atomic(cfg.out_dir / "summary.json", j.dump(2) + "\n");
  if (s.epochs.empty()) {  // resumed after the last step of a run whose epochs left no record
    std::cout << "weights in " << weights_file.string() << "\n";
    return;
  }
  const EpochResult& last = s.epochs.back();
  std::cout << "held-out accuracy " << last.val_accuracy * 100 << "% (" << run.val_data->size() << " samples, chance "
            << 100.0 / static_cast<double>(run.train_full->num_classes()) << "%); weights in "
            << weights_file.string() << "\n";
}

}  // namespace

void add_train(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  a->shards = 0;  // the default rule (engine/shards.h); RunConfig's own default is for old records
  auto parallel = std::make_shared<ParallelFlags>();
  auto control = std::make_shared<TrainControl>();
  CLI::App* sub = app.add_subcommand("train", "Fine-tune on a dataset, freezing the front of the network");
  sub->add_option("--data", a->data,
                  "Dataset: fashion-mnist, a folder of IDX files, a folder of class folders of images, a CSV "
                  "manifest, or a pack made by thaw pack (docs/data.md)")
      ->capture_default_str();
  sub->add_option("--val-fraction", a->val_fraction, "Carve this fraction of train out as validation (data without a val split)");
  sub->add_option("--rrc-scale", a->rrc_scale, "Random-resized crop: area fraction min,max")
      ->delimiter(',')
      ->expected(2)
      ->capture_default_str();
  sub->add_option("--rrc-ratio", a->rrc_ratio, "Random-resized crop: aspect ratio min,max")
      ->delimiter(',')
      ->expected(2)
      ->capture_default_str();
  sub->add_option("--brightness", a->brightness, "Brightness jitter: factor in [1-b, 1+b]")->capture_default_str();
  sub->add_option("--contrast", a->contrast, "Contrast jitter: factor in [1-c, 1+c]")->capture_default_str();
  sub->add_option("--class-subset", a->class_subset, "Only these classes of the data, renumbered: 0-4, 5,7,9 or names");
  sub->add_option("--test-fraction", a->test_fraction, "Image data: carve this fraction of train out as test first");
  sub->add_option("--augment", a->augment, "Training augmentation: random, or none (evaluation pixels)")
      ->capture_default_str();
  sub->add_option("--feature-cache", a->feature_cache,
                  "Reuse the frozen part's output where its input repeats: auto or off (never changes the bits)")
      ->capture_default_str();
  sub->add_option("--feature-cache-mb", a->feature_cache_mb, "Feature cache memory (MiB) before it spills to disk")
      ->capture_default_str();
  sub->add_option("--weights", a->weights, "Initial weights (safetensors with timm keys); default: seeded random");
  sub->add_option("--arch", a->arch, "inception_v4 or inception_v3")->capture_default_str();
  sub->add_option("--classes", a->classes, "Output classes (default: the dataset's)");
  sub->add_option("--freeze-through", a->freeze_through, "Freeze this block and all before it")->capture_default_str();
  sub->add_option("--epochs", a->epochs, "Passes over the training data")->capture_default_str();
  sub->add_option("--batch-size", a->batch_size, "Images per step")->capture_default_str();
  sub->add_option("--lr", a->lr, "Base learning rate")->capture_default_str();
  sub->add_option("--lr-schedule", a->lr_schedule, "constant, step or cosine")->capture_default_str();
  sub->add_option("--warmup-steps", a->warmup_steps, "Linear warm-up steps")->capture_default_str();
  sub->add_option("--warmup-start-factor", a->warmup_start_factor, "Warm-up starts at this fraction of --lr")
      ->capture_default_str();
  sub->add_option("--lr-step-size", a->lr_step_size, "Step schedule: steps between decays");
  sub->add_option("--lr-gamma", a->lr_gamma, "Step schedule: decay factor")->capture_default_str();
  sub->add_option("--min-lr", a->min_lr, "Cosine schedule: final learning rate")->capture_default_str();
  sub->add_option("--optimizer", a->optimizer, "sgd or adamw")->capture_default_str();
  sub->add_option("--beta1", a->beta1, "AdamW beta1")->capture_default_str();
  sub->add_option("--beta2", a->beta2, "AdamW beta2")->capture_default_str();
  sub->add_option("--eps", a->eps, "AdamW epsilon")->capture_default_str();
  sub->add_option("--momentum", a->momentum, "SGD momentum")->capture_default_str();
  sub->add_flag("--nesterov", a->nesterov, "Nesterov momentum");
  sub->add_option("--weight-decay", a->weight_decay, "Weight decay (conv and linear weights)")->capture_default_str();
  sub->add_option("--label-smoothing", a->label_smoothing, "Label smoothing in [0, 1)")->capture_default_str();
  sub->add_option("--class-weights", a->class_weights, "Per-class loss weights, comma separated")->delimiter(',');
  sub->add_option("--bn", a->bn, "Batch norm in trainable blocks: train or frozen")->capture_default_str();
  sub->add_option("--dropout", a->dropout, "Dropout before the classifier")->capture_default_str();
  sub->add_option("--seed", a->seed, "Seed of every random choice")->capture_default_str();
  sub->add_option("--input-size", a->input_size, "Input height and width (>= 75)")->capture_default_str();
  sub->add_option("--out", a->out, "Run folder for weights and logs (required unless --resume)");
  sub->add_flag("--overwrite", a->overwrite, "Replace a run already in --out");
  sub->add_option("--threads", a->threads, "CPU threads (0: all cores)")->capture_default_str();
  sub->add_option("--train-limit", a->train_limit, "Use only the first N training samples");
  sub->add_option("--val-limit", a->val_limit, "Use only the first N held-out samples");
  sub->add_option("--max-steps", a->max_steps, "Stop after N steps");
  sub->add_option("--eval-batch-size", a->eval_batch_size, "Images per evaluation batch")->capture_default_str();
  sub->add_option("--workers", a->workers, "Data loader threads (0: one per core); never changes the bits")
      ->capture_default_str();
  sub->add_option("--on-bad-image", a->on_bad_image,
                  "An unreadable image: fail (stop) or skip (left out, listed in the run folder's skipped.txt)")
      ->capture_default_str();
  sub->add_option("--shards", a->shards,
                  "Virtual shards of each batch (a power of two dividing --batch-size; batch norm sees one shard); "
                  "default 8 where it divides the batch size, else 1");
  sub->add_option("--device", a->device,
                  "Where the training step runs: cpu, or cuda (GPU 0, one rank; evaluation stays on the CPU)")
      ->capture_default_str();
  sub->add_option("--precision", a->precision,
                  "fp32, or tf32 with --device cuda (TF32 tensor cores in convolutions and matrix products)")
      ->capture_default_str();
  add_parallel_flags(sub, *parallel);
  add_train_control_flags(sub, *a, *control);
  sub->callback([a, parallel, control, sub] {
    std::ostringstream os;
    os << "thaw train";
    for (const auto& opt : sub->get_options()) {
      if (opt->count() == 0 || opt->get_name() == "--help") continue;
      os << ' ' << opt->get_name();
      for (const auto& r : opt->results()) os << ' ' << r;
    }
    RankContext ranks(parallel->options());
    ranks.run([&] { run_train(*a, *control, os.str(), ranks); });
  });
}

}  // namespace thaw::cli
