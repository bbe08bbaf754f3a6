#include "depot/fleet_report.hpp"

#include <algorithm>
#include <sstream>

#include "depot/report/render_phrases.hpp"

namespace stopcall::depot {

namespace {

using namespace report::phrases;
using report::Figures;

std::string route_of(const std::map<std::string, std::string>& trips, const std::string& trip) {
  auto it = trips.find(trip);
  return it == trips.end() ? kUnknownRoute : it->second;
}

std::string buses_text(const std::set<std::string>& buses) {
  std::string out;
  for (const auto& b : buses)
    out += (out.empty() ? "" : " ") + b;
  return out;
}

std::string window(const report::Options& o) {
  auto at = [](const std::optional<report::Time>& t) {
    return t ? report::format_time(*t) : std::string("…");
  };
  if (!o.from && !o.to) return "every event stored";
  return "from " + at(o.from) + " to " + at(o.to) + " (not included)";
}

// The columns every table shares, after its first ones.
std::vector<std::string> figure_cells(const Figures& f) {
  const auto k = f.all_kinds();
  return {std::to_string(f.stops),
          of(f.next_stop_ok, f.stops),
          of(f.approaching_ok, f.stops),
          std::to_string(f.exterior_heard) + " of " + std::to_string(f.exterior_stops),
          std::to_string(k.failures()),
          std::to_string(k.never_heard),
          std::to_string(f.ramp_cycles),
          std::to_string(f.requests_served),
          std::to_string(f.requests_missed),
          fixed(f.gps_outage_s, 1)};
}
const std::vector<std::string> kFigureHeads{
    "STOPS",       "NEXT STOP HEARD", "ARRIVING HEARD", "EXTERIOR", "FAILURES",
    "NEVER HEARD", "RAMP CYCLES",     "SERVED",         "MISSED",   "GPS OUTAGE S"};

struct Table {
  std::vector<std::string> head;
  std::vector<std::vector<std::string>> rows;
};

Table route_table(const std::vector<RouteFigures>& list, bool with_day) {
  Table t;
  t.head = {"ROUTE"};
  if (with_day) t.head.push_back("DAY");
  t.head.insert(t.head.end(), {"TRIPS", "BUSES"});
  t.head.insert(t.head.end(), kFigureHeads.begin(), kFigureHeads.end());
  for (const auto& r : list) {
    std::vector<std::string> row{r.route_id};
    if (with_day) row.push_back(r.day);
    row.insert(row.end(), {std::to_string(r.trips), buses_text(r.buses)});
    const auto cells = figure_cells(r.figures);
    row.insert(row.end(), cells.begin(), cells.end());
    t.rows.push_back(std::move(row));
  }
  return t;
}

Table bus_table(const FleetReport& r) {
  Table t;
  t.head = {"BUS", "TRIPS"};
  t.head.insert(t.head.end(), kFigureHeads.begin(), kFigureHeads.end());
  for (const auto& b : r.buses) {
    std::vector<std::string> row{b.vehicle, std::to_string(trip_count(b.report))};
    const auto cells = figure_cells(b.report.total);
    row.insert(row.end(), cells.begin(), cells.end());
    t.rows.push_back(std::move(row));
  }
  return t;
}

std::string text_table(const Table& t) {
  std::vector<std::size_t> width(t.head.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size(); ++i)
      width[i] = std::max(width[i], row[i].size());
  };
  measure(t.head);
  for (const auto& row : t.rows)
    measure(row);
  std::string out;
  auto line = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out += "\n";
  };
  line(t.head);
  for (const auto& row : t.rows)
    line(row);
  return out;
}

std::string html_table(const Table& t) {
  std::string out = "<table>\n<tr>";
  for (const auto& h : t.head)
    out += "<th>" + report::html_escape(h) + "</th>";
  out += "</tr>\n";
  for (const auto& row : t.rows) {
    out += "<tr>";
    for (const auto& c : row)
      out += "<td>" + report::html_escape(c) + "</td>";
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

}  // namespace

std::optional<int> recorded_offset(FleetStore& store) {
  for (const auto& vehicle : store.event_vehicles()) {
    std::optional<int> found;
    store.for_each_event(vehicle, [&](std::int64_t, const std::string& line) {
      if (found) return;
      if (auto z = report::parse_zone_line(line)) found = z->utc_offset_min;
    });
    if (found) return found;
  }
  return std::nullopt;
}

FleetReport build_fleet_report(FleetStore& store, const std::string& store_name,
                               const report::Options& options) {
  FleetReport out;
  out.store = store_name;
  out.options = options;
  const auto trip_routes = store.trip_routes();
  std::map<std::string, RouteFigures> routes;
  std::map<std::pair<std::string, std::string>, RouteFigures> days;
  for (const auto& vehicle : store.event_vehicles()) {
    report::Builder builder(options);
    store.for_each_event(vehicle, [&](std::int64_t seq, const std::string& line) {
      builder.add(line, static_cast<std::size_t>(seq));
    });
    BusReport bus{vehicle, builder.finish()};
    bus.report.source = vehicle;
    bus.report.format = "fleet store";
    for (const auto& t : bus.report.trips) {
      if (t.trip_id.empty()) continue;
      const std::string route = route_of(trip_routes, t.trip_id);
      for (RouteFigures* r : {&routes[route], &days[{route, t.day}]}) {
        r->route_id = route;
        ++r->trips;
        r->buses.insert(vehicle);
        r->figures += t.figures;
      }
      days[{route, t.day}].day = t.day;
    }
    out.total += bus.report.total;
    out.trips += trip_count(bus.report);
    out.unreadable += bus.report.unreadable;
    out.buses.push_back(std::move(bus));
  }
  for (auto& [_, r] : routes)
    out.routes.push_back(std::move(r));
  for (auto& [_, r] : days)
    out.route_days.push_back(std::move(r));
  return out;
}

std::string fleet_text(const FleetReport& r) {
  std::ostringstream s;
  const Figures& f = r.total;
  s << "Accessibility announcements across the fleet: " << r.store << ", " << window(r.options)
    << "\n";
  s << r.buses.size() << " buses, " << r.trips << " trips, " << f.stops
    << " stops served or passed\n";
  s << "next stop heard: " << heard_text(f.next_stop_ok, f.stops, f.next_stop_late, f.next_stop_cut)
    << "\n";
  s << "arriving heard:  "
    << heard_text(f.approaching_ok, f.stops, f.approaching_late, f.approaching_cut) << "\n";
  s << "exterior route heard: " << exterior_text(f) << "\n";
  if (r.unreadable > 0) s << r.unreadable << " unreadable lines skipped\n";
  s << "\nPer route\n" << text_table(route_table(r.routes, false));
  s << "\nPer route and service day\n" << text_table(route_table(r.route_days, true));
  s << "\nPer bus\n" << text_table(bus_table(r));
  return s.str();
}

std::string fleet_html(const FleetReport& r) {
  const Figures& f = r.total;
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    << "<title>stopcall fleet report</title>\n"
    << report::html_style() << "</head>\n<body>\n";
  h << "<h1>Accessibility announcements across the fleet</h1>\n<p class=\"meta\">"
    << report::html_escape(r.store) << "; " << report::html_escape(window(r.options)) << "; "
    << r.buses.size() << " buses, " << r.trips << " trips, " << r.unreadable
    << " unreadable lines (skipped).</p>\n";
  h << "<h2>Totals</h2>\n<table>\n";
  auto row = [&](const std::string& name, const std::string& value) {
    h << "<tr><th>" << report::html_escape(name) << "</th><td class=\"text\">"
      << report::html_escape(value) << "</td></tr>\n";
  };
  row("stops served or passed", std::to_string(f.stops));
  row("next stop heard", heard_text(f.next_stop_ok, f.stops, f.next_stop_late, f.next_stop_cut));
  row("arriving heard",
      heard_text(f.approaching_ok, f.stops, f.approaching_late, f.approaching_cut));
  row("exterior route heard", exterior_text(f));
  h << "</table>\n";
  std::vector<report::ChartRow> chart;
  for (const auto& d : r.route_days)
    chart.push_back({"route " + d.route_id, d.day, d.figures});
  h << "<h2>Next stop and arriving heard, per route and day</h2>\n"
    << report::share_chart(chart, "per route and service day");
  h << "<h2>Per route</h2>\n" << html_table(route_table(r.routes, false));
  h << "<h2>Per route and service day</h2>\n" << html_table(route_table(r.route_days, true));
  h << "<h2>Per bus</h2>\n" << html_table(bus_table(r));
  h << "</body>\n</html>\n";
  return h.str();
}

}  // namespace stopcall::depot
