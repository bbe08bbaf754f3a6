// Test helpers: tiny GTFS feeds written inline, and paths to shared real data.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>

#include "routes/importer.hpp"
#include "routes/problem.hpp"

namespace stopcall::routes::testing {

namespace fs = std::filesystem;

// A fresh folder under the test temp dir, removed at destruction.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::path(::testing::TempDir()) /
            ("stopcall-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

inline std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_file(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << content;
}

// The smallest valid feed: one route, two trips (A->C and C->A) over three stops on a straight
// east-west street, 500 m apart. Tests replace single files to break it.
inline std::map<std::string, std::string> small_feed() {
  return {
      {"agency.txt",
       "agency_id,agency_name,agency_url,agency_timezone,agency_lang\n"
       "A1,Test Buses,https://example.org,Asia/Shanghai,zh-Hans\n"},
      {"stops.txt",
       "stop_id,stop_name,stop_lat,stop_lon,wheelchair_boarding\n"
       "SA,甲站,22.5400,114.0000,1\n"
       "SB,乙站,22.5400,114.0049,2\n"
       "SC,丙站,22.5400,114.0098,0\n"},
      {"routes.txt",
       "route_id,agency_id,route_short_name,route_long_name,route_type\n"
       "R1,A1,7,甲站—丙站,3\n"},
      {"trips.txt",
       "route_id,service_id,trip_id,trip_headsign,direction_id,block_id,shape_id\n"
       "R1,WK,T1,丙站,0,B1,SH1\n"
       "R1,WK,T2,甲站,1,B1,\n"},
      {"stop_times.txt",
       "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
       "T1,08:00:00,08:00:00,SA,1\n"
       "T1,08:02:00,08:02:30,SB,2\n"
       "T1,08:05:00,08:05:00,SC,3\n"
       "T2,08:10:00,08:10:00,SC,1\n"
       "T2,08:12:00,08:12:30,SB,2\n"
       "T2,08:15:00,08:15:00,SA,3\n"},
      {"calendar.txt",
       "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
       "WK,1,1,1,1,1,0,0,20260101,20271231\n"},
      {"shapes.txt",
       "shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence\n"
       "SH1,22.54005,113.9995,1\n"
       "SH1,22.54005,114.0050,2\n"
       "SH1,22.54005,114.0105,3\n"},
      {"translations.txt",
       "table_name,field_name,language,translation,record_id,record_sub_id,field_value\n"
       "stops,stop_name,en,Alpha,SA,,\n"
       "stops,stop_name,yue,甲站(粵),SA,,\n"
       "stops,stop_name,en,Bravo,SB,,\n"
       "trips,trip_headsign,en,Charlie,,,丙站\n"},
  };
}

inline void write_feed(const fs::path& dir, const std::map<std::string, std::string>& files) {
  for (const auto& [name, content] : files)
    write_file(dir / name, content);
}

inline std::string source_dir() {
  return STOPCALL_SOURCE_DIR;
}

// Imports the bundled demo route (routes/demo/shenzhen-101 with its announcement data) into
// `output`; true when the bundle was written.
inline bool import_demo(const std::string& output) {
  ImportOptions options;
  options.feed = source_dir() + "/routes/demo/shenzhen-101";
  options.extra_dir = source_dir() + "/routes/demo/shenzhen-101-extra";
  options.output = output;
  return import_feed(options).written;
}

// Runs f, expects RouteError with `code`, returns its message.
inline std::string error_message(Errc code, const std::function<void()>& f) {
  try {
    f();
  } catch (const RouteError& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected RouteError, got: " << e.what();
    return {};
  }
  ADD_FAILURE() << "expected RouteError " << make_error_code(code).message() << ", got none";
  return {};
}

// ../shared/data beside the checkout; tests that need it skip when it is absent.
inline std::string shared_data() {
  const char* env = std::getenv("STOPCALL_SHARED_DATA");
  std::string dir = env && *env ? env : source_dir() + "/../shared/data";
  return dir;
}

#define STOPCALL_REQUIRE_SHARED_DATA()                                                           \
  do {                                                                                           \
    if (!std::filesystem::exists(::stopcall::routes::testing::shared_data())) {                  \
      GTEST_SKIP() << "shared data not found at " << ::stopcall::routes::testing::shared_data(); \
    }                                                                                            \
  } while (0)

}  // namespace stopcall::routes::testing
