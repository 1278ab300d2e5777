#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "bench/options.hpp"

namespace leakbench::bench {

/// Shows `retry i/N` and RSS on a terminal once a benchmark has run a few seconds.
class progress {
 public:
  explicit progress(std::string name) : name_(std::move(name)), tty_(::isatty(2) == 1) {}
  ~progress() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
  }
  progress(const progress&) = delete;
  progress& operator=(const progress&) = delete;

  void update(std::size_t done, std::size_t total, std::int64_t rss) {
    const auto now = clock::now();
    if (!tty_ || now - start_ < std::chrono::seconds(3) ||
        now - last_ < std::chrono::milliseconds(200))
      return;
    last_ = now;
    shown_ = true;
    std::fprintf(stderr, "\r\033[K%s: retry %zu/%zu, rss %s", name_.c_str(), done, total,
                 format_size(static_cast<double>(rss)).c_str());
  }

 private:
  using clock = std::chrono::steady_clock;
  std::string name_;
  bool tty_;
  bool shown_ = false;
  clock::time_point start_ = clock::now();
  clock::time_point last_{};
};

}  // namespace leakbench::bench
