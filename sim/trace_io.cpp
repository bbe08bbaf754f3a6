#include "sim/trace_io.hpp"

#include <array>
#include <cmath>
#include <cstdio>
#include <istream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <stdexcept>

#include "daemon/log/records.hpp"

namespace stopcall::sim {

namespace {

using Json = nlohmann::json;
using tracking::Fix;
using tracking::StopEvent;

constexpr double kKnotsPerMps = 3600.0 / 1852.0;
// gpsd (3.22) estimates eph from the GGA's HDOP as 19 m x HDOP, whatever GST says.
constexpr double kEphPerHdopM = 19.0;

int mode_number(Fix::Mode mode) {
  switch (mode) {
    case Fix::Mode::no_fix:
      return 1;
    case Fix::Mode::fix_2d:
      return 2;
    case Fix::Mode::fix_3d:
      return 3;
  }
  return 1;
}

// ddmm.mmmmm (latitude, 2 degree digits) or dddmm.mmmmm (longitude, 3).
std::string nmea_angle(double degrees, int degree_digits) {
  auto total = std::llround(std::abs(degrees) * 60 * 100000);  // 1e-5 minutes
  long long deg = total / (60 * 100000);
  long long rest = total % (60 * 100000);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*lld%02lld.%05lld", degree_digits, deg, rest / 100000,
                rest % 100000);
  return buf;
}

struct Clock {
  int year, month, day, hour, minute;
  double second;
};

Clock clock_of(tracking::Time t) {
  using namespace std::chrono;
  auto day = floor<days>(t);
  year_month_day ymd{day};
  auto ms = (t - day).count();
  return {static_cast<int>(ymd.year()),
          static_cast<int>(static_cast<unsigned>(ymd.month())),
          static_cast<int>(static_cast<unsigned>(ymd.day())),
          static_cast<int>(ms / 3600000),
          static_cast<int>(ms / 60000 % 60),
          static_cast<double>(ms % 60000) / 1000.0};
}

std::string time_text(tracking::Time t) {
  return tracking::format_time(t);
}

tracking::Time required_time(const Json& j, const char* key) {
  auto t = parse_time(j.at(key).get<std::string>());
  if (!t) throw std::runtime_error(std::string("bad time in \"") + key + "\"");
  return *t;
}

}  // namespace

std::optional<tracking::Time> parse_time(std::string_view text) {
  int y, mo, d, h, mi;
  double s;
  char z = 0;
  std::string copy(text);
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%lf%c", &y, &mo, &d, &h, &mi, &s, &z) != 7 ||
      z != 'Z')
    return std::nullopt;
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || !(s >= 0 && s < 61)) return std::nullopt;
  return tracking::Time{sys_days{ymd}} + hours{h} + minutes{mi} +
         milliseconds{std::llround(s * 1000)};
}

std::string gpsd_json_line(const Fix& fix) {
  std::string line = "{\"class\":\"TPV\",\"device\":\"/dev/ttyACM0\",\"mode\":";
  const bool has_fix = fix.position && fix.mode != Fix::Mode::no_fix;
  line += std::to_string(has_fix ? mode_number(fix.mode) : 1);
  line += ",\"time\":\"" + time_text(fix.time) + "\"";
  if (has_fix) {
    char buf[160];
    std::snprintf(buf, sizeof buf, ",\"lat\":%.9f,\"lon\":%.9f", fix.position->lat,
                  fix.position->lon);
    line += buf;
    if (fix.speed_mps) {
      std::snprintf(buf, sizeof buf, ",\"speed\":%.3f", *fix.speed_mps);
      line += buf;
    }
    if (fix.track_deg) {
      std::snprintf(buf, sizeof buf, ",\"track\":%.4f", *fix.track_deg);
      line += buf;
    }
    if (fix.eph_m) {
      std::snprintf(buf, sizeof buf, ",\"eph\":%.3f", *fix.eph_m);
      line += buf;
    }
  }
  line += "}";
  return line;
}

void write_gpsd_json(const std::vector<Fix>& fixes, std::ostream& out) {
  for (const auto& f : fixes)
    out << gpsd_json_line(f) << '\n';
}

std::string nmea_sentence(std::string_view body) {
  unsigned char sum = 0;
  for (char c : body)
    sum ^= static_cast<unsigned char>(c);
  char tail[8];
  std::snprintf(tail, sizeof tail, "*%02X", sum);
  return "$" + std::string(body) + tail;
}

void write_nmea(const std::vector<Fix>& fixes, std::ostream& out) {
  // Per epoch RMC, GGA, GST. (With GGA first, gpsd 3.22 loses track of its cycle after an epoch
  // without a fix and reports speeds of its own from the positions.)
  char buf[256];
  for (const auto& f : fixes) {
    const Clock c = clock_of(f.time);
    char hms[32], dmy[32];
    std::snprintf(hms, sizeof hms, "%02d%02d%05.2f", c.hour, c.minute, c.second);
    std::snprintf(dmy, sizeof dmy, "%02d%02d%02d", c.day, c.month, c.year % 100);
    if (!f.position || f.mode == Fix::Mode::no_fix) {
      std::snprintf(buf, sizeof buf, "GPRMC,%s,V,,,,,,,%s,,,N", hms, dmy);
      out << nmea_sentence(buf) << "\r\n";
      std::snprintf(buf, sizeof buf, "GPGGA,%s,,,,,0,00,,,M,,M,,", hms);
      out << nmea_sentence(buf) << "\r\n";
      continue;
    }
    const auto lat = nmea_angle(f.position->lat, 2), lon = nmea_angle(f.position->lon, 3);
    const char ns = f.position->lat >= 0 ? 'N' : 'S', ew = f.position->lon >= 0 ? 'E' : 'W';
    char speed[16] = "", track[16] = "";
    if (f.speed_mps) std::snprintf(speed, sizeof speed, "%.2f", *f.speed_mps * kKnotsPerMps);
    if (f.track_deg) std::snprintf(track, sizeof track, "%.1f", *f.track_deg);
    std::snprintf(buf, sizeof buf, "GPRMC,%s,A,%s,%c,%s,%c,%s,%s,%s,,,A", hms, lat.c_str(), ns,
                  lon.c_str(), ew, speed, track, dmy);
    out << nmea_sentence(buf) << "\r\n";
    const double eph = f.eph_m.value_or(10.0);
    std::snprintf(buf, sizeof buf, "GPGGA,%s,%s,%c,%s,%c,1,10,%.2f,20.0,M,-2.0,M,,", hms,
                  lat.c_str(), ns, lon.c_str(), ew, std::max(0.1, eph / kEphPerHdopM));
    out << nmea_sentence(buf) << "\r\n";
    // GST: RMS, error ellipse, then the 1-sigma latitude, longitude and altitude errors.
    const double sigma = eph / 2.0 / std::sqrt(2.0);
    std::snprintf(buf, sizeof buf, "GPGST,%s,%.1f,%.1f,%.1f,0.0,%.1f,%.1f,%.1f", hms, sigma, sigma,
                  sigma, sigma, sigma, 2 * sigma);
    out << nmea_sentence(buf) << "\r\n";
  }
}

void write_truth(const Truth& truth, std::ostream& out) {
  Json run = {{"class", "run"},
              {"trip_id", truth.trip_id},
              {"seed", truth.seed},
              {"noise", truth.noise_model},
              {"start", time_text(truth.start)},
              {"end", time_text(truth.end)},
              {"stops", truth.stops.size()}};
  out << run.dump() << '\n';
  for (const auto& s : truth.stops) {
    Json j = {{"class", "stop"},
              {"index", s.index},
              {"stop_id", s.stop_id},
              {"stop_sequence", s.stop_sequence},
              {"distance_m", std::round(s.distance_m * 10) / 10},
              {"stopped", s.stopped},
              {"arrival", time_text(s.arrival)},
              {"departure", time_text(s.departure)}};
    if (s.shares_halt_of >= 0) j["shares_halt_of"] = s.shares_halt_of;
    out << j.dump() << '\n';
  }
  for (const auto& l : truth.red_lights) {
    Json j = {{"class", "red_light"},
              {"before_stop", l.before_stop},
              {"distance_m", std::round(l.distance_m * 10) / 10},
              {"short_of_stop_m", std::round(l.short_of_stop_m * 10) / 10},
              {"start", time_text(l.start)},
              {"end", time_text(l.end)}};
    out << j.dump() << '\n';
  }
  for (const auto& o : truth.outages) {
    Json j = {{"class", "outage"},
              {"start", time_text(o.start)},
              {"end", time_text(o.end)},
              {"covers_stop", o.covers_stop}};
    out << j.dump() << '\n';
  }
}

Truth read_truth(std::istream& in) {
  Truth truth;
  std::string line;
  int number = 0;
  bool have_run = false;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    try {
      Json j = Json::parse(line);
      const std::string kind = j.at("class").get<std::string>();
      if (kind == "run") {
        have_run = true;
        truth.trip_id = j.at("trip_id").get<std::string>();
        truth.seed = j.value("seed", std::uint64_t{0});
        truth.noise_model = j.value("noise", std::string());
        truth.start = required_time(j, "start");
        truth.end = required_time(j, "end");
      } else if (kind == "stop") {
        StopTruth s;
        s.index = j.at("index").get<int>();
        s.stop_id = j.at("stop_id").get<std::string>();
        s.stop_sequence = j.value("stop_sequence", 0);
        s.distance_m = j.value("distance_m", 0.0);
        s.stopped = j.at("stopped").get<bool>();
        s.arrival = required_time(j, "arrival");
        s.departure = required_time(j, "departure");
        s.shares_halt_of = j.value("shares_halt_of", -1);
        if (s.index != static_cast<int>(truth.stops.size()))
          throw std::runtime_error("stops out of order");
        truth.stops.push_back(s);
      } else if (kind == "red_light") {
        RedLight l;
        l.before_stop = j.value("before_stop", -1);
        l.distance_m = j.value("distance_m", 0.0);
        l.short_of_stop_m = j.value("short_of_stop_m", 0.0);
        l.start = required_time(j, "start");
        l.end = required_time(j, "end");
        truth.red_lights.push_back(l);
      } else if (kind == "outage") {
        truth.outages.push_back(
            {required_time(j, "start"), required_time(j, "end"), j.value("covers_stop", -1)});
      }
    } catch (const std::exception& e) {
      throw std::runtime_error("truth line " + std::to_string(number) + ": " + e.what());
    }
  }
  if (!have_run || truth.stops.empty())
    throw std::runtime_error("not a truth file: no \"run\" line or no stops");
  return truth;
}

std::vector<StopEvent> read_events(std::istream& in) {
  std::vector<StopEvent> events;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    try {
      Json j = Json::parse(line);
      // The event log holds other records too (announcements, prompts, signals): stop events
      // only. A type that is neither is an error.
      const std::string name = j.at("type").get<std::string>();
      const auto type = tracking::type_from_name(name);
      if (!type) {
        if (log::is_record_type(name)) continue;
        throw std::runtime_error("unknown event type \"" + name + "\"");
      }
      StopEvent e;
      e.type = *type;
      e.time = required_time(j, "time");
      e.trip_id = j.value("trip_id", std::string());
      if (j.contains("stop_id")) e.stop_id = j["stop_id"].get<std::string>();
      if (j.contains("stop_sequence")) e.stop_sequence = j["stop_sequence"].get<int>();
      if (j.contains("stop_index")) e.stop_index = j["stop_index"].get<int>();
      e.distance_m = j.value("distance_m", 0.0);
      events.push_back(std::move(e));
    } catch (const std::exception& e) {
      throw std::runtime_error("events line " + std::to_string(number) + ": " + e.what());
    }
  }
  return events;
}

}  // namespace stopcall::sim
