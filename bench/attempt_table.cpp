#include "bench/attempt_table.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace leakbench::bench {

std::string_view attempts_doc_text();  // generated from docs/attempts.md

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

/// The cells of a Markdown table row `| a | b |`.
std::vector<std::string_view> cells(std::string_view row) {
  row = trim(row);
  std::vector<std::string_view> out;
  if (row.size() < 2 || row.front() != '|' || row.back() != '|') return out;
  row = row.substr(1, row.size() - 2);
  for (std::size_t at = 0;;) {
    const auto bar = row.find('|', at);
    out.push_back(trim(row.substr(at, bar == std::string_view::npos ? row.npos : bar - at)));
    if (bar == std::string_view::npos) return out;
    at = bar + 1;
  }
}

std::int64_t number(std::string_view s, std::string_view row) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0) {
    throw std::invalid_argument(fmt::format("attempts table: bad held '{}' in: {}", s, row));
  }
  return v;
}

}  // namespace

std::vector<attempt_expectation> parse_attempt_table(std::string_view doc) {
  constexpr std::string_view begin = "<!-- attempts:begin -->", end = "<!-- attempts:end -->";
  const auto from = doc.find(begin);
  const auto to = doc.find(end);
  if (from == doc.npos || to == doc.npos || to < from) {
    throw std::invalid_argument("attempts table: no <!-- attempts:begin/end --> markers");
  }
  std::string_view body = doc.substr(from + begin.size(), to - from - begin.size());
  std::vector<attempt_expectation> rows;
  int line_no = 0;
  while (!body.empty()) {
    const auto nl = body.find('\n');
    const std::string_view line = trim(body.substr(0, nl));
    body = nl == body.npos ? "" : body.substr(nl + 1);
    if (line.empty()) continue;
    if (++line_no <= 2) continue;  // the header and its rule
    const auto c = cells(line);
    if (c.size() != 4 || c[0].empty()) {
      throw std::invalid_argument(
          fmt::format("attempts table: a row of 4 cells expected: {}", line));
    }
    attempt_expectation e;
    e.scenario = c[0];
    if (c[1] != "fails" && c[1] != "succeeds") {
      throw std::invalid_argument(fmt::format("attempts table: outcome fails|succeeds: {}", line));
    }
    e.fails = c[1] == "fails";
    if (e.fails == (c[2] == "-") || c[2].empty()) {
      throw std::invalid_argument(
          fmt::format("attempts table: an exception for a failing scenario only: {}", line));
    }
    if (e.fails) e.exception = c[2];
    const auto slash = c[3].find('/');
    e.held_num = number(c[3].substr(0, slash), line);
    if (slash != std::string_view::npos) e.held_den = number(c[3].substr(slash + 1), line);
    if (e.held_den == 0)
      throw std::invalid_argument(fmt::format("attempts table: /0 in: {}", line));
    rows.push_back(std::move(e));
  }
  if (rows.empty()) throw std::invalid_argument("attempts table: no rows");
  return rows;
}

const std::vector<attempt_expectation>& attempt_table() {
  static const auto table = [] {
    try {
      return parse_attempt_table(attempts_doc_text());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "leakbench: the built-in docs/attempts.md: %s\n", e.what());
      std::abort();
    }
  }();
  return table;
}

const attempt_expectation* find_attempt(std::string_view scenario) {
  for (const auto& e : attempt_table()) {
    if (e.scenario == scenario) return &e;
  }
  return nullptr;
}

}  // namespace leakbench::bench
