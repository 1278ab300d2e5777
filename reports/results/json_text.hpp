#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

namespace leakbench::reports {

/// A file a report tool cannot use. what() is the one line to print: "<file>: <what is wrong>".
class input_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Parses JSON that may hold the bare non-finite literals Google Benchmark writes (NaN,
/// Infinity, nan, inf, each optionally negative) where a number belongs; they become NaN and
/// infinite doubles. A syntax error throws input_error naming `source` and the line and column
/// in `text` as given.
nlohmann::json parse_json(std::string_view text, std::string_view source);

/// The whole content of `file` ("-": standard input); throws input_error if it cannot be read.
std::string read_text(const std::string& file);

/// How an input file is named in messages: "-" is "<stdin>".
std::string display_name(const std::string& file);

}  // namespace leakbench::reports
