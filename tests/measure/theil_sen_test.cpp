#include "harness/measure/theil_sen.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "harness/measure/rss.hpp"
#include "harness/measure/sanitizer.hpp"

namespace lm = leakbench::measure;

namespace {

// The definition: every pairwise slope, sorted, the middle one (or the mean of the two).
double brute_force(const std::vector<double>& x, const std::vector<double>& y) {
  std::vector<double> s;
  for (std::size_t i = 0; i < x.size(); ++i) {
    for (std::size_t j = i + 1; j < x.size(); ++j) {
      if (x[i] == x[j]) continue;
      s.push_back(x[i] < x[j] ? (y[j] - y[i]) / (x[j] - x[i]) : (y[i] - y[j]) / (x[i] - x[j]));
    }
  }
  if (s.empty()) return std::nan("");
  std::sort(s.begin(), s.end());
  const std::size_t m = s.size();
  return m % 2 == 1 ? s[m / 2] : s[m / 2 - 1] + (s[m / 2] - s[m / 2 - 1]) / 2;
}

}  // namespace

TEST(theil_sen, equals_the_median_of_all_pairwise_slopes) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 300; ++round) {
    const std::size_t n = 2 + rng() % 120;
    std::vector<double> x(n), y(n);
    const int shape = round % 5;
    for (std::size_t i = 0; i < n; ++i) {
      x[i] = shape == 4 ? static_cast<double>(rng() % 7) : static_cast<double>(i);  // ties in x
      switch (shape) {
        case 0:  // RSS-like: a big offset, 32 MiB per retry, page-sized noise
          y[i] = 37e6 + 33554432.0 * x[i] + 4096.0 * static_cast<double>(rng() % 5);
          break;
        case 1:  // a flat heap: every slope 0
          y[i] = 1234567;
          break;
        case 2:  // the quiescent heap of old: +-33 and +-512 steps
          y[i] = 40000 + (rng() % 3 == 0 ? 33.0 : 0.0) + (rng() % 7 == 0 ? 512.0 : 0.0);
          break;
        default:  // anything, negative too
          y[i] = static_cast<double>(static_cast<std::int64_t>(rng() % 2001) - 1000) * 0.37;
      }
    }
    if (shape != 4) std::shuffle(x.begin(), x.end(), rng);  // order of input does not matter
    const double want = brute_force(x, y), got = lm::theil_sen_slope(x, y);
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(got)) << "round " << round;
    } else {
      EXPECT_EQ(got, want) << "round " << round << ", n " << n << ", shape " << shape;
    }
  }
}

TEST(theil_sen, needs_two_distinct_x) {
  EXPECT_TRUE(std::isnan(lm::theil_sen_slope(std::vector<double>{1}, std::vector<double>{2})));
  EXPECT_TRUE(
      std::isnan(lm::theil_sen_slope(std::vector<double>{3, 3}, std::vector<double>{1, 2})));
  EXPECT_EQ(lm::theil_sen_slope(std::vector<double>{0, 2}, std::vector<double>{1, 5}), 2.0);
}

TEST(theil_sen, twenty_thousand_points_need_memory_in_proportion_not_squared) {
  if (lm::k_sanitized_malloc) GTEST_SKIP() << "RSS is the sanitizer's under ASan";
  // All pairwise slopes of 20000 points would be 200 million doubles, 1.5 GiB.
  constexpr std::size_t n = 20000;
  std::vector<double> x(n), y(n);
  std::mt19937_64 rng(7);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = static_cast<double>(i);
    y[i] = 5e6 + 1024.0 * x[i] + static_cast<double>(rng() % 65536);
  }
  ASSERT_TRUE(lm::reset_peak_rss()) << "needs a writable /proc/self/clear_refs";
  const auto before = lm::peak_rss();
  const double s = lm::theil_sen_slope(x, y);
  const auto grew = lm::peak_rss() - before;
  EXPECT_NEAR(s, 1024.0, 16.0);
  EXPECT_LT(grew, 16 << 20) << "peak RSS grew by " << grew << " bytes";
}
