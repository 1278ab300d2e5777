#pragma once

#include <string>
#include <string_view>

namespace leakbench::report {

/// A whole self-contained HTML page around `body`: inline CSS only, and a Content Security
/// Policy that forbids the page every network access (no scripts, fonts, images or frames from
/// anywhere), so that a report stays readable offline and leaks nothing when opened.
std::string html_page(std::string_view title, std::string_view body);

}  // namespace leakbench::report
