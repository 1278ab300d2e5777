#pragma once

#include <string>
#include <string_view>

namespace leakbench::report {

/// A whole self-contained HTML page around `body`: inline CSS only, and a Content Security
/// Policy that forbids the page every network access (no scripts, fonts, images or frames from
/// anywhere), so that a report stays readable offline and leaks nothing when opened.
/// The page carries <meta name="generator" content="leakreport">: output_dir replaces only a
/// folder whose index.html says leakreport wrote it.
std::string html_page(std::string_view title, std::string_view body);

/// The generator meta tag html_page writes.
std::string_view generator_tag();

/// An id for an HTML element from a name ("Nested/fixed" is "b-Nested_fixed"): a letter first,
/// then letters, digits, '-' and '_' only, as HTML checkers ask of ids.
std::string html_id(std::string_view name);

}  // namespace leakbench::report
