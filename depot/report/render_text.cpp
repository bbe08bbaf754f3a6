// The depot's report as text and as CSV (render.hpp).
#include <algorithm>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "depot/report/render.hpp"
#include "depot/report/render_phrases.hpp"

namespace stopcall::depot::report {

using namespace phrases;

namespace {

std::string ok_share(int ok, int all) {
  return std::to_string(ok) + " (" + percent(share(ok, all)) + ")";
}

// Display width: UTF-8 code points, CJK counted as two columns.
std::size_t width(std::string_view s) {
  std::size_t w = 0;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    w += n >= 3 ? 2 : 1;
    i += n;
  }
  return w;
}

// A plain-text table: first column left-aligned, the others right-aligned.
std::string table(const std::vector<std::vector<std::string>>& rows, const std::string& indent) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (std::size_t c = 0; c < row.size(); ++c)
      widths[c] = std::max(widths[c], width(row[c]));
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line = indent;
    for (std::size_t c = 0; c < row.size(); ++c) {
      const std::string pad(widths[c] - width(row[c]), ' ');
      if (c > 0) line += "  ";
      line += c == 0 ? row[c] + pad : pad + row[c];
    }
    while (!line.empty() && line.back() == ' ')
      line.pop_back();
    out += line + "\n";
  }
  return out;
}

// "  label    value" lines, the values in one column.
std::string labelled(const std::vector<std::pair<std::string, std::string>>& rows) {
  std::size_t w = 0;
  for (const auto& [label, value] : rows)
    w = std::max(w, width(label));
  std::string out;
  for (const auto& [label, value] : rows)
    out += "  " + label + std::string(w - width(label) + 2, ' ') + value + "\n";
  return out;
}

std::string problem_text(const StopProblem& p) {
  std::string s;
  if (!p.next_stop_ok) s += "next stop: " + p.next_stop_why;
  if (!p.approaching_ok)
    s += (s.empty() ? "" : "; ") + std::string("arriving: ") + p.approaching_why;
  return s;
}

// The messages section: the figures, one row per message, the refused ones.
std::string messages_text(const MessageFigures& m) {
  if (m.empty()) return "\nEmergency and service messages: none in the window\n";
  std::string out = "\nEmergency and service messages\n";
  out += labelled({
      {"messages sent", by_kind_text(m)},
      {"emergencies heard inside and outside", of(m.emergencies_heard_both, m.emergencies)},
      {"messages never heard", std::to_string(m.never_heard)},
      {"slowest sent -> first heard", slowest_text(m)},
      {"refused", refused_text(m)},
      {"stop announcements held for an emergency", std::to_string(m.stops_held)},
  });
  if (!m.messages.empty()) {
    std::vector<std::vector<std::string>> rows = {
        {"message", "kind", "source", "preset", "sent", "heard inside", "heard outside", "said",
         "acknowledged", "ended", "languages", "missing"}};
    for (const auto& x : m.messages) {
      rows.push_back({x.id, x.kind, x.source, x.preset.empty() ? "–" : x.preset,
                      x.sent.empty() ? "before the window" : x.sent, heard_after_text(x, true),
                      heard_after_text(x, false), std::to_string(x.said), acknowledged_text(x),
                      end_text(x), list_text(x.languages), list_text(x.missing)});
    }
    out += "\n" + table(rows, "  ");
  }
  for (const auto& x : m.refused) {
    out += "  refused " + x.time + " " + (x.id.empty() ? "(no id)" : x.id) + " (" +
           (x.kind.empty() ? "" : x.kind + ", ") + x.source +
           (x.preset.empty() ? "" : ", preset " + x.preset) + "): " + x.why + "\n";
  }
  return out;
}

}  // namespace

std::string to_text(const Report& r) {
  std::ostringstream out;
  const Figures& f = r.total;
  out << "stopcall report: " << r.source << " (" << r.format << ")\n";
  out << "window: " << window_text(r) << "\n";
  if (r.faster_than_real_time()) out << "note: " << speed_note(r) << "\n";
  out << "lines: " << r.lines + r.unreadable << " read, " << r.in_window << " in the window, "
      << r.unreadable << " unreadable (skipped)\n";
  for (const auto& u : r.unreadable_examples)
    out << "  unreadable line " << u.number << ": " << u.why << ": " << u.excerpt << "\n";
  if (r.fault_count) out << "faults: " << r.fault_count << "\n";
  for (const auto& fault : r.faults)
    out << "  " << fault.time << " " << fault.kind << ": " << fault.message << "\n";

  out << "\nTotal: " << trip_count(r) << " trips, " << r.days.size() << " service day"
      << (r.days.size() == 1 ? "" : "s") << (r.days.empty() ? "" : " (" + days_text(r) + ")")
      << "\n";
  const KindFigures all = f.all_kinds();
  out << labelled({
      {"stops served or passed", std::to_string(f.stops)},
      {"next stop heard", heard_text(f.next_stop_ok, f.stops, f.next_stop_late, f.next_stop_cut)},
      {"arriving heard",
       heard_text(f.approaching_ok, f.stops, f.approaching_late, f.approaching_cut)},
      {"exterior route heard", exterior_text(f)},
      {"announcement failures", failures_text(all)},
      {"ramp cycles", std::to_string(f.ramp_cycles) + " (ramp moving alarms " +
                          std::to_string(f.ramp_alarms) + ")"},
      {"boarding requests", "served " + std::to_string(f.requests_served) + ", missed " +
                                std::to_string(f.requests_missed) + ", expired " +
                                std::to_string(f.requests_expired) + ", dismissed " +
                                std::to_string(f.requests_dismissed) + ", still open " +
                                std::to_string(f.requests_open)},
      {"wheelchair alighting", "served " + std::to_string(f.alighting_served) + ", missed " +
                                   std::to_string(f.alighting_missed)},
      {"GPS outage", fixed(f.gps_outage_s, 1) + " s"},
  });

  std::vector<std::vector<std::string>> kinds = {{"kind", "announced", "heard", "expired",
                                                  "interrupted", "cancelled", "failed",
                                                  "never heard"}};
  for (const auto& k : kind_order(f)) {
    const KindFigures& v = f.kinds.at(k);
    kinds.push_back({k, std::to_string(v.announced), std::to_string(v.heard),
                     std::to_string(v.expired), std::to_string(v.interrupted),
                     std::to_string(v.cancelled), std::to_string(v.failed),
                     std::to_string(v.never_heard)});
  }
  out << "\nFailures by reason (announcements by kind; expired = dropped: bus already there)\n"
      << table(kinds, "  ");

  std::vector<std::vector<std::string>> days = {{"day", "trips", "stops", "next stop", "arriving",
                                                 "exterior", "ramp", "served", "missed",
                                                 "GPS outage s"}};
  for (const auto& d : r.days) {
    const Figures& g = d.figures;
    days.push_back({d.day, std::to_string(d.trips), std::to_string(g.stops),
                    percent(share(g.next_stop_ok, g.stops)),
                    percent(share(g.approaching_ok, g.stops)),
                    std::to_string(g.exterior_heard) + "/" + std::to_string(g.exterior_stops),
                    std::to_string(g.ramp_cycles), std::to_string(g.requests_served),
                    std::to_string(g.requests_missed), fixed(g.gps_outage_s, 1)});
  }
  out << "\nPer service day\n" << table(days, "  ");

  std::vector<std::vector<std::string>> trips = {{"trip", "day", "stops", "next stop", "arriving",
                                                  "exterior", "failures", "never heard", "ramp",
                                                  "served", "missed", "GPS outage s"}};
  for (const auto& t : r.trips) {
    const Figures& g = t.figures;
    const KindFigures k = g.all_kinds();
    trips.push_back({trip_label(t), t.day, std::to_string(g.stops),
                     ok_share(g.next_stop_ok, g.stops), ok_share(g.approaching_ok, g.stops),
                     std::to_string(g.exterior_heard) + "/" + std::to_string(g.exterior_stops),
                     std::to_string(k.failures()), std::to_string(k.never_heard),
                     std::to_string(g.ramp_cycles), std::to_string(g.requests_served),
                     std::to_string(g.requests_missed), fixed(g.gps_outage_s, 1)});
  }
  out << "\nPer trip\n" << table(trips, "  ");
  out << messages_text(r.messages);

  constexpr std::size_t kListed = 20;
  std::size_t listed = 0, problems = 0;
  std::string list;
  for (const auto& t : r.trips) {
    for (const auto& p : t.problems) {
      ++problems;
      if (listed++ >= kListed) continue;
      list += "  " + trip_label(t) + " #" + std::to_string(p.stop_index) + " " + p.stop_id + ": " +
              problem_text(p) + (p.text.empty() ? "" : "  [" + p.text + "]") + "\n";
    }
  }
  if (problems > 0) {
    out << "\nStops whose announcement was not heard (" << problems << " stops"
        << (problems > kListed ? ", first " + std::to_string(kListed) + "; --html lists all" : "")
        << ")\n"
        << list;
  }
  return out.str();
}

namespace {

std::string csv_field(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string q = "\"";
  for (char c : v) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

std::string csv_share(int ok, int stops) {
  const auto s = share(ok, stops);
  return s ? fixed(*s, 3) : std::string();
}

std::string csv_row(const std::string& trip, const std::string& day, const Figures& f) {
  const KindFigures k = f.all_kinds();
  const std::vector<std::string> cells = {trip,
                                          day,
                                          std::to_string(f.stops),
                                          std::to_string(f.next_stop_ok),
                                          csv_share(f.next_stop_ok, f.stops),
                                          std::to_string(f.approaching_ok),
                                          csv_share(f.approaching_ok, f.stops),
                                          std::to_string(f.next_stop_late),
                                          std::to_string(f.approaching_late),
                                          std::to_string(f.next_stop_cut),
                                          std::to_string(f.approaching_cut),
                                          std::to_string(f.exterior_stops),
                                          std::to_string(f.exterior_heard),
                                          std::to_string(k.expired),
                                          std::to_string(k.interrupted),
                                          std::to_string(k.cancelled),
                                          std::to_string(k.failed),
                                          std::to_string(k.never_heard),
                                          std::to_string(f.ramp_cycles),
                                          std::to_string(f.ramp_alarms),
                                          std::to_string(f.requests_served),
                                          std::to_string(f.requests_missed),
                                          std::to_string(f.requests_expired),
                                          std::to_string(f.requests_dismissed),
                                          std::to_string(f.alighting_served),
                                          fixed(f.gps_outage_s, 1)};
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i)
    line += (i ? "," : "") + csv_field(cells[i]);
  return line + "\n";
}

std::string csv_seconds(std::optional<double> s) {
  return s ? fixed(*s, 1) : std::string();
}

// A text a person or a vehicle system chose (a message id, a reason): never read as a formula.
std::string csv_text(const std::string& v) {
  if (!v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@')) return "'" + v;
  return v;
}

std::string csv_list(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& item : items)
    s += (s.empty() ? "" : " ") + item;
  return s;
}

std::string csv_line(const std::vector<std::string>& cells) {
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i)
    line += (i ? "," : "") + csv_field(cells[i]);
  return line + "\n";
}

}  // namespace

std::string to_csv(const Report& r) {
  std::string out =
      "trip_id,day,stops,next_stop_ok,next_stop_share,approaching_ok,approaching_share,"
      "next_stop_late,approaching_late,next_stop_cut,approaching_cut,exterior_stops,exterior_heard,"
      "expired,interrupted,"
      "cancelled,failed,never_heard,ramp_cycles,ramp_alarms,requests_served,requests_missed,"
      "requests_expired,requests_dismissed,alighting_served,gps_outage_s\n";
  for (const auto& t : r.trips)
    out += csv_row(trip_label(t), t.day, t.figures);
  out += csv_row("TOTAL", days_text(r), r.total);
  return out;
}

std::string to_messages_csv(const Report& r) {
  std::string out =
      "message_id,kind,source,preset,sent,heard_interior_s,heard_exterior_s,said,acknowledged_s,"
      "acknowledged_by,end,note,lasted_s,languages,missing\n";
  for (const auto& m : r.messages.messages) {
    out += csv_line({csv_text(m.id), m.kind, m.source, csv_text(m.preset), m.sent,
                     csv_seconds(m.heard_interior_s), csv_seconds(m.heard_exterior_s),
                     std::to_string(m.said), csv_seconds(m.acknowledged_s), m.acknowledged_by,
                     m.end, csv_text(m.ended_by), csv_seconds(m.lasted_s), csv_list(m.languages),
                     csv_list(m.missing)});
  }
  for (const auto& m : r.messages.refused) {
    out += csv_line({csv_text(m.id), csv_text(m.kind), m.source, csv_text(m.preset), m.time, "", "",
                     "0", "", "", "refused", csv_text(m.why), "", "", ""});
  }
  return out;
}

}  // namespace stopcall::depot::report
