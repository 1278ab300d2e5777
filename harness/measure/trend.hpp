#pragma once

#include <cstddef>
#include <span>
#include <stdexcept>

namespace leakbench::measure {

/// Thrown when a trend cannot be fitted (too few points, all x equal, non-finite values).
class trend_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// A straight line fitted to (x, y) points: how leakbench turns samples into bytes per retry.
struct trend {
  std::size_t points = 0;   ///< points used (after the warm-up)
  double slope = 0;         ///< least-squares slope
  double intercept = 0;     ///< least-squares intercept
  double r2 = 0;            ///< coefficient of determination; 1 when y is constant
  double slope_stderr = 0;  ///< standard error of the slope; +inf with 2 points
  double slope_ci95 = 0;    ///< half-width of the slope's 95% confidence interval (Student t)
  double theil_sen = 0;     ///< Theil-Sen slope: median of pairwise slopes, outlier-robust
  double theil_sen_intercept = 0;  ///< median of y - theil_sen * x
  double residual_range = 0;       ///< max - min of the residuals about the least-squares line
  double lag1 = 0;  ///< lag-1 autocorrelation of the residuals (in x order); 0 if they are all 0
  /// The sum of the positive least-squares weights (x_i - mean x) / Sxx: the most the slope can
  /// move when each y_i moves by any amount within a range of width 1.
  double bound_weight = 0;
};

/// Fits y against x, leaving out the first `warmup` points.
/// Throws trend_error on mismatched sizes, fewer than 2 points, all x equal or non-finite data.
trend fit_trend(std::span<const double> x, std::span<const double> y, std::size_t warmup = 0);

/// Fits y against its index 0, 1, 2, ... (one point per retry), leaving out `warmup` points.
trend fit_trend(std::span<const double> y, std::size_t warmup = 0);

/// The half-width of a 95% interval for the slope of cumulative samples that move in steps of
/// `quantum` (RSS: one page) and may be off the line by a bounded amount (memory an allocator
/// keeps or reuses): the Student-t interval widened for lag-1 dependence between residuals,
/// plus the most a bounded error of width max(quantum, residual range) can move the slope.
/// Infinite with 2 points. docs/counters.md gives the method and the coverage it was tested at.
double bounded_slope_ci95(const trend& t, double quantum);

}  // namespace leakbench::measure
