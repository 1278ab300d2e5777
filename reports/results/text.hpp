#pragma once

#include <string>
#include <string_view>

namespace leakbench::reports {

/// `s` with control characters (other than tab, and newline if `keep_newlines`) replaced by
/// U+FFFD: text from an input file made safe for XML and for one-line output.
std::string printable(std::string_view s, bool keep_newlines = false);

/// `s` safe as GitHub-flavoured Markdown text and inside a table cell: markup characters
/// backslash-escaped, HTML's &, < and > as entities, control characters dropped, tabs as spaces.
std::string markdown_escape(std::string_view s);

}  // namespace leakbench::reports
