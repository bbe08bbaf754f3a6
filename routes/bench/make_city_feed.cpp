// stopcall-make-city-feed: writes a synthetic, city-scale GTFS feed for the import benchmark
// (tools/bench). The same seed and sizes give the same bytes on every machine: the random numbers
// come from our own generator, not from the standard library's distributions.
//
// The city is a street grid over Shenzhen (22.45-22.75 N, 113.8-114.3 E; a smaller feed uses a
// smaller grid around the centre, with blocks of at most 700 m). The crossings are jittered so
// no street is quite straight. Each block side has a stop at most, on the kerb of its traffic
// direction (traffic keeps right), so a street has a stop for each direction per block. A route
// is a random walk along streets; direction 0 drives it one way and direction 1 the other, each
// on its own lane with a shape point every 50-80 m and every stop 3 m from its lane.
//
// city.hpp builds the city and the routes' geometry; this file writes the feed's tables.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "routes/bench/city.hpp"
#include "routes/bench/csv_out.hpp"
#include "routes/geo.hpp"

namespace {

namespace fs = std::filesystem;
using namespace stopcall::routes::bench;
using stopcall::routes::LatLon;
using stopcall::routes::geo::LocalProjection;

// ---- options ---------------------------------------------------------------------------------

struct Options {
  std::string out_dir;
  std::uint64_t seed = 1;
  long routes = 1500, stops = 15000, trips = 80000, stops_per_trip = 30;
};

constexpr const char* kUsage =
    "usage: stopcall-make-city-feed OUT_DIR [--seed N] [--routes N] [--stops N] [--trips N]\n"
    "                               [--stops-per-trip N]\n"
    "Writes a synthetic GTFS feed (a folder) of a bus network over Shenzhen. Defaults: seed 1,\n"
    "1500 routes, 15000 stops, 80000 trips, 30 stops per trip (on average, 25 to 35).\n";

// ---- the feed ----------------------------------------------------------------------------------

std::string padded(long v, int width) {
  std::string s = std::to_string(v);
  return s.size() < static_cast<std::size_t>(width) ? std::string(width - s.size(), '0') + s : s;
}

std::string stop_id(long stop) {
  return "ST" + padded(stop + 1, 5);
}
std::string stop_name(long stop, std::string_view lang) {
  std::string n = std::to_string(stop + 1);
  if (lang == "en") return "Stop " + n;
  if (lang == "yue") return "站點 " + n;
  return "站点 " + n;
}

struct Agency {
  const char *id, *name, *en, *yue;
};
constexpr Agency kAgencies[] = {
    {"SZBUS", "深圳巴士集团", "Shenzhen Bus Group", "深圳巴士集團"},
    {"SZEB", "深圳东部公交", "Shenzhen Eastern Bus", "深圳東部公交"},
    {"SZWB", "深圳西部公汽", "Shenzhen Western Bus", "深圳西部公汽"},
};
constexpr const char* kColors[] = {"0057A8", "D7282F", "00843D", "F39800", "6F2C91",
                                   "00A0E9", "8B5A2B", "E4007F", "2E3192", "007A87"};

struct Summary {
  struct File {
    std::string name;
    long rows;
    std::uintmax_t bytes;
  };
  std::vector<File> files;
};

void close_file(CsvOut& out, Summary& summary) {
  out.close();
  summary.files.push_back({out.path().filename().string(), out.rows(), fs::file_size(out.path())});
}

// Seconds a bus takes from stop to stop, by time of day: slower in the rush hours.
double traffic_factor(int departure_s) {
  int h = departure_s / 60;  // minutes
  if ((h >= 7 * 60 && h < 9 * 60 + 30) || (h >= 17 * 60 && h < 19 * 60 + 30)) return 1.25;
  if (h >= 21 * 60) return 0.9;
  return 1.0;
}

void write_feed(const Options& opt) {
  fs::create_directories(opt.out_dir);
  fs::path dir(opt.out_dir);
  Rng rng(opt.seed);
  Summary summary;

  LatLon centre{(kSouth + kNorth) / 2, (kWest + kEast) / 2};
  LocalProjection projection(centre);
  XY sw = projection.to_xy({kSouth, kWest}), ne = projection.to_xy({kNorth, kEast});
  City city = build_city(rng, opt.stops, ne.x - sw.x, ne.y - sw.y);

  // Routes: both directions of each, from one walk.
  struct RouteGeo {
    Pattern dir[2];
  };
  std::vector<RouteGeo> routes(opt.routes);
  for (long r = 0; r < opt.routes; ++r) {
    long spread = std::min(5L, opt.stops_per_trip / 6);
    long target = std::max(2L, opt.stops_per_trip + rng.between(-spread, spread));
    for (int attempt = 0;; ++attempt) {
      auto walk = random_walk(city, rng, target);
      if (walk.size() >= 2) {
        routes[r].dir[0] = make_pattern(city, walk);
        std::reverse(walk.begin(), walk.end());
        routes[r].dir[1] = make_pattern(city, walk);
        if (routes[r].dir[0].stops.size() >= 2 && routes[r].dir[1].stops.size() >= 2) break;
      }
      if (attempt == 100)
        throw std::runtime_error("the city is too small for routes of two stops or more");
    }
  }

  auto to_latlon = [&](XY p) { return projection.to_latlon(p); };

  {
    CsvOut out(dir / "agency.txt",
               "agency_id,agency_name,agency_url,agency_timezone,agency_lang,agency_phone");
    for (const auto& a : kAgencies) {
      out.str(a.id).str(a.name).str("https://example.org/" + std::string(a.id));
      out.str("Asia/Shanghai").str("zh-Hans").none().end_row();
    }
    close_file(out, summary);
  }
  {
    CsvOut out(dir / "feed_info.txt",
               "feed_publisher_name,feed_publisher_url,feed_lang,feed_start_date,feed_end_date,"
               "feed_version");
    out.str("stopcall synthetic city feed").str("https://example.org/stopcall").str("zh-Hans");
    out.str("20260101")
        .str("20271231")
        .str("synthetic-" + std::to_string(opt.seed) + "-" + std::to_string(opt.routes) + "r-" +
             std::to_string(opt.trips) + "t");
    out.end_row();
    close_file(out, summary);
  }
  {
    CsvOut out(dir / "calendar.txt",
               "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,"
               "end_date");
    out.str("WEEKDAY").num(1).num(1).num(1).num(1).num(1).num(0).num(0);
    out.str("20260101").str("20271231").end_row();
    out.str("WEEKEND").num(0).num(0).num(0).num(0).num(0).num(1).num(1);
    out.str("20260101").str("20271231").end_row();
    close_file(out, summary);
  }
  {
    CsvOut out(dir / "stops.txt",
               "stop_id,stop_code,stop_name,stop_lat,stop_lon,location_type,parent_station,"
               "wheelchair_boarding");
    for (long s = 0; s < static_cast<long>(city.stop_xy.size()); ++s) {
      LatLon p = to_latlon(city.stop_xy[s]);
      double w = rng.uniform();
      out.str(stop_id(s)).num(10000 + s + 1).str(stop_name(s, "zh-Hans"));
      out.fixed(p.lat, 6).fixed(p.lon, 6).num(0).none().num(w < 0.8 ? 1 : w < 0.95 ? 0 : 2);
      out.end_row();
    }
    close_file(out, summary);
  }

  std::vector<std::string> route_ids(opt.routes);
  int id_width = std::max(4, static_cast<int>(std::to_string(opt.routes).size()));
  {
    CsvOut out(dir / "routes.txt",
               "route_id,agency_id,route_short_name,route_long_name,route_type,route_color,"
               "route_text_color");
    for (long r = 0; r < opt.routes; ++r) {
      route_ids[r] = "R" + padded(r + 1, id_width);
      double kind = rng.uniform();
      const char* prefix = kind < 0.15 ? "M" : kind < 0.25 ? "B" : kind < 0.30 ? "E" : "";
      const auto& p = routes[r].dir[0];
      out.str(route_ids[r]).str(kAgencies[r % 3].id).str(prefix + std::to_string(r + 1));
      out.str(stop_name(p.stops.front(), "zh-Hans") + "—" + stop_name(p.stops.back(), "zh-Hans"));
      out.num(3).str(kColors[rng.below(std::size(kColors))]).str("FFFFFF").end_row();
    }
    close_file(out, summary);
  }
  {
    CsvOut out(dir / "shapes.txt",
               "shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence,shape_dist_traveled");
    for (long r = 0; r < opt.routes; ++r) {
      for (int d = 0; d < 2; ++d) {
        std::string id = route_ids[r] + "-" + std::to_string(d);
        const auto& p = routes[r].dir[d];
        for (std::size_t i = 0; i < p.shape.size(); ++i) {
          LatLon ll = to_latlon(p.shape[i]);
          out.str(id).fixed(ll.lat, 6).fixed(ll.lon, 6).num(static_cast<long>(i) + 1);
          out.fixed(p.shape_along[i], 1).end_row();
        }
      }
    }
    close_file(out, summary);
  }

  // Trips and their stop times, route by route: each route gets its share of the trips, split
  // between the directions and between weekdays (3 in 5) and weekends, departing from both ends
  // at the same even headway from about 06:00 to 22:30. Buses alternate directions with at least
  // 5 minutes at each end, which gives the blocks.
  std::set<long> headsign_stops;
  {
    CsvOut trips(dir / "trips.txt",
                 "route_id,service_id,trip_id,trip_headsign,direction_id,block_id,shape_id,"
                 "wheelchair_accessible");
    CsvOut times(dir / "stop_times.txt",
                 "trip_id,arrival_time,departure_time,stop_id,stop_sequence,pickup_type,"
                 "drop_off_type,shape_dist_traveled,timepoint");
    std::vector<std::string> stop_ids(city.stop_xy.size());
    for (std::size_t s = 0; s < stop_ids.size(); ++s)
      stop_ids[s] = stop_id(static_cast<long>(s));
    for (long r = 0; r < opt.routes; ++r) {
      long route_trips = opt.trips / opt.routes + (r < opt.trips % opt.routes ? 1 : 0);
      double speed = rng.uniform(4.2, 6.1);  // m/s between stops, 15 to 22 km/h
      // Per direction: seconds from the stop before (at factor 1) and dwell at each stop.
      std::vector<double> run[2];
      std::vector<int> dwell[2];
      double longest = 0;
      for (int d = 0; d < 2; ++d) {
        const auto& p = routes[r].dir[d];
        double total = 0;
        for (std::size_t i = 0; i < p.stops.size(); ++i) {
          run[d].push_back(i == 0 ? 0 : (p.stop_along[i] - p.stop_along[i - 1]) / speed + 15);
          dwell[d].push_back(i == 0 || i + 1 == p.stops.size() ? 0 : rng.uniform() < 0.2 ? 30 : 20);
          total += run[d].back() * 1.25 + dwell[d].back();
        }
        longest = std::max(longest, total);
        headsign_stops.insert(p.stops.back());
      }
      long per_dir[2] = {(route_trips + 1) / 2, route_trips / 2};
      for (int service = 0; service < 2; ++service) {
        const char* svc = service == 0 ? "WD" : "WE";
        long count[2];
        for (int d = 0; d < 2; ++d) {
          long weekday = (per_dir[d] * 3 + 4) / 5;
          count[d] = service == 0 ? weekday : per_dir[d] - weekday;
        }
        long most = std::max(count[0], count[1]);
        if (most == 0) continue;
        double headway = (22.5 - 6.0) * 3600 / most;
        double first = 5.75 * 3600 + rng.uniform(0, std::min(headway, 1800.0));
        long m = static_cast<long>(std::ceil((longest + 360) / headway));
        for (int d = 0; d < 2; ++d) {
          const auto& p = routes[r].dir[d];
          std::string shape_id = route_ids[r] + "-" + std::to_string(d);
          std::string headsign = stop_name(p.stops.back(), "zh-Hans");
          for (long k = 0; k < count[d]; ++k) {
            int departure = static_cast<int>(std::lround((first + k * headway) / 60)) * 60;
            std::string trip_id =
                route_ids[r] + "-" + svc + "-" + std::to_string(d) + "-" + padded(k, 3);
            long block = (k + (d == 0 ? 0 : m)) % (2 * m);
            trips.str(route_ids[r]).str(service == 0 ? "WEEKDAY" : "WEEKEND").str(trip_id);
            trips.str(headsign).num(d).str(route_ids[r] + "-" + svc + "-" + padded(block, 2));
            trips.str(shape_id).num(1).end_row();
            double factor = traffic_factor(departure);
            int t = departure;
            std::size_t n = p.stops.size();
            for (std::size_t i = 0; i < n; ++i) {
              t += static_cast<int>(std::lround(run[d][i] * factor));
              times.str(trip_id).time(t);
              t += dwell[d][i];
              times.time(t).str(stop_ids[p.stops[i]]).num(static_cast<long>(i) + 1);
              times.num(i + 1 == n ? 1 : 0).num(i == 0 ? 1 : 0).fixed(p.stop_along[i], 1);
              times.num(i == 0 || i + 1 == n || i % 5 == 0 ? 1 : 0).end_row();
            }
          }
        }
      }
    }
    close_file(trips, summary);
    close_file(times, summary);
  }
  {
    CsvOut out(dir / "translations.txt",
               "table_name,field_name,language,translation,record_id,record_sub_id,field_value");
    for (const auto& a : kAgencies) {
      out.str("agency").str("agency_name").str("en").str(a.en).str(a.id).none().none().end_row();
      out.str("agency").str("agency_name").str("yue").str(a.yue).str(a.id).none().none().end_row();
    }
    for (long s = 0; s < static_cast<long>(city.stop_xy.size()); ++s) {
      for (const char* lang : {"en", "yue"}) {
        out.str("stops").str("stop_name").str(lang).str(stop_name(s, lang)).str(stop_id(s));
        out.none().none().end_row();
      }
    }
    for (long r = 0; r < opt.routes; ++r) {
      const auto& p = routes[r].dir[0];
      for (const char* lang : {"en", "yue"}) {
        std::string dash = std::string_view(lang) == "en" ? " – " : "—";
        out.str("routes").str("route_long_name").str(lang);
        out.str(stop_name(p.stops.front(), lang) + dash + stop_name(p.stops.back(), lang));
        out.str(route_ids[r]).none().none().end_row();
      }
    }
    for (long s : headsign_stops) {
      for (const char* lang : {"en", "yue"}) {
        out.str("trips").str("trip_headsign").str(lang).str(stop_name(s, lang)).none().none();
        out.str(stop_name(s, "zh-Hans")).end_row();
      }
    }
    close_file(out, summary);
  }

  std::cout << "city feed " << opt.out_dir << ": seed " << opt.seed << ", " << city.nx << " x "
            << city.ny << " street grid, blocks of " << std::lround(city.block_m) << " m\n";
  std::uintmax_t bytes = 0;
  long rows = 0;
  char line[128];
  std::snprintf(line, sizeof line, "  %-18s %10s %12s\n", "file", "rows", "bytes");
  std::cout << line;
  for (const auto& f : summary.files) {
    std::snprintf(line, sizeof line, "  %-18s %10ld %12ju\n", f.name.c_str(), f.rows, f.bytes);
    std::cout << line;
    bytes += f.bytes;
    rows += f.rows;
  }
  std::snprintf(line, sizeof line, "  %-18s %10ld %12ju\n", "total", rows, bytes);
  std::cout << line;
}

bool parse_long(const char* text, long& out) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < 0) return false;
  out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    }
    long* target = arg == "--routes"           ? &opt.routes
                   : arg == "--stops"          ? &opt.stops
                   : arg == "--trips"          ? &opt.trips
                   : arg == "--stops-per-trip" ? &opt.stops_per_trip
                                               : nullptr;
    if (arg == "--seed" && i + 1 < argc) {
      long seed;
      if (!parse_long(argv[++i], seed)) {
        std::cerr << "stopcall-make-city-feed: --seed needs a non-negative integer\n";
        return 2;
      }
      opt.seed = static_cast<std::uint64_t>(seed);
    } else if (target && i + 1 < argc) {
      if (!parse_long(argv[++i], *target)) {
        std::cerr << "stopcall-make-city-feed: " << arg << " needs a non-negative integer\n";
        return 2;
      }
    } else if (!arg.empty() && arg[0] != '-' && opt.out_dir.empty()) {
      opt.out_dir = arg;
    } else {
      std::cerr << "stopcall-make-city-feed: unexpected argument " << arg << "\n" << kUsage;
      return 2;
    }
  }
  if (opt.out_dir.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  if (opt.routes < 1 || opt.stops < 50 || opt.stops_per_trip < 2) {
    std::cerr << "stopcall-make-city-feed: need at least 1 route, 50 stops and 2 stops per trip\n";
    return 2;
  }
  try {
    write_feed(opt);
  } catch (const std::exception& e) {
    std::cerr << "stopcall-make-city-feed: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
