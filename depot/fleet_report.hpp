// `stopcall-fleet report`: the accessibility report across the fleet, per route, per route and
// service day, and per bus, from the events in the fleet store. Each bus's events go in seq order
// through the per-bus report (depot/report, report::Builder) exactly as `stopcall-report` reads
// a bus's own store; its trips are then added up by route (the route each trip ran, from the
// buses' statuses: the store's `trips` table). The figures are defined in depot/report/README.md.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "depot/report/report.hpp"
#include "depot/store.hpp"

namespace stopcall::depot {

// A trip whose route no status named.
inline constexpr const char* kUnknownRoute = "(route not known)";

struct RouteFigures {
  std::string route_id;
  std::string day;  // empty: the whole window
  int trips = 0;
  std::set<std::string> buses;
  report::Figures figures;
};

struct BusReport {
  std::string vehicle;
  report::Report report;  // the bus's own report over the window
};

struct FleetReport {
  std::string store;
  report::Options options;
  std::vector<RouteFigures> routes;      // by route
  std::vector<RouteFigures> route_days;  // by route, then day
  std::vector<BusReport> buses;          // by vehicle
  report::Figures total;
  int trips = 0;
  std::size_t unreadable = 0;  // lines skipped, over every bus
};

// The offset of the first time zone a bus recorded, for --from/--to without a zone.
std::optional<int> recorded_offset(FleetStore& store);

FleetReport build_fleet_report(FleetStore& store, const std::string& store_name,
                               const report::Options& options);

std::string fleet_text(const FleetReport& r);
// One self-contained page: the totals, a chart per route and day, and the tables.
std::string fleet_html(const FleetReport& r);

}  // namespace stopcall::depot
