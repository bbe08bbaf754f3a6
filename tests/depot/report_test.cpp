// `stopcall-fleet report` as a programme evaluator runs it: two buses' events in a real fleet
// store (the per-bus report's hand-counted log, tests/depot/report/two_trips.hpp), the routes
// their trips ran from their statuses; the same figures from a PostgreSQL store.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "depot/store.hpp"
#include "tests/depot/fleet_process.hpp"
#include "tests/depot/postgres.hpp"
#include "tests/depot/report/two_trips.hpp"

namespace stopcall::depot {
namespace {

using json = nlohmann::json;
using routes::testing::read_bytes;
using routes::testing::TempDir;
using testing::depot::run_fleet;

std::string status(const std::string& vehicle, const std::string& trip, const std::string& route) {
  return json{{"vehicle", vehicle},
              {"online", true},
              {"trip_id", trip},
              {"route_id", route},
              {"next_stop", {{"stop_id", "S1"}, {"name", "Alpha"}, {"index", 1}}},
              {"gps", "fix"},
              {"faults", json::array()},
              {"time", "t"}}
      .dump();
}

// bus-1 ran T1 on route 101 and T2 on route 102 (the whole log); bus-2 ran T1 on route 101 only
// (the log up to T2).
void fill(const std::string& path) {
  FleetStore store(path);
  store.put_status("bus-1", status("bus-1", "T1", "101"), "x");
  store.put_status("bus-1", status("bus-1", "T2", "102"), "x");
  store.put_status("bus-2", status("bus-2", "T1", "101"), "x");
  std::istringstream in(::stopcall::testing::report::kLog);
  int seq = 0;
  bool t2 = false;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    ++seq;
    const json e = json::parse(line);
    t2 = t2 || e.value("trip_id", "") == "T2";
    store.add_event("bus-1", json{{"vehicle", "bus-1"}, {"seq", seq}, {"event", e}}.dump());
    if (!t2)
      store.add_event("bus-2", json{{"vehicle", "bus-2"}, {"seq", seq}, {"event", e}}.dump());
  }
}

// The cells of the line of `table` (after the heading `section`) whose first cell is `first`.
std::vector<std::string> row(const std::string& text, const std::string& section,
                             const std::string& first) {
  std::istringstream in(text.substr(text.find("\n" + section + "\n") + 1));
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    for (std::size_t at = 0; at < line.size();) {
      const auto gap = line.find("  ", at);
      cells.push_back(line.substr(at, gap - at));
      if (gap == std::string::npos) break;
      at = line.find_first_not_of(' ', gap);
    }
    if (!cells.empty() && cells[0] == first) return cells;
  }
  return {};
}

using Cells = std::vector<std::string>;

TEST(FleetReport, PerRouteAndPerBusFiguresFromTwoBuses) {
  TempDir dir;
  fill(dir / "fleet.db");
  ASSERT_EQ(run_fleet({"report", "--store", dir / "fleet.db", "--from", "2026-03-02", "--to",
                       "2026-03-03", "--html", dir / "fleet.html"},
                      dir / "report.txt"),
            0)
      << read_bytes(dir / "report.txt");
  const std::string text = read_bytes(dir / "report.txt");
  // Route 101: T1 twice (3 stops each: next stop heard at all, arriving at 2 of 3 each).
  // Route 102: T2 once (3 stops: next stop heard at 1, arriving at 1; req-2 missed).
  // Columns: route, trips, buses, stops, next stop, arriving, exterior, failures, never heard,
  // ramp cycles, served, missed, GPS outage.
  EXPECT_EQ(row(text, "Per route", "101"),
            (Cells{"101", "2", "bus-1 bus-2", "6", "6 of 6 (100.0 %)", "4 of 6 (66.7 %)", "4 of 4",
                   "2", "2", "2", "2", "0", "91.0"}))
      << text;
  EXPECT_EQ(row(text, "Per route", "102"),
            (Cells{"102", "1", "bus-1", "3", "1 of 3 (33.3 %)", "1 of 3 (33.3 %)", "0 of 0", "2",
                   "1", "0", "0", "1", "20.0"}))
      << text;
  EXPECT_EQ(row(text, "Per route and service day", "101"),
            (Cells{"101", "2026-03-02", "2", "bus-1 bus-2", "6", "6 of 6 (100.0 %)",
                   "4 of 6 (66.7 %)", "4 of 4", "2", "2", "2", "2", "0", "91.0"}))
      << text;
  // Per bus: bus-1 is the per-bus report's totals; bus-2 is T1 alone.
  EXPECT_EQ(row(text, "Per bus", "bus-1"),
            (Cells{"bus-1", "2", "6", "4 of 6 (66.7 %)", "3 of 6 (50.0 %)", "2 of 2", "3", "2", "1",
                   "1", "1", "65.5"}))
      << text;
  EXPECT_EQ(row(text, "Per bus", "bus-2"),
            (Cells{"bus-2", "1", "3", "3 of 3 (100.0 %)", "2 of 3 (66.7 %)", "2 of 2", "1", "1",
                   "1", "1", "0", "45.5"}))
      << text;
  EXPECT_NE(text.find("2 buses, 3 trips, 9 stops served or passed"), std::string::npos) << text;

  const std::string html = read_bytes(dir / "fleet.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("route 101 <tspan class=\"axis\">2026-03-02</tspan>"), std::string::npos);
  EXPECT_NE(html.find("<td>bus-1 bus-2</td>"), std::string::npos);
}

TEST(FleetReport, AWindowWithoutEventsAndABadWindow) {
  TempDir dir;
  fill(dir / "fleet.db");
  ASSERT_EQ(
      run_fleet({"report", "--store", dir / "fleet.db", "--from", "2026-03-03"}, dir / "empty.txt"),
      0);
  EXPECT_NE(read_bytes(dir / "empty.txt").find("2 buses, 0 trips, 0 stops"), std::string::npos)
      << read_bytes(dir / "empty.txt");
  EXPECT_EQ(run_fleet({"report", "--store", dir / "fleet.db", "--from", "2026-03-03", "--to",
                       "2026-03-02", "--html", dir / "no.html"},
                      dir / "bad.txt"),
            2);
  EXPECT_NE(read_bytes(dir / "bad.txt").find("--to must be after --from"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir / "no.html"));
}

// `text` with every `from` replaced by `to`.
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

TEST(FleetReport, TheSameFiguresFromPostgreSQLAsFromSQLite) {
  using testing::depot::Postgres;
  if (!Postgres::available())
    GTEST_SKIP() << "PostgreSQL 15 is not installed (/usr/lib/postgresql/15/bin): tools/setup "
                    "installs postgresql-15";
  TempDir dir;
  const std::string uri = Postgres::shared().fresh_database();
  fill(dir / "fleet.db");
  fill(uri);
  for (const auto& [store, name] :
       {std::pair{dir / "fleet.db", std::string("sqlite")}, std::pair{uri, std::string("pg")}})
    ASSERT_EQ(run_fleet({"report", "--store", store, "--from", "2026-03-02", "--to", "2026-03-03",
                         "--html", dir / (name + ".html")},
                        dir / (name + ".txt")),
              0)
        << read_bytes(dir / (name + ".txt"));
  // Word for word, but for the store's name.
  const std::string sqlite = replaced(read_bytes(dir / "sqlite.txt"), dir / "fleet.db", "STORE");
  const std::string pg = replaced(read_bytes(dir / "pg.txt"), uri, "STORE");
  EXPECT_EQ(pg, sqlite);
  EXPECT_NE(pg.find("2 buses, 3 trips, 9 stops served or passed"), std::string::npos) << pg;
  EXPECT_EQ(replaced(read_bytes(dir / "pg.html"), uri, "STORE"),
            replaced(read_bytes(dir / "sqlite.html"), dir / "fleet.db", "STORE"));
}

}  // namespace
}  // namespace stopcall::depot
