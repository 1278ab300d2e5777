#pragma once

#include <string>
#include <string_view>

namespace leakbench::reports {

/// `s` safe as GitHub-flavoured Markdown text and inside a table cell: markup characters
/// backslash-escaped, HTML's &, < and > as entities, control characters dropped, tabs as spaces.
std::string markdown_escape(std::string_view s);

}  // namespace leakbench::reports
