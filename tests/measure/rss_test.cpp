#include "harness/measure/rss.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "harness/measure/sanitizer.hpp"
#include "harness/measure/settle.hpp"
#include "tests/measure/escape.hpp"

namespace lm = leakbench::measure;
using leakbench::test::escape;

namespace {
constexpr std::int64_t k_mib = 1 << 20;
constexpr std::int64_t k_block = 64 * k_mib;

// Sanitizers shadow every allocation and keep freed blocks in quarantine: RSS there says
// nothing about the program's own pages.
bool rss_is_meaningful() { return !lm::k_sanitized_malloc; }
}  // namespace

TEST(rss, reader_agrees_with_the_process_wide_reading) {
  const lm::rss_reader reader;
  const std::int64_t a = reader.current();
  const std::int64_t b = lm::current_rss();
  EXPECT_GT(a, 0);
  EXPECT_NEAR(static_cast<double>(a), static_cast<double>(b), static_cast<double>(k_mib));
}

TEST(rss, value_initialised_block_is_resident_and_freeing_returns_it) {
  if (!rss_is_meaningful()) GTEST_SKIP() << "RSS is dominated by sanitizer shadow memory";
  lm::settle();
  const std::int64_t before = lm::current_rss();
  auto block = std::make_unique<char[]>(k_block);  // value-initialised: every page touched
  escape(block.get());
  const std::int64_t during = lm::current_rss();
  block.reset();
  lm::settle();
  const std::int64_t after = lm::current_rss();
  EXPECT_NEAR(static_cast<double>(during - before), static_cast<double>(k_block), k_mib);
  EXPECT_NEAR(static_cast<double>(after - before), 0.0, k_mib);
}

TEST(rss, untouched_allocation_is_not_resident) {
  if (!rss_is_meaningful()) GTEST_SKIP() << "RSS is dominated by sanitizer shadow memory";
  lm::settle();
  const std::int64_t before = lm::current_rss();
  std::unique_ptr<char[]> block(new char[k_block]);  // default-initialised: no page touched
  escape(block.get());
  const std::int64_t during = lm::current_rss();
  EXPECT_NEAR(static_cast<double>(during - before), 0.0, k_mib);
}

TEST(rss, peak_reset_forgets_an_earlier_spike) {
  if (!rss_is_meaningful()) GTEST_SKIP() << "RSS is dominated by sanitizer shadow memory";
  lm::settle();
  {
    auto spike = std::make_unique<char[]>(k_block);
    escape(spike.get());
  }
  lm::settle();
  const std::int64_t now = lm::current_rss();
  ASSERT_GE(lm::peak_rss(), now + k_block - k_mib) << "the spike never reached the peak";
  ASSERT_TRUE(lm::reset_peak_rss()) << "/proc/self/clear_refs refused the reset";
  EXPECT_NEAR(static_cast<double>(lm::peak_rss()), static_cast<double>(lm::current_rss()), k_mib);
}
