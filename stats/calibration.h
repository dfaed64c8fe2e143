#pragma once
// How far predicted probabilities are from observed frequencies: the Brier score and a reliability
// table with its expected calibration error (ECE), binned as scikit-learn's calibration_curve
// (strategy "uniform", version 1.2) bins: B equal-width bins with edges k * (1/B), a probability on
// an inner edge in the lower bin ((b/B, (b+1)/B], the first bin closed at 0); empty bins left out.
#include <cstdint>
#include <span>
#include <vector>

#include "stats/predictions.h"

namespace thaw {

struct ReliabilityBin {
  double lo = 0, hi = 0;        // the bin's edges
  int64_t count = 0;
  double mean_predicted = 0;    // mean probability in the bin
  double observed = 0;          // share of the bin's samples that are positive (or correct)
};

struct Reliability {
  int bins = 0;
  std::vector<ReliabilityBin> table;  // non-empty bins only, lowest first
  double ece = 0;  // sum over bins of count / N x |observed - mean_predicted|
};

// `probability[i]` of the event, `happened[i]` whether it did. bins >= 1; UserError without samples.
Reliability reliability(std::span<const double> probability, std::span<const uint8_t> happened, int bins);

// Mean squared difference between a probability and its 0/1 outcome (scikit-learn's
// brier_score_loss for one class).
double brier_score(std::span<const double> probability, std::span<const uint8_t> happened);
// The multi-class Brier score: the mean over samples of the summed squared differences over every
// class (the sum of the one-vs-rest scores; 0 perfect, 2 worst).
double multiclass_brier(const Predictions& p);

// The top-label view: each sample's highest probability, and whether its prediction was right.
std::vector<double> top_probability(const Predictions& p);
std::vector<uint8_t> prediction_correct(const Predictions& p);

}  // namespace thaw
