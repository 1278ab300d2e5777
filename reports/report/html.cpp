#include "reports/report/html.hpp"

#include <fmt/format.h>

#include "reports/report/svg_chart.hpp"

namespace leakbench::report {
namespace {

constexpr std::string_view k_css = R"(body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;
margin:24px auto;max-width:1260px;padding:0 16px;color:#1a1a1a;line-height:1.4}
h1{font-size:24px;margin-bottom:4px}h2{font-size:19px;margin-top:32px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border:1px solid #c8c8c8;padding:3px 7px;text-align:right;white-space:nowrap}
th{background:#f0f0f0}thead th{white-space:normal}td.name,th.name{text-align:left}
tbody tr.first td{border-top:2px solid #888}
.sev-none{color:#1b5e20}.sev-low{color:#8a6d00}.sev-critical{color:#b71c1c;font-weight:bold}
.sev-catastrophic{color:#fff;background:#b71c1c;font-weight:bold}
.note{color:#444;font-size:13px;max-width:1000px}.meta{color:#444;font-size:13px}
figure{margin:12px 0;display:inline-block;vertical-align:top}svg{max-width:100%;height:auto}
.error{color:#b71c1c}.v-fail{color:#b71c1c;font-weight:bold}.v-inconclusive{color:#8a6d00}
)";

constexpr std::string_view k_generator = "<meta name=\"generator\" content=\"leakreport\">";

}  // namespace

std::string_view generator_tag() { return k_generator; }

std::string html_id(std::string_view name) {
  std::string out = "b-";
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    out += ok ? c : '_';
  }
  return out;
}

std::string html_page(std::string_view title, std::string_view body) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n{}\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
      "'unsafe-inline'\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>{}</title>\n<style>\n{}</style>\n</head>\n<body>\n{}</body>\n</html>\n",
      k_generator, escape(title), k_css, body);
}

}  // namespace leakbench::report
