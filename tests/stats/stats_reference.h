#pragma once
// The committed reference values (tests/stats/data/reference.json, made by
// scripts/make_stats_reference.py with scipy, statsmodels and scikit-learn) and the prediction
// files they were computed from.
#include <cmath>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace thaw::testkit {

// Every reference value is matched to this absolute difference.
inline constexpr double kRefTol = 1e-9;

inline std::string stats_data(const std::string& name) {
  return std::string(THAW_SOURCE_DIR) + "/tests/stats/data/" + name;
}

inline nlohmann::json load_stats_reference() {
  std::ifstream in(stats_data("reference.json"));
  if (!in) throw std::runtime_error("cannot read " + stats_data("reference.json"));
  return nlohmann::json::parse(in);
}

// A reference number against ours; null in the reference means undefined, NaN or null in ours.
inline void expect_near_ref(const nlohmann::json& ref, double ours, const std::string& what) {
  if (ref.is_null()) {
    EXPECT_TRUE(std::isnan(ours)) << what << ": expected undefined, got " << ours;
    return;
  }
  EXPECT_NEAR(ours, ref.get<double>(), kRefTol) << what;
}

inline void expect_near_ref(const nlohmann::json& ref, const nlohmann::json& ours, const std::string& what) {
  if (ref.is_null()) {
    EXPECT_TRUE(ours.is_null()) << what << ": expected null, got " << ours;
    return;
  }
  ASSERT_TRUE(ours.is_number()) << what << ": expected a number, got " << ours;
  EXPECT_NEAR(ours.get<double>(), ref.get<double>(), kRefTol) << what;
}

}  // namespace thaw::testkit
