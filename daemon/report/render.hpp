// The depot's report as text (a summary for a terminal), CSV (one row per trip and a TOTAL row,
// for the fleet spreadsheet; or one row per emergency or service message) and HTML (one
// self-contained page with an inline SVG chart). Pure: from a Report to a string. The phrases all
// three share are in render_phrases.hpp; text and CSV are made in render_text.cpp, HTML and SVG in
// render_html.cpp.
#pragma once

#include <string>

#include "daemon/report/figures.hpp"

namespace stopcall::report {

std::string to_text(const Report& report);
std::string to_csv(const Report& report);
// One CSV row per emergency or service message, then one per message refused (end "refused").
std::string to_messages_csv(const Report& report);
std::string to_html(const Report& report);

}  // namespace stopcall::report
