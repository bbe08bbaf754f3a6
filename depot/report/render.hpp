// The depot's report as text (a summary for a terminal), CSV (one row per trip and a TOTAL row,
// for the fleet spreadsheet; or one row per emergency or service message) and HTML (one
// self-contained page with an inline SVG chart). Pure: from a Report to a string. The phrases all
// three share are in render_phrases.hpp; text and CSV are made in render_text.cpp, HTML and SVG in
// render_html.cpp.
#pragma once

#include <string>
#include <vector>

#include "depot/report/figures.hpp"

namespace stopcall::depot::report {

std::string to_text(const Report& report);
std::string to_csv(const Report& report);
// One CSV row per emergency or service message, then one per message refused (end "refused").
std::string to_messages_csv(const Report& report);
std::string to_html(const Report& report);

// The pieces of the HTML page other pages of figures share (the fleet report).
// One row of the chart: the next-stop and arriving shares of `figures`, named `label` (and a
// grey `note` after it: the day).
struct ChartRow {
  std::string label, note;
  Figures figures;
};
// An inline SVG of horizontal bars, two per row; `what` ends its accessible name ("per trip").
std::string share_chart(const std::vector<ChartRow>& rows, const std::string& what);
// The page's <style> element.
std::string html_style();
// `s` escaped for HTML text and attributes.
std::string html_escape(const std::string& s);

}  // namespace stopcall::depot::report
