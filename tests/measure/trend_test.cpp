#include "harness/measure/trend.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace lm = leakbench::measure;

TEST(trend, exact_line_gives_its_slope_and_r2_of_one) {
  std::vector<double> x, y;
  for (int i = 0; i < 20; ++i) {
    x.push_back(i);
    y.push_back(37e6 + 33554432.0 * i);  // an RSS-like offset plus 32 MiB per retry
  }
  const auto t = lm::fit_trend(x, y);
  EXPECT_DOUBLE_EQ(t.slope, 33554432.0);
  EXPECT_NEAR(t.intercept, 37e6, 1e-3);
  EXPECT_DOUBLE_EQ(t.r2, 1.0);
  EXPECT_NEAR(t.slope_stderr, 0.0, 1e-6);
  EXPECT_DOUBLE_EQ(t.theil_sen, 33554432.0);
  EXPECT_EQ(t.points, 20u);
}

TEST(trend, flat_series_has_zero_slope_and_r2_of_one) {
  const std::vector<double> y(10, 5.0);
  const auto t = lm::fit_trend(y);
  EXPECT_EQ(t.slope, 0.0);
  EXPECT_EQ(t.r2, 1.0);
  EXPECT_EQ(t.theil_sen, 0.0);
}

TEST(trend, theil_sen_ignores_one_wild_outlier) {
  std::vector<double> y;
  for (int i = 0; i < 15; ++i) y.push_back(100.0 + 3.0 * i);
  y[12] = 1e9;  // a transient spike, late enough to pull least squares
  const auto t = lm::fit_trend(y);
  EXPECT_DOUBLE_EQ(t.theil_sen, 3.0);
  EXPECT_DOUBLE_EQ(t.theil_sen_intercept, 100.0);
  EXPECT_GT(std::abs(t.slope - 3.0), 1.0) << "least squares is expected to be moved";
}

TEST(trend, warmup_points_are_left_out) {
  std::vector<double> y = {1e9, 5e8, 10, 20, 30, 40};
  const auto t = lm::fit_trend(y, 2);
  EXPECT_EQ(t.points, 4u);
  EXPECT_DOUBLE_EQ(t.slope, 10.0);
  EXPECT_DOUBLE_EQ(t.r2, 1.0);
}

TEST(trend, confidence_interval_shrinks_as_points_are_added) {
  std::mt19937_64 rng(42);
  std::normal_distribution<double> noise(0.0, 50.0);
  std::vector<double> y;
  for (int i = 0; i < 400; ++i) y.push_back(1000.0 * i + noise(rng));
  double previous = INFINITY;
  for (std::size_t n : {5u, 10u, 25u, 50u, 100u, 400u}) {
    const auto t = lm::fit_trend(std::span(y).first(n));
    EXPECT_LT(t.slope_ci95, previous) << n << " points";
    EXPECT_GT(t.slope_ci95, 0.0);
    EXPECT_NEAR(t.slope, 1000.0, 5 * t.slope_ci95);
    previous = t.slope_ci95;
  }
}

TEST(trend, ci_uses_student_t_quantile) {
  // y = 2x with residuals +1, -1, -1, +1: sse = 4, sxx = 5, stderr = sqrt(4 / 2 / 5),
  // and the 97.5% quantile of Student's t with 2 degrees of freedom is 4.302653.
  const std::vector<double> y = {1.0, 1.0, 3.0, 7.0};
  const auto t = lm::fit_trend(y);
  EXPECT_NEAR(t.slope, 2.0, 1e-12);
  EXPECT_NEAR(t.intercept, 0.0, 1e-12);
  EXPECT_NEAR(t.slope_stderr, std::sqrt(0.4), 1e-12);
  EXPECT_NEAR(t.slope_ci95, 4.302653 * std::sqrt(0.4), 1e-6);
  EXPECT_NEAR(t.r2, 1.0 - 4.0 / 24.0, 1e-12);
}

TEST(trend, two_points_fit_with_infinite_uncertainty) {
  const std::vector<double> y = {1.0, 3.0};
  const auto t = lm::fit_trend(y);
  EXPECT_DOUBLE_EQ(t.slope, 2.0);
  EXPECT_TRUE(std::isinf(t.slope_ci95));
}

TEST(trend, bad_input_is_a_clear_error_not_nan) {
  const std::vector<double> one = {1.0};
  EXPECT_THROW(lm::fit_trend(one), lm::trend_error);
  const std::vector<double> x = {2.0, 2.0, 2.0}, y = {1.0, 2.0, 3.0};
  try {
    lm::fit_trend(x, y);
    FAIL() << "no error for equal x";
  } catch (const lm::trend_error& e) {
    EXPECT_NE(std::string(e.what()).find("all x values are equal"), std::string::npos);
  }
  const std::vector<double> nan = {1.0, NAN, 3.0};
  EXPECT_THROW(lm::fit_trend(nan), lm::trend_error);
  EXPECT_THROW(lm::fit_trend(std::vector<double>{1, 2, 3}, std::vector<double>{1, 2}),
               lm::trend_error);
  try {
    lm::fit_trend(std::vector<double>{1, 2, 3}, 2);
    FAIL() << "no error for one point after the warm-up";
  } catch (const lm::trend_error& e) {
    EXPECT_STREQ(e.what(), "trend fit: needs at least 2 points after a warm-up of 2, got 3");
  }
}

TEST(trend, reports_what_the_bounded_interval_is_made_of) {
  // Residuals +1, -1, -1, +1 about y = 2x: range 2, lag-1 sum (-1 + 1 - 1) / sse 4 = -0.25;
  // weights (x - 1.5) / 5 are -0.3, -0.1, 0.1, 0.3: the positive ones sum to 0.4.
  const auto t = lm::fit_trend(std::vector<double>{1.0, 1.0, 3.0, 7.0});
  EXPECT_DOUBLE_EQ(t.residual_range, 2.0);
  EXPECT_NEAR(t.lag1, -0.25, 1e-12);
  EXPECT_NEAR(t.bound_weight, 0.4, 1e-12);
  // A negative lag-1 correlation does not narrow the interval; the bounded part is the larger
  // of the quantum and the range, times the weight.
  EXPECT_NEAR(lm::bounded_slope_ci95(t, 0.5), t.slope_ci95 + 2.0 * 0.4, 1e-9);
  EXPECT_NEAR(lm::bounded_slope_ci95(t, 10.0), t.slope_ci95 + 10.0 * 0.4, 1e-9);
}

TEST(trend, positive_dependence_between_residuals_widens_the_interval) {
  // Residuals +1, +1, -1, -1, -1, -1, +1, +1 about a flat line: neighbours' products sum to
  // 5 - 2 = 3 over a squared sum of 8, a lag-1 correlation of 0.375; quantum 0.
  const auto t = lm::fit_trend(std::vector<double>{1, 1, -1, -1, -1, -1, 1, 1});
  ASSERT_NEAR(t.lag1, 0.375, 1e-12);
  const double inflation = std::sqrt((1 + t.lag1) / (1 - t.lag1));
  EXPECT_NEAR(lm::bounded_slope_ci95(t, 0.0),
              t.slope_ci95 * inflation + t.residual_range * t.bound_weight, 1e-9);
}

TEST(trend, the_bounded_interval_covers_a_growth_hidden_in_whole_pages) {
  // 1 KiB per retry read in 4 KiB pages, its first 4 KiB absorbed by memory the allocator held
  // resident: RSS reads 0 for six fitted retries, then one page. The textbook interval of that
  // (596 +- 297 B) misses 1 KiB; the bounded one must not.
  std::vector<double> rss;
  for (int i = 0; i < 12; ++i) {
    rss.push_back(4096.0 * std::floor(std::max(0.0, 1024.0 * i - 4096) / 4096.0));
  }
  const auto t = lm::fit_trend(rss, 2);
  EXPECT_GT(std::abs(t.slope - 1024.0), t.slope_ci95) << "the textbook interval should miss";
  EXPECT_LE(std::abs(t.slope - 1024.0), lm::bounded_slope_ci95(t, 4096.0));
}

TEST(trend, the_bounded_interval_of_two_points_is_infinite) {
  const auto t = lm::fit_trend(std::vector<double>{1.0, 3.0});
  EXPECT_TRUE(std::isinf(lm::bounded_slope_ci95(t, 4096.0)));
}
