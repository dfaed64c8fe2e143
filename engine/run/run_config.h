#pragma once
// Everything `thaw train` was asked to do, as the user gave it (defaults filled in): the one
// description from which a run is set up, written into the run record and read back by replay.
// A new training option belongs here (and in to_json/from_json), or replay cannot repeat it.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/image_decode.h"

namespace thaw {

struct RunConfig {
  std::string data = "fashion-mnist";
  std::string weights;  // empty: seeded random initialisation
  std::string arch = "inception_v4";  // --arch (graph/network.h); records made before it ran v4
  int64_t classes = 0;  // 0: the dataset's
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
  int threads = 0;  // 0: all cores; never changes the bits
  int64_t train_limit = 0, val_limit = 0, max_steps = 0;
  int64_t eval_batch_size = 64;
  // Studies (issue 6). class_subset: the data's classes to use, renumbered (io/dataset_view.h:
  // "0-4", "5,7,9" or names). test_fraction: a test split carved out of train (image data without
  // one). augment: "random" (as before) or "none" (evaluation pixels in training too). The feature
  // cache of the frozen part (engine/infer/feature_cache.h), "auto" or "off", never changes the bits.
  std::string class_subset;
  double test_fraction = 0;
  std::string augment = "random";
  std::string feature_cache = "auto";
  int64_t feature_cache_mb = 2048;
  // Image data (io/datasets.h): the validation split and the training augmentation.
  double val_fraction = 0;
  std::vector<double> rrc_scale = {0.08, 1.0};
  std::vector<double> rrc_ratio = {3.0 / 4.0, 4.0 / 3.0};
  double brightness = 0.2, contrast = 0.2;
  // The batch loader (engine/data/loader.h): worker threads (0: one per core; never changes the bits)
  // and what an unreadable image does: "fail" or "skip" (left out, listed in skipped.txt).
  int workers = 0;
  std::string on_bad_image = "fail";
  // Virtual shards of the batch (engine/parallel/shards.h). 0: the default (8 where it divides the batch
  // size, else 1); records made before the option ran with 1, the default here.
  int64_t shards = 1;
  // Checkpoints (engine/train/checkpoint_hook.h): every this many steps (0: at each epoch's end) and
  // at the end, keeping the newest keep_checkpoints files. They never change the bits.
  int64_t checkpoint_every = 0;
  int64_t keep_checkpoints = 2;
  // Where the training step runs (engine/run/train_options.h): "cpu", or "cuda" (GPU 0, one rank).
  // Records made before the option trained on the CPU.
  std::string device = "cpu";
  // Arithmetic of the training step: "fp32", "tf32" (TF32 tensor cores in the GPU step's
  // convolutions and matrix products, --device cuda only) or "bf16" (the bf16 rule of
  // engine/model/mixed_precision.h). Records made before the option ran in fp32.
  std::string precision = "fp32";
  // --emulate-bf16: --precision bf16 on the CPU, the GPU's bf16 rounding emulated in fp32
  // (engine/model/mixed_precision.h). false in older records.
  bool emulate_bf16 = false;
  // timm's layer-wise learning-rate decay (engine/optim/layer_decay.h): 1 (off) in records made
  // before the option.
  double layer_decay = 1.0;
  // Discriminative rates by block ranges (engine/optim/layer_decay.h), "" (off) in older records.
  std::string lr_groups;
  // Images with more pixels are unreadable (io/image_decode.h); records made before the option ran
  // with this default.
  int64_t max_image_pixels = kMaxImagePixels;
  // --window C,W and --dicom-frame (io/pixel_mapping.h): "" (each DICOM file's own window) and 0 in
  // records made before the options, which read no DICOM files.
  std::string window;
  int64_t dicom_frame = 0;
  // --select / --patience (engine/train/best_epoch.h): "" and 0 (off) in older records.
  std::string select;
  int64_t patience = 0;
  // --mlflow: an MLflow file store the finished run is also written into (engine/run/mlflow_store.h);
  // never changes the bits. "" (none) in older records.
  std::string mlflow;
  // --tensorboard: a log folder the finished run's event file is written into
  // (engine/run/tensorboard_events.h); never changes the bits. "" (none) in older records.
  std::string tensorboard;
  // `thaw lr-find`'s stop: after the step whose smoothed loss is above this factor times its lowest
  // (engine/train/loss_smoother.h). 0 (never) in older records and in thaw train.
  double stop_on_divergence = 0;
  // --unfreeze: the freeze point by epoch, "BLOCK@EPOCH,..." (engine/train/unfreeze.h); "" (none)
  // in older records. With it, freeze_through is its epoch-0 point.
  std::string unfreeze;
  // false: --val-fraction 0 was given, the run trains on all its training images and evaluates on
  // nothing held out. true in older records.
  bool held_out = true;
  // --folds K --fold I: k-fold cross-validation of image data (io/folds.h), fold I the test split;
  // 0 and 0 (off) in older records.
  int64_t folds = 0, fold = 0;
};

// to_json / from_json with the struct's field names; a field missing from the JSON keeps its
// default (records written before the option existed ran with that default). Written out as
// NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT would, in two lists: that macro takes at most 63
// fields.
#define THAW_RUN_CONFIG_FIELDS_1                                                                                    \
  data, arch, weights, classes, freeze_through, epochs, batch_size, lr, lr_schedule, warmup_steps,                 \
      warmup_start_factor, lr_step_size, lr_gamma, min_lr, beta1, beta2, eps, optimizer, momentum, nesterov,       \
      weight_decay, label_smoothing, class_weights, bn, dropout, seed, input_size, out, overwrite, threads,         \
      train_limit, val_limit, max_steps, eval_batch_size, val_fraction, rrc_scale, rrc_ratio, workers, on_bad_image
#define THAW_RUN_CONFIG_FIELDS_2                                                                                    \
  brightness, contrast, shards, class_subset, test_fraction, augment, feature_cache, feature_cache_mb,             \
      checkpoint_every, keep_checkpoints, device, precision, layer_decay, lr_groups, max_image_pixels, select,      \
      patience, mlflow, tensorboard, stop_on_divergence, unfreeze, held_out, folds, fold, window, dicom_frame, emulate_bf16

inline void to_json(nlohmann::json& nlohmann_json_j, const RunConfig& nlohmann_json_t) {
  NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(NLOHMANN_JSON_TO, THAW_RUN_CONFIG_FIELDS_1))
  NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(NLOHMANN_JSON_TO, THAW_RUN_CONFIG_FIELDS_2))
}

inline void from_json(const nlohmann::json& nlohmann_json_j, RunConfig& nlohmann_json_t) {
  const RunConfig nlohmann_json_default_obj;
  NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(NLOHMANN_JSON_FROM_WITH_DEFAULT, THAW_RUN_CONFIG_FIELDS_1))
  NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(NLOHMANN_JSON_FROM_WITH_DEFAULT, THAW_RUN_CONFIG_FIELDS_2))
}

#undef THAW_RUN_CONFIG_FIELDS_1
#undef THAW_RUN_CONFIG_FIELDS_2

}  // namespace thaw
