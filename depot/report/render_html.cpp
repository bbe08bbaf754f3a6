// The depot's report as one self-contained HTML page with an inline SVG chart (render.hpp).
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include "depot/report/render.hpp"
#include "depot/report/render_phrases.hpp"

namespace stopcall::depot::report {

using namespace phrases;

namespace {

std::string esc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string td(const std::string& v) {
  return "<td>" + esc(v) + "</td>";
}
std::string th(const std::string& v) {
  return "<th>" + esc(v) + "</th>";
}

}  // namespace

std::string html_escape(const std::string& s) {
  return esc(s);
}

// Horizontal bars: next-stop and arriving share for each row.
std::string share_chart(const std::vector<ChartRow>& rows, const std::string& what) {
  constexpr int kWidth = 760, kLabel = 250, kBar = 420, kRow = 40, kTop = 34;
  const int height = kTop + static_cast<int>(rows.size()) * kRow + 24;
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << height
    << "\" viewBox=\"0 0 " << kWidth << ' ' << height
    << "\" role=\"img\" aria-label=\"Share of stops with the next-stop and the arriving "
       "announcement heard, "
    << esc(what) << "\">\n";
  s << "<rect x=\"" << kLabel << "\" y=\"6\" width=\"12\" height=\"12\" class=\"next\"/>"
    << "<text x=\"" << kLabel + 18 << "\" y=\"16\">next stop heard</text>"
    << "<rect x=\"" << kLabel + 170 << "\" y=\"6\" width=\"12\" height=\"12\" class=\"arr\"/>"
    << "<text x=\"" << kLabel + 188 << "\" y=\"16\">arriving heard</text>\n";
  for (int pct = 0; pct <= 100; pct += 25) {
    const int x = kLabel + kBar * pct / 100;
    s << "<line x1=\"" << x << "\" y1=\"" << kTop - 6 << "\" x2=\"" << x << "\" y2=\""
      << height - 18 << "\" class=\"grid\"/><text x=\"" << x << "\" y=\"" << height - 4
      << "\" text-anchor=\"middle\" class=\"axis\">" << pct << " %</text>\n";
  }
  int y = kTop;
  for (const auto& row : rows) {
    s << "<text x=\"" << kLabel - 8 << "\" y=\"" << y + 18 << "\" text-anchor=\"end\">"
      << esc(row.label) << " <tspan class=\"axis\">" << esc(row.note) << "</tspan></text>\n";
    const Figures& f = row.figures;
    const std::pair<std::optional<double>, const char*> bars[] = {
        {share(f.next_stop_ok, f.stops), "next"}, {share(f.approaching_ok, f.stops), "arr"}};
    int by = y + 4;
    for (const auto& [value, cls] : bars) {
      if (value) {
        const int w = static_cast<int>(*value * kBar + 0.5);
        s << "<rect x=\"" << kLabel << "\" y=\"" << by << "\" width=\"" << w
          << "\" height=\"14\" class=\"" << cls << "\"><title>" << percent(value)
          << "</title></rect><text x=\"" << kLabel + w + 4 << "\" y=\"" << by + 12
          << "\" class=\"axis\">" << percent(value) << "</text>\n";
      } else {
        s << "<text x=\"" << kLabel + 4 << "\" y=\"" << by + 12
          << "\" class=\"axis\">no stops</text>\n";
      }
      by += 16;
    }
    y += kRow;
  }
  s << "</svg>\n";
  return s.str();
}

std::string html_style() {
  return "<style>\n"
         "body{font-family:system-ui,sans-serif;margin:2em;color:#1b1f24}\n"
         "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em}\n"
         "table{border-collapse:collapse;margin:.5em 0}\n"
         "th,td{border:1px solid #c8ccd1;padding:.25em .6em;text-align:right;white-space:nowrap}\n"
         "th:first-child,td:first-child{text-align:left}\n"
         "th{background:#eef1f4}\n"
         "td.text,th.text{text-align:left;white-space:normal}\n"
         ".meta{color:#57606a}\n"
         ".note{background:#fff8c5;border-left:4px solid #9a6700;padding:.4em .8em}\n"
         "svg text{font-size:12px;fill:#1b1f24}svg .axis{fill:#57606a}\n"
         "svg .grid{stroke:#d0d7de}svg .next{fill:#1f6feb}svg .arr{fill:#d9822b}\n"
         "</style>\n";
}

namespace {

// The messages section: the figures, one row per message, the refused ones.
std::string messages_html(const MessageFigures& m) {
  std::ostringstream h;
  h << "<h2>Emergency and service messages</h2>\n";
  if (m.empty()) {
    h << "<p class=\"meta\">No emergency or service message in the window.</p>\n";
    return h.str();
  }
  h << "<table>\n";
  auto row = [&](const std::string& name, const std::string& value) {
    h << "<tr>" << th(name) << "<td class=\"text\">" << esc(value) << "</td></tr>\n";
  };
  row("messages sent", by_kind_text(m));
  row("emergencies heard inside and outside", of(m.emergencies_heard_both, m.emergencies));
  row("messages never heard", std::to_string(m.never_heard));
  row("slowest sent → first heard", slowest_text(m));
  row("refused", refused_text(m));
  row("stop announcements held for an emergency", std::to_string(m.stops_held));
  h << "</table>\n";
  if (!m.messages.empty()) {
    h << "<p class=\"meta\">Heard inside / outside: seconds from sent to first heard there; "
         "– where its sayings did not go.</p>\n<table>\n<tr>"
      << th("message") << th("kind") << th("source") << th("preset") << th("sent")
      << th("heard inside") << th("heard outside") << th("said") << th("acknowledged")
      << "<th class=\"text\">ended</th>" << th("languages") << th("missing") << "</tr>\n";
    for (const auto& x : m.messages) {
      h << "<tr>" << td(x.id) << td(x.kind) << td(x.source) << td(x.preset.empty() ? "–" : x.preset)
        << td(x.sent.empty() ? "before the window" : x.sent) << td(heard_after_text(x, true))
        << td(heard_after_text(x, false)) << td(std::to_string(x.said)) << td(acknowledged_text(x))
        << "<td class=\"text\">" << esc(end_text(x)) << "</td>" << td(list_text(x.languages))
        << td(list_text(x.missing)) << "</tr>\n";
    }
    h << "</table>\n";
  }
  if (!m.refused.empty()) {
    h << "<h3>Messages refused</h3>\n<table>\n<tr>" << th("time") << th("message") << th("kind")
      << th("source") << th("preset") << "<th class=\"text\">why</th></tr>\n";
    for (const auto& x : m.refused) {
      h << "<tr>" << td(x.time) << td(x.id.empty() ? "(no id)" : x.id)
        << td(x.kind.empty() ? "–" : x.kind) << td(x.source)
        << td(x.preset.empty() ? "–" : x.preset) << "<td class=\"text\">" << esc(x.why)
        << "</td></tr>\n";
    }
    h << "</table>\n";
  }
  return h.str();
}

}  // namespace

std::string to_html(const Report& r) {
  const Figures& f = r.total;
  const KindFigures all = f.all_kinds();
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    << "<title>stopcall report " << esc(days_text(r)) << "</title>\n"
    << html_style() << "</head>\n<body>\n";
  h << "<h1>Accessibility announcements: " << esc(days_text(r)) << "</h1>\n";
  h << "<p class=\"meta\">" << esc(r.source) << " (" << esc(r.format) << "); "
    << esc(window_text(r)) << "; " << r.lines + r.unreadable << " lines read, " << r.in_window
    << " in the window, " << r.unreadable << " unreadable (skipped).</p>\n";
  if (r.faster_than_real_time()) h << "<p class=\"note\">" << esc(speed_note(r)) << ".</p>\n";

  h << "<h2>Totals</h2>\n<table>\n";
  auto row = [&](const std::string& name, const std::string& value) {
    h << "<tr>" << th(name) << "<td class=\"text\">" << esc(value) << "</td></tr>\n";
  };
  row("trips", std::to_string(trip_count(r)));
  row("stops served or passed", std::to_string(f.stops));
  row("next stop heard", heard_text(f.next_stop_ok, f.stops, f.next_stop_late, f.next_stop_cut));
  row("arriving heard",
      heard_text(f.approaching_ok, f.stops, f.approaching_late, f.approaching_cut));
  row("exterior route heard", exterior_text(f));
  row("announcement failures", failures_text(all));
  row("ramp cycles", std::to_string(f.ramp_cycles) + " (ramp moving alarms " +
                         std::to_string(f.ramp_alarms) + ")");
  row("boarding requests", "served " + std::to_string(f.requests_served) + ", missed " +
                               std::to_string(f.requests_missed) + ", expired " +
                               std::to_string(f.requests_expired) + ", dismissed " +
                               std::to_string(f.requests_dismissed) + ", still open " +
                               std::to_string(f.requests_open));
  row("wheelchair alighting", "served " + std::to_string(f.alighting_served) + ", missed " +
                                  std::to_string(f.alighting_missed));
  row("GPS outage", fixed(f.gps_outage_s, 1) + " s");
  h << "</table>\n";

  std::vector<ChartRow> chart;
  for (const auto& t : r.trips)
    chart.push_back({trip_label(t), t.day, t.figures});
  h << "<h2>Next stop and arriving heard, per trip</h2>\n" << share_chart(chart, "per trip");

  h << "<h2>Failures by reason</h2>\n<p class=\"meta\">Announcements by kind. expired = "
       "dropped: the bus was already there. never heard = no sound on any output.</p>\n<table>\n"
    << "<tr>" << th("kind") << th("announced") << th("heard") << th("expired") << th("interrupted")
    << th("cancelled") << th("failed") << th("never heard") << "</tr>\n";
  for (const auto& k : kind_order(f)) {
    const KindFigures& v = f.kinds.at(k);
    h << "<tr>" << td(k) << td(std::to_string(v.announced)) << td(std::to_string(v.heard))
      << td(std::to_string(v.expired)) << td(std::to_string(v.interrupted))
      << td(std::to_string(v.cancelled)) << td(std::to_string(v.failed))
      << td(std::to_string(v.never_heard)) << "</tr>\n";
  }
  h << "</table>\n";

  h << "<h2>Per service day</h2>\n<table>\n<tr>" << th("day") << th("trips") << th("stops")
    << th("next stop") << th("arriving") << th("exterior") << th("ramp cycles") << th("served")
    << th("missed") << th("GPS outage s") << "</tr>\n";
  for (const auto& d : r.days) {
    const Figures& g = d.figures;
    h << "<tr>" << td(d.day) << td(std::to_string(d.trips)) << td(std::to_string(g.stops))
      << td(of(g.next_stop_ok, g.stops)) << td(of(g.approaching_ok, g.stops))
      << td(std::to_string(g.exterior_heard) + " of " + std::to_string(g.exterior_stops))
      << td(std::to_string(g.ramp_cycles)) << td(std::to_string(g.requests_served))
      << td(std::to_string(g.requests_missed)) << td(fixed(g.gps_outage_s, 1)) << "</tr>\n";
  }
  h << "</table>\n";

  h << "<h2>Per trip</h2>\n<table>\n<tr>" << th("trip") << th("day") << th("stops")
    << th("next stop") << th("arriving") << th("exterior") << th("failures") << th("never heard")
    << th("ramp cycles") << th("served") << th("missed") << th("GPS outage s") << "</tr>\n";
  for (const auto& t : r.trips) {
    const Figures& g = t.figures;
    const KindFigures k = g.all_kinds();
    h << "<tr>" << td(trip_label(t)) << td(t.day) << td(std::to_string(g.stops))
      << td(of(g.next_stop_ok, g.stops)) << td(of(g.approaching_ok, g.stops))
      << td(std::to_string(g.exterior_heard) + " of " + std::to_string(g.exterior_stops))
      << td(std::to_string(k.failures())) << td(std::to_string(k.never_heard))
      << td(std::to_string(g.ramp_cycles)) << td(std::to_string(g.requests_served))
      << td(std::to_string(g.requests_missed)) << td(fixed(g.gps_outage_s, 1)) << "</tr>\n";
  }
  h << "</table>\n";

  h << messages_html(r.messages);

  h << "<h2>Stops whose announcement was not heard</h2>\n<table>\n<tr>" << th("trip") << th("stop")
    << th("stop id") << th("next stop") << th("arriving") << "<th class=\"text\">announced as</th>"
    << "</tr>\n";
  for (const auto& t : r.trips) {
    for (const auto& p : t.problems) {
      h << "<tr>" << td(trip_label(t)) << td(std::to_string(p.stop_index)) << td(p.stop_id)
        << td(p.next_stop_ok ? "heard" : p.next_stop_why)
        << td(p.approaching_ok ? "heard" : p.approaching_why) << "<td class=\"text\">"
        << esc(p.text) << "</td></tr>\n";
    }
  }
  h << "</table>\n";

  if (!r.faults.empty()) {
    h << "<h2>Faults the bus logged</h2>\n<table>\n<tr>" << th("time") << th("fault")
      << "<th class=\"text\">what</th></tr>\n";
    for (const auto& fault : r.faults) {
      h << "<tr>" << td(fault.time) << td(fault.kind) << "<td class=\"text\">" << esc(fault.message)
        << "</td></tr>\n";
    }
    h << "</table>\n";
  }
  if (!r.unreadable_examples.empty()) {
    h << "<h2>Unreadable lines (skipped)</h2>\n<table>\n<tr>" << th("line") << th("why")
      << "<th class=\"text\">start of the line</th>"
      << "</tr>\n";
    for (const auto& u : r.unreadable_examples) {
      h << "<tr>" << td(std::to_string(u.number)) << td(u.why) << "<td class=\"text\">"
        << esc(u.excerpt) << "</td></tr>\n";
    }
    h << "</table>\n";
  }
  h << "</body>\n</html>\n";
  return h.str();
}

}  // namespace stopcall::depot::report
