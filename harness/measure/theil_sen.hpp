#pragma once

#include <span>

namespace leakbench::measure {

/// The median of the slopes (y_j - y_i) / (x_j - x_i) over every pair with x_i != x_j (the
/// Theil-Sen estimator), in O(N) memory and O(N log N) time per bisection step (at most 64
/// steps per median rank): it never stores the N(N-1)/2 slopes. NaN if no pair has distinct x.
// Counting the slopes at most t is counting inversions of the points ordered by y - t x;
// bisection over the doubles (by their bit order) narrows t until at most N slopes remain in
// the interval, which are then listed as the pairs whose order differs at its two ends.
double theil_sen_slope(std::span<const double> x, std::span<const double> y);

}  // namespace leakbench::measure
