#include "harness/measure/theil_sen.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

namespace leakbench::measure {
namespace {

struct point {
  double x, y;
};

/// Doubles mapped to integers in the same order, so bisection halves the doubles in between.
std::int64_t order_key(double d) {
  const auto bits = std::bit_cast<std::int64_t>(d);
  return bits < 0 ? std::numeric_limits<std::int64_t>::min() - bits : bits;
}
double from_order_key(std::int64_t k) {
  return std::bit_cast<double>(k < 0 ? std::numeric_limits<std::int64_t>::min() - k : k);
}

class pairwise_slopes {
 public:
  explicit pairwise_slopes(std::vector<point> pts) : pts_(std::move(pts)) {
    // x ascending; equal x by y descending, so that such a pair counts at every t (then
    // subtracted as `same_x_`): y_j - t x_j <= y_i - t x_i holds whatever t is.
    std::sort(pts_.begin(), pts_.end(), [](const point& a, const point& b) {
      return a.x < b.x || (a.x == b.x && a.y > b.y);
    });
    const auto n = static_cast<std::uint64_t>(pts_.size());
    for (std::size_t i = 0; i < pts_.size();) {
      std::size_t j = i;
      while (j < pts_.size() && pts_[j].x == pts_[i].x) ++j;
      same_x_ += static_cast<std::uint64_t>(j - i) * (j - i - 1) / 2;
      i = j;
    }
    pairs_ = n * (n - 1) / 2 - same_x_;
    scratch_.resize(pts_.size());
  }

  std::uint64_t pairs() const { return pairs_; }

  /// The k-th smallest slope, 0-based.
  double select(std::uint64_t k) {
    double ymin = pts_[0].y, ymax = pts_[0].y, min_dx = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < pts_.size(); ++i) {
      ymin = std::min(ymin, pts_[i].y);
      ymax = std::max(ymax, pts_[i].y);
      if (i > 0 && pts_[i].x != pts_[i - 1].x) min_dx = std::min(min_dx, pts_[i].x - pts_[i - 1].x);
    }
    const double bound = 2 * (ymax - ymin) / min_dx + 1;  // beyond every slope
    std::int64_t lo = order_key(-bound), hi = order_key(bound);
    std::uint64_t below = count_at_most(from_order_key(lo));  // 0
    std::uint64_t upto = count_at_most(from_order_key(hi));   // pairs_
    // Invariant: below <= k < upto, i.e. the k-th slope lies in (lo, hi].
    // hi - lo can pass INT64_MAX: measured in unsigned arithmetic, which wraps correctly.
    const auto gap = [&] {
      return static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
    };
    while (gap() > 1 && upto - below > pts_.size()) {
      const auto mid = static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + gap() / 2);
      const std::uint64_t c = count_at_most(from_order_key(mid));
      if (c > k) {
        hi = mid;
        upto = c;
      } else {
        lo = mid;
        below = c;
      }
    }
    if (gap() <= 1) return from_order_key(hi);  // (lo, hi] holds one double: every slope there
    auto slopes = slopes_between(from_order_key(lo), from_order_key(hi));
    const auto rank = std::min<std::uint64_t>(k - below, slopes.size() - 1);
    std::nth_element(slopes.begin(), slopes.begin() + static_cast<std::ptrdiff_t>(rank),
                     slopes.end());
    return slopes[rank];
  }

 private:
  /// Positions of the points ordered by y - t x descending (ties: by x order), in x order.
  void order_at(double t, std::vector<std::uint32_t>& order) const {
    order.resize(pts_.size());
    std::iota(order.begin(), order.end(), 0u);
    std::vector<double> z(pts_.size());
    for (std::size_t i = 0; i < pts_.size(); ++i) z[i] = pts_[i].y - t * pts_[i].x;
    std::sort(order.begin(), order.end(), [&z](std::uint32_t a, std::uint32_t b) {
      return z[a] > z[b] || (z[a] == z[b] && a < b);
    });
  }

  /// Slopes <= t: pairs i < j (x order) with z_j <= z_i, i.e. i before j in order_at(t).
  std::uint64_t count_at_most(double t) {
    std::vector<std::uint32_t> order;
    order_at(t, order);
    // In that order, a pair listed j-before-i (j > i) is an inversion: it does not count.
    const std::uint64_t n = pts_.size();
    return n * (n - 1) / 2 - inversions(order, nullptr) - same_x_;
  }

  /// Slopes in (lo, hi]: the pairs whose order differs between order_at(lo) and order_at(hi).
  std::vector<double> slopes_between(double lo, double hi) {
    std::vector<std::uint32_t> at_lo, at_hi;
    order_at(lo, at_lo);
    order_at(hi, at_hi);
    std::vector<std::uint32_t> rank_hi(pts_.size());
    for (std::uint32_t p = 0; p < at_hi.size(); ++p) rank_hi[at_hi[p]] = p;
    std::vector<std::uint32_t> seq(pts_.size());  // the points in lo order, valued by hi rank
    for (std::size_t p = 0; p < at_lo.size(); ++p) seq[p] = rank_hi[at_lo[p]];
    std::vector<double> slopes;
    slopes.reserve(2 * pts_.size());
    at_hi_ = &at_hi;
    inversions(seq, &slopes);
    at_hi_ = nullptr;
    return slopes;
  }

  /// Inversions of `v` by merge sort (v is sorted on return); lists each as a slope if asked.
  std::uint64_t inversions(std::vector<std::uint32_t>& v, std::vector<double>* list) {
    std::uint64_t count = 0;
    for (std::size_t width = 1; width < v.size(); width *= 2) {
      for (std::size_t left = 0; left + width < v.size(); left += 2 * width) {
        const std::size_t mid = left + width, right = std::min(left + 2 * width, v.size());
        std::size_t a = left, b = mid, out = left;
        while (a < mid && b < right) {
          if (v[b] < v[a]) {  // v[b] precedes every v[a..mid) in the other order
            count += mid - a;
            if (list != nullptr) {
              for (std::size_t i = a; i < mid; ++i)
                list->push_back(slope((*at_hi_)[v[i]], (*at_hi_)[v[b]]));
            }
            scratch_[out++] = v[b++];
          } else {
            scratch_[out++] = v[a++];
          }
        }
        while (a < mid) scratch_[out++] = v[a++];
        while (b < right) scratch_[out++] = v[b++];
        std::copy(scratch_.begin() + static_cast<std::ptrdiff_t>(left),
                  scratch_.begin() + static_cast<std::ptrdiff_t>(right),
                  v.begin() + static_cast<std::ptrdiff_t>(left));
      }
    }
    return count;
  }

  double slope(std::uint32_t i, std::uint32_t j) const {
    if (pts_[i].x > pts_[j].x) std::swap(i, j);
    return (pts_[j].y - pts_[i].y) / (pts_[j].x - pts_[i].x);
  }

  std::vector<point> pts_;
  std::vector<std::uint32_t> scratch_;
  std::uint64_t same_x_ = 0;
  std::uint64_t pairs_ = 0;
  const std::vector<std::uint32_t>* at_hi_ = nullptr;
};

}  // namespace

double theil_sen_slope(std::span<const double> x, std::span<const double> y) {
  std::vector<point> pts(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) pts[i] = {x[i], y[i]};
  if (pts.size() < 2) return std::numeric_limits<double>::quiet_NaN();
  pairwise_slopes slopes(std::move(pts));
  const std::uint64_t m = slopes.pairs();
  if (m == 0) return std::numeric_limits<double>::quiet_NaN();
  const double lower = slopes.select((m - 1) / 2);
  if (m % 2 == 1) return lower;
  const double upper = slopes.select(m / 2);
  return lower + (upper - lower) / 2;
}

}  // namespace leakbench::measure
