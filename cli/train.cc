#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "engine/checkpoint.h"
#include "engine/trainer.h"
#include "graph/inception_v4.h"
#include "io/atomic_file.h"
#include "io/datasets.h"
#include "io/subset_dataset.h"

namespace thaw::cli {

namespace {

struct TrainArgs {
  std::string data = "fashion-mnist";
  std::string weights;
  int64_t classes = 0;
  std::string freeze_through = "none";
  int64_t epochs = 1;
  int64_t batch_size = 32;
  double lr = 0.01;
  std::string lr_schedule = "cosine";
  int64_t warmup_steps = 0;
  double warmup_start_factor = 0.0;
  int64_t lr_step_size = 0;
  double lr_gamma = 0.1;
  double min_lr = 0.0;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  std::string optimizer = "sgd";
  double momentum = 0.9;
  bool nesterov = false;
  double weight_decay = 1e-4;
  double label_smoothing = 0.0;
  std::vector<float> class_weights;
  std::string bn = "train";
  double dropout = 0.0;
  uint64_t seed = 0;
  int64_t input_size = 299;
  std::string out;
  bool overwrite = false;
  int threads = 0;
  int64_t train_limit = 0, val_limit = 0, max_steps = 0;
  int64_t eval_batch_size = 64;
};

void prepare_out_dir(const std::filesystem::path& dir, bool overwrite) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(dir / "weights.safetensors", ec) && !overwrite) {
    fail_user("--out: ", dir.string(), " already holds a run; choose another folder or pass --overwrite");
  }
  fs::create_directories(dir, ec);
  if (ec) fail_user("--out: cannot create ", dir.string(), ": ", ec.message());
}

void run_train(const TrainArgs& a, const std::string& command_line) {
  check_threads(a.threads);
  if (a.out.empty()) fail_user("--out: a run folder is required");
  const std::unique_ptr<Dataset> train_full = open_dataset(a.data, DataSplit::Train);
  const std::unique_ptr<Dataset> val_full = open_dataset(a.data, DataSplit::Test);
  const SubsetDataset train_data(*train_full, a.train_limit > 0 ? a.train_limit : train_full->size());
  const SubsetDataset val_data(*val_full, a.val_limit > 0 ? a.val_limit : val_full->size());
  const int64_t classes = a.classes > 0 ? a.classes : train_full->num_classes();

  const Graph g = build_inception_v4(a.input_size, classes, a.dropout);
  TrainConfig cfg;
  cfg.batch_size = a.batch_size;
  cfg.epochs = a.epochs;
  cfg.max_steps = a.max_steps;
  cfg.seed = a.seed;
  cfg.freeze_block = g.find_block(a.freeze_through);
  cfg.bn = parse_bn_policy(a.bn);
  cfg.optimizer.kind = parse_optimizer_kind(a.optimizer);
  cfg.optimizer.momentum = a.momentum;
  cfg.optimizer.nesterov = a.nesterov;
  cfg.optimizer.weight_decay = a.weight_decay;
  cfg.optimizer.beta1 = a.beta1;
  cfg.optimizer.beta2 = a.beta2;
  cfg.optimizer.eps = a.eps;
  validate_optimizer_config(cfg.optimizer);
  cfg.schedule.kind = parse_lr_schedule_kind(a.lr_schedule);
  cfg.schedule.base_lr = a.lr;
  cfg.schedule.warmup_steps = a.warmup_steps;
  cfg.schedule.warmup_start_factor = a.warmup_start_factor;
  cfg.schedule.gamma = a.lr_gamma;
  cfg.schedule.min_lr = a.min_lr;
  if (cfg.schedule.kind == LrScheduleConfig::Kind::Step) {
    if (a.lr_step_size < 1) fail_user("--lr-step-size: the step schedule needs a positive number of steps");
    cfg.schedule.step_size = a.lr_step_size;
  }
  if (a.label_smoothing < 0 || a.label_smoothing >= 1) {
    fail_user("--label-smoothing: expected a value in [0, 1), got ", a.label_smoothing);
  }
  cfg.label_smoothing = a.label_smoothing;
  cfg.class_weights = a.class_weights;
  cfg.eval_batch_size = a.eval_batch_size;
  cfg.interactive = isatty(STDERR_FILENO) != 0;
  cfg.out_dir = a.out;
  prepare_out_dir(cfg.out_dir, a.overwrite);

  ModelState<float> state = ModelState<float>::zeros(g);
  std::string init;
  if (a.weights.empty()) {
    state = ModelState<float>::random(g, a.seed);
    init = "seeded random initialisation (seed " + std::to_string(a.seed) + ")";
    std::cerr << "thaw: no --weights given: starting from a " << init << "\n";
  } else {
    const LoadReport rep = load_weights(a.weights, g, state, a.seed);
    init = a.weights;
    if (rep.head_reinitialised) std::cerr << "thaw: " << rep.note << "\n";
  }
  std::cerr << "thaw: training " << train_data.describe() << "; held out: " << val_data.describe() << "\n";
  const TrainSummary s = train(g, state, train_data, &val_data, cfg, std::cerr);

  save_weights(cfg.out_dir / "weights.safetensors", g, state,
               {{"thaw_freeze_through", a.freeze_through}, {"thaw_seed", std::to_string(a.seed)}});
  nlohmann::json j;
  j["command"] = command_line;
  j["data"] = a.data;
  j["initial_weights"] = init;
  j["classes"] = classes;
  j["class_names"] = train_full->class_names();
  j["input_size"] = a.input_size;
  j["freeze_through"] = a.freeze_through;
  j["trainable_parameters"] = s.trainable_parameters;
  j["steps"] = s.steps;
  for (const EpochResult& e : s.epochs) {
    j["epochs"].push_back({{"epoch", e.epoch}, {"train_loss", e.train_loss}, {"seconds", e.seconds},
                           {"images_per_s", e.images_per_s}, {"val_loss", e.val_loss}, {"val_accuracy", e.val_accuracy}});
  }
  write_file_atomic(cfg.out_dir / "summary.json", j.dump(2) + "\n");
  const EpochResult& last = s.epochs.back();
  std::cout << "held-out accuracy " << last.val_accuracy * 100 << "% (" << val_data.size() << " samples, chance "
            << 100.0 / static_cast<double>(train_full->num_classes()) << "%); weights in "
            << (cfg.out_dir / "weights.safetensors").string() << "\n";
}

}  // namespace

void add_train(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  CLI::App* sub = app.add_subcommand("train", "Fine-tune on a dataset, freezing the front of the network");
  sub->add_option("--data", a->data, "Dataset: fashion-mnist, or a folder holding IDX files")->capture_default_str();
  sub->add_option("--weights", a->weights, "Initial weights (safetensors with timm keys); default: seeded random");
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
  sub->add_option("--out", a->out, "Run folder for weights and logs")->required();
  sub->add_flag("--overwrite", a->overwrite, "Replace a run already in --out");
  sub->add_option("--threads", a->threads, "CPU threads (0: all cores)")->capture_default_str();
  sub->add_option("--train-limit", a->train_limit, "Use only the first N training samples");
  sub->add_option("--val-limit", a->val_limit, "Use only the first N held-out samples");
  sub->add_option("--max-steps", a->max_steps, "Stop after N steps");
  sub->add_option("--eval-batch-size", a->eval_batch_size, "Images per evaluation batch")->capture_default_str();
  sub->callback([a, sub] {
    std::ostringstream os;
    os << "thaw train";
    for (const auto& opt : sub->get_options()) {
      if (opt->count() == 0 || opt->get_name() == "--help") continue;
      os << ' ' << opt->get_name();
      for (const auto& r : opt->results()) os << ' ' << r;
    }
    run_train(*a, os.str());
  });
}

}  // namespace thaw::cli
