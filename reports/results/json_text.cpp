#include "reports/results/json_text.hpp"

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <sstream>
#include <vector>

namespace leakbench::reports {
namespace {

// A bare literal becomes a string that cannot occur in Google Benchmark's output (it starts
// with a private-use character), and back into a double after parsing.
constexpr std::string_view k_marker = "\xee\x80\x80";  // U+E000

struct literal {
  std::string_view text;
  double value;
};

constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();
constexpr double k_inf = std::numeric_limits<double>::infinity();

// Longest first, so that "-Infinity" is not read as "-inf" followed by "inity".
constexpr std::array<literal, 10> k_literals = {{{"-Infinity", -k_inf},
                                                 {"Infinity", k_inf},
                                                 {"-NaN", k_nan},
                                                 {"NaN", k_nan},
                                                 {"-nan", k_nan},
                                                 {"nan", k_nan},
                                                 {"-inf", -k_inf},
                                                 {"inf", k_inf},
                                                 {"-Inf", -k_inf},
                                                 {"Inf", k_inf}}};

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

/// Where the rewritten text grew: from `at` (an offset in the rewritten text) on, offsets are
/// `shift` bytes ahead of the original's.
struct growth {
  std::size_t at;
  std::size_t shift;
};

std::string rewrite_literals(std::string_view text, std::vector<growth>& grown) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[i + 1];
        i += 2;
        continue;
      }
      in_string = c != '"';
      ++i;
      continue;
    }
    if (c == '"') {
      in_string = true;
      out += c;
      ++i;
      continue;
    }
    const bool at_word_start = i == 0 || !is_word_char(text[i - 1]);
    const literal* hit = nullptr;
    if (at_word_start && (c == '-' || c == 'N' || c == 'n' || c == 'I' || c == 'i')) {
      for (const auto& l : k_literals) {
        const std::size_t end = i + l.text.size();
        if (text.substr(i, l.text.size()) == l.text &&
            (end == text.size() || !is_word_char(text[end]))) {
          hit = &l;
          break;
        }
      }
    }
    if (hit == nullptr) {
      out += c;
      ++i;
      continue;
    }
    const std::string replacement = fmt::format("\"{}{}\"", k_marker, hit->text);
    out += replacement;
    i += hit->text.size();
    grown.push_back({out.size(), replacement.size() - hit->text.size()});
  }
  return out;
}

void restore_literals(nlohmann::json& j) {
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (!s.starts_with(k_marker)) return;
    const std::string_view text = std::string_view(s).substr(k_marker.size());
    for (const auto& l : k_literals) {
      if (l.text == text) {
        j = l.value;
        return;
      }
    }
    return;
  }
  if (j.is_structured()) {
    for (auto& child : j) restore_literals(child);
  }
}

/// nlohmann's message without its "[json.exception...] parse error at line L, column C: ".
std::string_view reason_of(const char* what) {
  std::string_view w(what);
  const auto column = w.find("column ");
  if (column != std::string_view::npos) {
    const auto colon = w.find(": ", column);
    if (colon != std::string_view::npos) return w.substr(colon + 2);
  }
  const auto bracket = w.find("] ");
  return bracket == std::string_view::npos ? w : w.substr(bracket + 2);
}

}  // namespace

nlohmann::json parse_json(std::string_view text, std::string_view source) {
  std::vector<growth> grown;
  const std::string rewritten = rewrite_literals(text, grown);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(rewritten);
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte counts from 1 in the rewritten text; map it back onto the original.
    std::size_t at = e.byte == 0 ? 0 : e.byte - 1;
    std::size_t shift = 0;
    for (const auto& g : grown) {
      if (g.at <= at) shift += g.shift;
    }
    at = std::min(at - std::min(at, shift), text.size());
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < at; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    const std::string_view reason = reason_of(e.what());
    // Past the last byte: the text stopped inside a value (a number cut short reads as a
    // malformed number to nlohmann, but it is a truncation all the same).
    if (reason.find("unexpected end of input") != std::string_view::npos || at >= text.size()) {
      throw input_error(fmt::format("{}: the JSON ends early, at line {}, column {} (truncated?)",
                                    source, line, column));
    }
    throw input_error(
        fmt::format("{}: not valid JSON at line {}, column {}: {}", source, line, column, reason));
  }
  restore_literals(j);
  return j;
}

std::string display_name(const std::string& file) { return file == "-" ? "<stdin>" : file; }

std::string read_text(const std::string& file) {
  if (file == "-") {
    std::ostringstream s;
    s << std::cin.rdbuf();
    return s.str();
  }
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    throw input_error(fmt::format("{}: is a directory, expected a file", file));
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw input_error(fmt::format("{}: cannot read: {}", file, std::strerror(errno)));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw input_error(fmt::format("{}: read failed: {}", file, std::strerror(errno)));
  return text;
}

}  // namespace leakbench::reports
