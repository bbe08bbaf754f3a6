#include "routes/importer.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zip.h>

#include <cmath>

#include "routes/bundle.hpp"
#include "routes/bundle_check.hpp"
#include "test_feed.hpp"

namespace stopcall::routes {
namespace {

using namespace stopcall::routes::testing;
using ::testing::HasSubstr;

std::string all_messages(const Problems& problems) {
  std::string out;
  for (const auto& p : problems.kept())
    out += p.to_string() + "\n";
  return out;
}

ImportOptions options_for(const std::string& feed, const std::string& output,
                          const std::string& extra = {}) {
  ImportOptions options;
  options.feed = feed;
  options.output = output;
  options.extra_dir = extra;
  return options;
}

ImportReport import_files(const TempDir& dir, const std::map<std::string, std::string>& files,
                          const std::string& extra = {}) {
  write_feed(dir.path() / "feed", files);
  ImportOptions options;
  options.feed = dir / "feed";
  options.output = dir / "out.db";
  options.extra_dir = extra;
  return import_feed(options);
}

// ---- the manifest of broken and odd real feeds ----------------------------------------------

struct EdgeCase {
  std::string input;
  bool imports;
  std::vector<std::string> message_names;  // what the first message must name
  bool warns = false;
};

class EdgeCases : public ::testing::TestWithParam<EdgeCase> {};

TEST_P(EdgeCases, GiveTheOutcomeTheManifestAsks) {
  STOPCALL_REQUIRE_SHARED_DATA();
  const auto& c = GetParam();
  TempDir dir;
  // An installed bundle elsewhere and a stale file at the output path must both survive.
  write_file(dir.path() / "out.db", "previous content");
  ImportOptions options;
  options.feed = shared_data() + "/gtfs/edge-cases/" + c.input;
  options.output = dir / "out.db";
  auto report = import_feed(options);
  std::string messages = all_messages(report.problems);
  EXPECT_EQ(report.written, c.imports) << messages;
  EXPECT_EQ(!report.problems.has_errors(), c.imports) << messages;
  if (c.warns) {
    EXPECT_GT(report.problems.warning_count(), 0u);
  }
  if (!c.message_names.empty()) {
    // A refusal: the first error names the cause. An import with a warning: the warning that is
    // asked for names it (feeds from older tools also leave trailing cells out, warned about too).
    const Problem* named = nullptr;
    for (const auto& p : report.problems.kept()) {
      bool names_all = true;
      for (const auto& name : c.message_names)
        names_all = names_all && p.to_string().find(name) != std::string::npos;
      if (c.imports ? names_all : p.severity == Severity::error) {
        named = &p;
        break;
      }
    }
    ASSERT_NE(named, nullptr) << messages;
    for (const auto& name : c.message_names)
      EXPECT_THAT(named->to_string(), HasSubstr(name)) << messages;
  }
  if (!c.imports) {
    EXPECT_EQ(read_bytes(dir / "out.db"), "previous content")
        << "a rejected import must not touch the output";
    for (const auto& entry : fs::directory_iterator(dir.path())) {
      EXPECT_EQ(entry.path().filename(), "out.db") << "left behind: " << entry.path();
    }
  } else {
    EXPECT_NO_THROW(Bundle::open(dir / "out.db").summary());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Manifest, EdgeCases,
    ::testing::Values(EdgeCase{"utf8bom", true, {}}, EdgeCase{"bad_eol.zip", true, {}},
                      EdgeCase{"duplicate_stop", true, {"stops.txt", "FROG", "BULLFROG"}, true},
                      EdgeCase{"bad_utf8", false, {"agency.txt:1", "not UTF-8"}},
                      EdgeCase{"contains_null", false, {"stops.txt:9", "NUL"}},
                      EdgeCase{"empty_file", false, {"agency.txt", "empty"}},
                      EdgeCase{"missing_column", false, {"agency.txt", "agency_name"}},
                      EdgeCase{"missing_stops", false, {"stops.txt", "missing"}},
                      EdgeCase{"undefined_stop", false, {"stop_times.txt:11", "NADAR"}},
                      EdgeCase{
                          "badgtfs.zip", false, {"not a GTFS feed", "agency.txt", "stops.txt"}}),
    [](const auto& info) {
      std::string name = info.param.input;
      for (auto& ch : name) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return name;
    });

TEST(EdgeCaseNames, UtfBomFeedReadsNamesWithoutTheBom) {
  STOPCALL_REQUIRE_SHARED_DATA();
  TempDir dir;
  ImportOptions options;
  options.feed = shared_data() + "/gtfs/edge-cases/utf8bom";
  options.output = dir / "b.db";
  ASSERT_TRUE(import_feed(options).written);
  auto bundle = Bundle::open(options.output);
  // The BOM sits before the first header name: stop_id would otherwise not be found at all.
  EXPECT_EQ(bundle.summary().stops, 9);
  EXPECT_EQ(bundle.load_stop("FUR_CREEK_RES").names.begin()->second, "Furnace Creek Resort (Demo)");
}

// ---- real feeds: facts a depot worker could check by hand ------------------------------------

TEST(RealFeeds, GoogleSampleFeed) {
  STOPCALL_REQUIRE_SHARED_DATA();
  TempDir dir;
  auto options = options_for(shared_data() + "/gtfs/real/sample-feed.zip", dir / "b.db");
  auto report = import_feed(options);
  ASSERT_TRUE(report.written) << all_messages(report.problems);
  auto bundle = Bundle::open(options.output);
  auto s = bundle.summary();
  EXPECT_EQ(s.routes, 5);
  EXPECT_EQ(s.stops, 9);
  EXPECT_EQ(s.trips, 11);
  EXPECT_EQ(s.stop_times, 28);
  EXPECT_EQ(s.derived_shapes, s.shapes) << "the sample feed has no shapes.txt";
  auto trip = bundle.load_trip("STBA");
  ASSERT_EQ(trip.stops.size(), 2u);
  EXPECT_EQ(trip.stops[0].stop.id, "STAGECOACH");
  EXPECT_EQ(trip.stops[1].stop.id, "BEATTY_AIRPORT");
  EXPECT_TRUE(trip.shape_derived);
  EXPECT_EQ(trip.stops[0].arrival_s, 6 * 3600);
  EXPECT_NEAR(trip.stops[1].distance_m, 6010, 30) << "Stagecoach to Beatty airport, straight";
}

TEST(RealFeeds, BullRunnerWithAndWithoutShapes) {
  STOPCALL_REQUIRE_SHARED_DATA();
  TempDir dir;
  for (std::string name : {"bullrunner-gtfs.zip", "bullrunner-gtfs-no-shapes.zip"}) {
    auto options = options_for(shared_data() + "/gtfs/real/" + name, dir / (name + ".db"));
    auto report = import_feed(options);
    ASSERT_TRUE(report.written) << name << "\n" << all_messages(report.problems);
    auto bundle = Bundle::open(options.output);
    auto s = bundle.summary();
    EXPECT_EQ(s.routes, 6) << name;
    EXPECT_EQ(s.stops, 125) << name;
    EXPECT_EQ(s.trips, 15) << name;
    EXPECT_EQ(s.stop_times, 473) << name;
    bool has_shapes = name == "bullrunner-gtfs.zip";
    EXPECT_EQ(s.derived_shapes, has_shapes ? 0 : s.shapes) << name;
    // Stops along every trip are in order along its shape, whether the shape is real or derived.
    for (const auto& candidate : bundle.trips_of_route("A")) {
      auto trip = bundle.load_trip(candidate.trip_id);
      for (std::size_t i = 1; i < trip.stops.size(); ++i) {
        EXPECT_GE(trip.stops[i].distance_m, trip.stops[i - 1].distance_m) << trip.id;
      }
      if (has_shapes) {
        for (const auto& ts : trip.stops)
          EXPECT_LT(ts.offset_m, 60) << ts.stop.id;
      }
    }
  }
}

TEST(RealFeeds, PortoAlegreTripsPastMidnightAreRepairedWithAWarning) {
  STOPCALL_REQUIRE_SHARED_DATA();
  TempDir dir;
  auto options = options_for(shared_data() + "/gtfs/real/poa.zip", dir / "b.db");
  auto report = import_feed(options);
  ASSERT_TRUE(report.written) << all_messages(report.problems);
  EXPECT_THAT(all_messages(report.problems), HasSubstr("read as 24:20:00"));
  auto bundle = Bundle::open(options.output);
  auto s = bundle.summary();
  EXPECT_EQ(s.routes, 4);
  EXPECT_EQ(s.stops, 212);
  EXPECT_EQ(s.trips, 387);
  EXPECT_EQ(s.stop_times, 23040);
  EXPECT_EQ(s.derived_shapes, 0);
  auto trip = bundle.load_trip("A141-1@3#2340");
  EXPECT_EQ(trip.stops.front().departure_s, 23 * 3600 + 40 * 60);
  EXPECT_EQ(trip.stops.back().arrival_s, 24 * 3600 + 20 * 60);
}

TEST(RealFeeds, TransitfeedGoodFeedFolder) {
  STOPCALL_REQUIRE_SHARED_DATA();
  TempDir dir;
  auto options = options_for(shared_data() + "/gtfs/real/transitfeed-good_feed", dir / "b.db");
  auto report = import_feed(options);
  ASSERT_TRUE(report.written) << all_messages(report.problems);
  auto bundle = Bundle::open(options.output);
  EXPECT_EQ(bundle.summary().stops, 10);
  EXPECT_EQ(bundle.summary().trips, 11);
  auto city1 = bundle.load_trip("CITY1");
  ASSERT_EQ(city1.stops.size(), 5u);
  EXPECT_EQ(city1.stops[0].stop.id, "STAGECOACH");
}

// ---- the demo route round-trips with its names and announcement data -------------------------

TEST(DemoFeed, RoundTripsWithNamesInThreeLanguagesAndExtraData) {
  TempDir dir;
  auto options = options_for(source_dir() + "/routes/demo/shenzhen-101", dir / "demo.db",
                             source_dir() + "/routes/demo/shenzhen-101-extra");
  auto report = import_feed(options);
  ASSERT_TRUE(report.written) << all_messages(report.problems);
  EXPECT_EQ(report.problems.warning_count(), 0u) << all_messages(report.problems);
  auto bundle = Bundle::open(options.output);
  auto summary = bundle.summary();
  EXPECT_THAT(summary.languages, ::testing::IsSupersetOf({"zh-Hans", "yue", "en"}));
  EXPECT_EQ(summary.feed_version, "2026.11-demo");

  auto trip = bundle.load_trip("101-WD-E-0630");
  ASSERT_GE(trip.stops.size(), 12u);
  EXPECT_FALSE(trip.shape_derived);
  EXPECT_EQ(trip.headsigns.at("zh-Hans"), "大剧院");
  EXPECT_EQ(trip.headsigns.at("en"), "Grand Theater");
  EXPECT_EQ(trip.stops.front().stop.names.at("zh-Hans"), "世界之窗");
  EXPECT_EQ(trip.stops.front().stop.names.at("en"), "Window of the World");
  EXPECT_EQ(trip.stops.front().stop.names.at("yue"), "世界之窗");
  for (std::size_t i = 1; i < trip.stops.size(); ++i) {
    EXPECT_GT(trip.stops[i].distance_m, trip.stops[i - 1].distance_m + 300);
    EXPECT_LT(trip.stops[i].offset_m, 15);
  }
  EXPECT_NEAR(trip.stops.back().distance_m, trip.shape.back().distance_m, 100);

  auto cgm = bundle.load_stop("CGM-E");
  EXPECT_THAT(cgm.extra_phrases.at("en"), HasSubstr("Metro"));
  EXPECT_EQ(cgm.wheelchair, Wheelchair::accessible);
  EXPECT_EQ(bundle.load_route("101").exterior_texts.at("en"), "Route 101 to {headsign}");

  // Recorded clips are stored in the bundle byte for byte.
  auto gx = bundle.load_stop("GX-E");
  ASSERT_TRUE(gx.name_clips.contains("zh-Hans"));
  auto [bytes, format] = bundle.clip(gx.name_clips.at("zh-Hans").sha256);
  EXPECT_EQ(format, "wav");
  EXPECT_EQ(bytes.substr(0, 4), "RIFF");
}

// ---- problems in small inline feeds ----------------------------------------------------------

TEST(Import, SmallFeedImportsWithTranslationsAndDerivedShape) {
  TempDir dir;
  auto report = import_files(dir, small_feed());
  ASSERT_TRUE(report.written) << all_messages(report.problems);
  auto bundle = Bundle::open(dir / "out.db");
  auto t1 = bundle.load_trip("T1");
  EXPECT_EQ(t1.stops[0].stop.names.at("en"), "Alpha");
  EXPECT_EQ(t1.stops[0].stop.names.at("yue"), "甲站(粵)");
  EXPECT_EQ(t1.stops[0].stop.names.at("zh-Hans"), "甲站");
  EXPECT_EQ(t1.headsigns.at("en"), "Charlie");
  EXPECT_NEAR(t1.stops[1].distance_m, 550, 10);  // the shape starts 50 m before stop A
  EXPECT_FALSE(t1.shape_derived);
  auto t2 = bundle.load_trip("T2");
  EXPECT_TRUE(t2.shape_derived) << "T2 has no shape_id: built from its stops";
  EXPECT_NEAR(t2.stops[2].distance_m, 1000, 10);
  EXPECT_EQ(bundle.next_trip_in_block("T1"), "T2");
  EXPECT_EQ(bundle.next_trip_in_block("T2"), "");
}

TEST(Import, CoordinatesOutOfRangeAreErrorsWithLineAndValue) {
  TempDir dir;
  auto files = small_feed();
  files["stops.txt"] =
      "stop_id,stop_name,stop_lat,stop_lon\nSA,甲站,95.5,114.0\nSB,乙站,22.54,114.0049\n"
      "SC,丙站,22.54,181\n";
  auto report = import_files(dir, files);
  EXPECT_FALSE(report.written);
  auto messages = all_messages(report.problems);
  EXPECT_THAT(messages, HasSubstr("stops.txt:2: stop_lat: '95.5'"));
  EXPECT_THAT(messages, HasSubstr("stops.txt:4: stop_lon: '181'"));
  EXPECT_FALSE(fs::exists(dir / "out.db"));
}

TEST(Import, StopTimesOutOfOrderAreAnError) {
  TempDir dir;
  auto files = small_feed();
  files["stop_times.txt"] =
      "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
      "T1,08:00:00,08:00:00,SA,1\nT1,07:58:00,07:58:00,SB,2\nT1,08:05:00,08:05:00,SC,3\n"
      "T2,08:10:00,08:10:00,SC,1\nT2,08:15:00,08:15:00,SA,2\n";
  auto report = import_files(dir, files);
  EXPECT_FALSE(report.written);
  EXPECT_THAT(all_messages(report.problems),
              HasSubstr("stop_times.txt:3: arrival_time: '07:58:00': trip T1 arrives here before"));
}

TEST(Import, DuplicatedStopSequenceNamesBothLines) {
  TempDir dir;
  auto files = small_feed();
  files["stop_times.txt"] =
      "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
      "T1,08:00:00,08:00:00,SA,1\nT1,08:02:00,08:02:00,SB,2\nT1,08:05:00,08:05:00,SC,2\n"
      "T2,08:10:00,08:10:00,SC,1\nT2,08:15:00,08:15:00,SA,2\n";
  auto report = import_files(dir, files);
  EXPECT_FALSE(report.written);
  EXPECT_THAT(all_messages(report.problems),
              HasSubstr("stop_times.txt:4: stop_sequence: '2': trip T1 has this stop_sequence "
                        "twice (also line 3)"));
}

TEST(Import, StopFarFromItsShapeIsReported) {
  TempDir dir;
  auto files = small_feed();
  // Stop B moved 300 m north of the street the shape follows.
  files["stops.txt"] =
      "stop_id,stop_name,stop_lat,stop_lon\nSA,甲站,22.5400,114.0000\nSB,乙站,22.5427,114.0049\n"
      "SC,丙站,22.5400,114.0098\n";
  auto report = import_files(dir, files);
  auto messages = all_messages(report.problems);
  EXPECT_THAT(messages, HasSubstr("stop_times.txt:3: stop_id: 'SB': stop is 29"));
  EXPECT_THAT(messages, HasSubstr("m from the shape of trip T1"));
}

TEST(Import, OlderTranslationsFormIsUnderstood) {
  TempDir dir;
  auto files = small_feed();
  files["translations.txt"] = "trans_id,lang,translation\n甲站,en,Alpha Old\n丙站,en,Charlie Old\n";
  auto report = import_files(dir, files);
  ASSERT_TRUE(report.written) << all_messages(report.problems);
  auto bundle = Bundle::open(dir / "out.db");
  auto trip = bundle.load_trip("T1");
  EXPECT_EQ(trip.stops[0].stop.names.at("en"), "Alpha Old");
  EXPECT_EQ(trip.headsigns.at("en"), "Charlie Old");
}

TEST(Import, UnknownTripAndServiceAreErrors) {
  TempDir dir;
  auto files = small_feed();
  files["trips.txt"] = "route_id,service_id,trip_id,shape_id\nR1,WK,T1,SH1\nR9,NOPE,T2,\n";
  auto report = import_files(dir, files);
  auto messages = all_messages(report.problems);
  EXPECT_THAT(messages, HasSubstr("trips.txt:3: route_id: 'R9'"));
  EXPECT_THAT(messages, HasSubstr("trips.txt:3: service_id: 'NOPE'"));
}

TEST(Import, ExtraDataWithUnknownStopIsRefused) {
  TempDir dir;
  write_file(dir.path() / "extra" / "stop_phrases.csv",
             "stop_id,language,text\nSA,en,Transfer to Metro\nNOPE,en,Nowhere\n");
  auto report = import_files(dir, small_feed(), dir / "extra");
  EXPECT_FALSE(report.written);
  EXPECT_THAT(all_messages(report.problems), HasSubstr("stop_phrases.csv:3: stop_id: 'NOPE'"));
}

// ---- the import policy: only what would be announced wrong refuses a feed -------------------

// What a rider hears and sees of a trip: its stops in order, with their names and where along the
// route each is.
std::vector<std::string> announced(const std::string& bundle_path, const std::string& trip_id) {
  auto trip = Bundle::open(bundle_path).load_trip(trip_id);
  std::vector<std::string> out;
  for (const auto& ts : trip.stops) {
    std::string names;
    for (const auto& [lang, text] : ts.stop.names)
      names += lang + "=" + text + " ";
    out.push_back(ts.stop.id + " " + names + std::to_string(std::lround(ts.distance_m)) + " m");
  }
  return out;
}

// The small feed imported as it is, for comparison.
std::vector<std::string> announced_uncropped(const std::string& trip_id) {
  TempDir dir;
  auto report = import_files(dir, small_feed());
  EXPECT_TRUE(report.written) << all_messages(report.problems);
  return announced(dir / "out.db", trip_id);
}

const Problem* find_problem(const Problems& problems, const std::string& text) {
  for (const auto& p : problems.kept()) {
    if (p.to_string().find(text) != std::string::npos) return &p;
  }
  return nullptr;
}

TEST(CroppedFeed, PlatformsWhoseParentStationWasCutAwayImportWithTheLinkDropped) {
  TempDir dir;
  auto files = small_feed();
  // An extract cut to an area: the station grouping SA and SB lay outside it.
  files["stops.txt"] =
      "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n"
      "SA,甲站,22.5400,114.0000,0,2900\n"
      "SB,乙站,22.5400,114.0049,0,2900\n"
      "SC,丙站,22.5400,114.0098,0,\n";
  auto report = import_files(dir, files);
  ASSERT_TRUE(report.written) << all_messages(report.problems);
  EXPECT_EQ(report.problems.error_count(), 0u);
  auto* sa = find_problem(report.problems, "stops.txt:2: parent_station: '2900'");
  ASSERT_NE(sa, nullptr) << all_messages(report.problems);
  EXPECT_EQ(sa->severity, Severity::warning);
  EXPECT_THAT(sa->to_string(), HasSubstr("not in stops.txt; link dropped, SA stays a stop"));
  EXPECT_NE(find_problem(report.problems, "stops.txt:3: parent_station: '2900'"), nullptr);

  EXPECT_EQ(Bundle::open(dir / "out.db").load_stop("SA").parent_station, "");
  EXPECT_EQ(announced(dir / "out.db", "T1"), announced_uncropped("T1"));
  EXPECT_EQ(announced(dir / "out.db", "T2"), announced_uncropped("T2"));
}

TEST(CroppedFeed, RowsWithACellTooManyImportAndSayWhatWasIgnored) {
  TempDir dir;
  auto files = small_feed();
  files["stops.txt"] =
      "stop_id,stop_name,stop_lat,stop_lon,wheelchair_boarding\n"
      "SA,甲站,22.5400,114.0000,1\n"
      "SB,乙站,22.5400,114.0049,2,\n"
      "SC,丙站,22.5400,114.0098,0,Platform 3\n";
  auto report = import_files(dir, files);
  ASSERT_TRUE(report.written) << all_messages(report.problems);
  std::string messages = all_messages(report.problems);
  EXPECT_THAT(messages, HasSubstr("warning: stops.txt:3: the row has 6 cells, the header 5; the "
                                  "empty cell past the header is dropped"));
  EXPECT_THAT(messages, HasSubstr("warning: stops.txt:4: 'Platform 3': the row has 6 cells, the "
                                  "header 5; ignored: cell 6 'Platform 3'"));
  EXPECT_EQ(announced(dir / "out.db", "T1"), announced_uncropped("T1"));
  EXPECT_EQ(Bundle::open(dir / "out.db").load_stop("SC").wheelchair, Wheelchair::unknown);
}

TEST(CroppedFeed, RowsWithACellTooFewReadTheMissingCellsAsEmpty) {
  TempDir dir;
  auto files = small_feed();
  // The trailing pickup/drop-off cells left out where they would be empty.
  files["stop_times.txt"] =
      "trip_id,arrival_time,departure_time,stop_id,stop_sequence,pickup_type,drop_off_type\n"
      "T1,08:00:00,08:00:00,SA,1,0,1\n"
      "T1,08:02:00,08:02:30,SB,2\n"
      "T1,08:05:00,08:05:00,SC,3,1\n"
      "T2,08:10:00,08:10:00,SC,1,0,1\n"
      "T2,08:12:00,08:12:30,SB,2,0,0\n"
      "T2,08:15:00,08:15:00,SA,3,1,0\n";
  auto report = import_files(dir, files);
  ASSERT_TRUE(report.written) << all_messages(report.problems);
  std::string messages = all_messages(report.problems);
  EXPECT_THAT(messages, HasSubstr("warning: stop_times.txt:3: the row has 5 cells, the header 7; "
                                  "read as empty: pickup_type, drop_off_type"));
  EXPECT_THAT(messages, HasSubstr("warning: stop_times.txt:4: 1 more row has fewer cells than "
                                  "the header, from this line to line 4"));
  EXPECT_EQ(announced(dir / "out.db", "T1"), announced_uncropped("T1"));
}

TEST(CroppedFeed, ARowCutShortOfARequiredValueIsAnError) {
  TempDir dir;
  auto files = small_feed();
  files["stops.txt"] =
      "stop_id,stop_name,stop_lat,stop_lon\n"
      "SA,甲站,22.5400,114.0000\n"
      "SB,乙站,22.5400\n"
      "SC,丙站,22.5400,114.0098\n";
  auto report = import_files(dir, files);
  EXPECT_FALSE(report.written);
  std::string messages = all_messages(report.problems);
  EXPECT_THAT(messages, HasSubstr("warning: stops.txt:3: the row has 3 cells, the header 4"));
  EXPECT_THAT(messages, HasSubstr("error: stops.txt:3: stop_lon: stop SB has no longitude; trip "
                                  "T1 serves it (stop_times.txt:3)"));
  EXPECT_FALSE(fs::exists(dir / "out.db"));
}

TEST(CroppedFeed, RecordsNoTripUsesAreWarningsAndKept) {
  TempDir dir;
  auto files = small_feed();
  files["agency.txt"] +=
      "A2,Night Buses,https://example.org,Asia/Shanghai,zh-Hans\n";  // runs no route
  files["routes.txt"] += "R9,A9,9,,3\n";  // its agency was cut away, and no trip runs it
  files["shapes.txt"] += "SH9,22.6,114.1,1\nSH9,22.6,114.2,2\n";  // no trip runs on it
  files["stop_times.txt"] += "T99,09:00:00,09:00:00,SA,1\n";      // T99 was cut away
  auto report = import_files(dir, files);
  ASSERT_TRUE(report.written) << all_messages(report.problems);
  std::string messages = all_messages(report.problems);
  EXPECT_THAT(messages, HasSubstr("warning: routes.txt:3: agency_id: 'A9': not an agency_id in "
                                  "agency.txt; link dropped"));
  EXPECT_THAT(messages, HasSubstr("warning: routes.txt:3: route_id: 'R9': no trip runs route R9; "
                                  "kept"));
  EXPECT_THAT(messages, HasSubstr("warning: shapes.txt:5: shape_id: 'SH9': no trip runs on shape "
                                  "SH9; kept"));
  EXPECT_THAT(messages, HasSubstr("warning: agency.txt:3: agency_id: 'A2': no route names agency "
                                  "A2; kept"));
  EXPECT_THAT(messages, HasSubstr("warning: stop_times.txt:8: trip_id: 'T99': not a trip_id in "
                                  "trips.txt; this row is ignored"));
  EXPECT_EQ(report.problems.error_count(), 0u);
  EXPECT_EQ(announced(dir / "out.db", "T1"), announced_uncropped("T1"));
}

TEST(CroppedFeed, ManyStopTimesOfTripsCutAwayAreSummedUpWithTheirLines) {
  TempDir dir;
  auto files = small_feed();
  for (int i = 0; i < 25; ++i)
    files["stop_times.txt"] += "T9" + std::to_string(i) + ",09:00:00,09:00:00,SA,1\n";
  auto report = import_files(dir, files);
  ASSERT_TRUE(report.written) << all_messages(report.problems);
  EXPECT_EQ(report.problems.warning_count(), 11u) << all_messages(report.problems);
  EXPECT_THAT(all_messages(report.problems),
              HasSubstr("warning: stop_times.txt:18: trip_id: 15 more rows name a trip_id that "
                        "is not in trips.txt, from this line to line 32; ignored"));
}

TEST(ImportPolicy, AStopNoTripServesMayLackAPositionAndAName) {
  TempDir dir;
  auto files = small_feed();
  files["stops.txt"] += "SX,,,\nSY,Old Depot,95,114\n";
  auto report = import_files(dir, files);
  ASSERT_TRUE(report.written) << all_messages(report.problems);
  std::string messages = all_messages(report.problems);
  EXPECT_THAT(messages, HasSubstr("warning: stops.txt:5: stop_lat: stop SX has no latitude; no "
                                  "trip serves stop SX; kept without a position"));
  EXPECT_THAT(messages, HasSubstr("warning: stops.txt:5: stop_name: stop SX has no name to "
                                  "announce; no trip serves it; kept"));
  EXPECT_THAT(messages, HasSubstr("warning: stops.txt:6: stop_lat: '95': latitude must be"));
  EXPECT_TRUE(check_bundle(dir / "out.db").error_count() == 0)
      << all_messages(check_bundle(dir / "out.db"));
}

TEST(ImportPolicy, ATripsStopWithoutAPositionIsAnErrorNamingTheTrip) {
  TempDir dir;
  auto files = small_feed();
  files["stops.txt"] =
      "stop_id,stop_name,stop_lat,stop_lon\n"
      "SA,甲站,22.5400,114.0000\n"
      "SB,乙站,,\n"
      "SC,丙站,22.5400,114.0098\n";
  auto report = import_files(dir, files);
  EXPECT_FALSE(report.written);
  EXPECT_THAT(all_messages(report.problems),
              HasSubstr("error: stops.txt:3: stop_lat: stop SB has no latitude; trip T1 serves "
                        "it (stop_times.txt:3)"));
}

TEST(ImportPolicy, ATripWithNoStopsIsAnError) {
  TempDir dir;
  auto files = small_feed();
  files["trips.txt"] += "R1,WK,T3,丙站,0,B2,\n";
  auto report = import_files(dir, files);
  EXPECT_FALSE(report.written);
  EXPECT_THAT(all_messages(report.problems),
              HasSubstr("error: trips.txt:4: trip_id: 'T3': trip has no stops in stop_times.txt"));
}

TEST(ImportPolicy, ABrokenShapeIsReplacedByOneBuiltFromTheStops) {
  TempDir dir;
  auto files = small_feed();
  files["shapes.txt"] =
      "shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence\n"
      "SH1,22.54005,113.9995,1\n"
      "SH1,22.54005,114.0050,2\n"
      "SH1,22.54005,114.0105,2\n";
  auto report = import_files(dir, files);
  ASSERT_TRUE(report.written) << all_messages(report.problems);
  std::string messages = all_messages(report.problems);
  EXPECT_THAT(messages, HasSubstr("warning: shapes.txt:4: shape_pt_sequence: '2': shape SH1 "
                                  "repeats this sequence (also on line 3)"));
  EXPECT_THAT(messages, HasSubstr("trips.txt:2: shape_id: 'SH1': trip T1 runs on a shape that "
                                  "cannot be used"));
  auto trip = Bundle::open(dir / "out.db").load_trip("T1");
  EXPECT_TRUE(trip.shape_derived);
  EXPECT_NEAR(trip.stops[2].distance_m, 1000, 10);
}

TEST(ImportPolicy, StrictRefusesOnAnyWarningAndSaysWhatWouldHaveBeenDone) {
  TempDir dir;
  auto files = small_feed();
  files["stops.txt"] =
      "stop_id,stop_name,stop_lat,stop_lon,parent_station\n"
      "SA,甲站,22.5400,114.0000,2900\n"
      "SB,乙站,22.5400,114.0049,\n"
      "SC,丙站,22.5400,114.0098,\n";
  write_feed(dir.path() / "feed", files);
  auto options = options_for(dir / "feed", dir / "out.db");
  options.strict = true;
  auto report = import_feed(options);
  EXPECT_FALSE(report.written);
  auto* p = find_problem(report.problems, "parent_station: '2900'");
  ASSERT_NE(p, nullptr) << all_messages(report.problems);
  EXPECT_EQ(p->severity, Severity::error);
  EXPECT_EQ(p->action, "refused under --strict (otherwise: link dropped, SA stays a stop)");
  EXPECT_FALSE(fs::exists(dir / "out.db"));
  // The same feed without --strict imports.
  options.strict = false;
  EXPECT_TRUE(import_feed(options).written);
}

// Found by fuzz/import.cpp: the cells missing from a short row read as empty views without
// data, which SQLite stored as NULL, so the agency's NOT NULL name failed the write and the import
// threw "cannot write the bundle" instead of naming the row.
TEST(Import, AnAgencyRowCutShortIsAnErrorNamingTheRow) {
  TempDir dir;
  auto files = small_feed();
  files["agency.txt"] = "agency_id,agency_name,agency_url,agency_timezone\nA1\n";
  ImportReport report;
  ASSERT_NO_THROW(report = import_files(dir, files));
  EXPECT_FALSE(report.written);
  EXPECT_THAT(all_messages(report.problems),
              HasSubstr("error: agency.txt:2: agency_name: required value is missing: the row has "
                        "1 cell, the header 4"));
}

// ---- hostile input: bounded memory, clear refusal ---------------------------------------------

TEST(Import, ZipBombIsRefusedWithoutInflatingIt) {
  TempDir dir;
  std::string zip_path = dir / "bomb.zip";
  {
    int err = 0;
    zip_t* z = zip_open(zip_path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    ASSERT_NE(z, nullptr);
    auto feed = small_feed();
    // 64 MiB of one repeated line compresses to a few dozen KiB.
    static std::string bomb = "stop_id,stop_name,stop_lat,stop_lon\n" + std::string(64 << 20, ' ');
    feed["stops.txt"] = bomb;
    for (const auto& [name, content] : feed) {
      zip_source_t* src = zip_source_buffer(z, content.data(), content.size(), 0);
      ASSERT_GE(zip_file_add(z, name.c_str(), src, ZIP_FL_OVERWRITE), 0);
    }
    ASSERT_EQ(zip_close(z), 0);
  }
  ImportOptions options;
  options.feed = zip_path;
  options.output = dir / "out.db";
  options.limits.zip_ratio_from_bytes = 1 << 20;
  auto report = import_feed(options);
  EXPECT_FALSE(report.written);
  EXPECT_THAT(all_messages(report.problems), HasSubstr("zip bomb"));

  // Even without the ratio guard, the per-file budget stops inflation early.
  options.limits.zip_ratio_from_bytes = UINT64_MAX;
  options.limits.max_file_bytes = 8 << 20;
  report = import_feed(options);
  EXPECT_FALSE(report.written);
  EXPECT_THAT(all_messages(report.problems), HasSubstr("stops.txt: larger than 8 MiB"));
  EXPECT_FALSE(fs::exists(dir / "out.db"));
}

TEST(Import, HugeLineIsRefusedWithTheFileAndLine) {
  TempDir dir;
  auto files = small_feed();
  files["routes.txt"] += "R2,A1,8," + std::string(200'000, 'x') + ",3\n";
  auto report = import_files(dir, files);
  EXPECT_FALSE(report.written);
  EXPECT_THAT(all_messages(report.problems), HasSubstr("routes.txt:3: record longer than"));
}

// kill -9 at any moment of an import: the bundle already at the output path stays intact, and the
// next import clears what the killed one left.
TEST(Import, KilledImportLeavesTheExistingBundleIntact) {
  TempDir dir;
  write_feed(dir.path() / "small", small_feed());
  auto first = import_feed(options_for(dir / "small", dir / "out.db"));
  ASSERT_TRUE(first.written);
  std::string before = read_bytes(dir / "out.db");
  auto demo = options_for(source_dir() + "/routes/demo/shenzhen-101", dir / "out.db",
                          source_dir() + "/routes/demo/shenzhen-101-extra");
  int replaced = 0, kept = 0;
  for (int delay_ms : {0, 2, 5, 10, 20, 40, 80, 160, 320, 640, 1280}) {
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      import_feed(demo);
      ::_exit(0);
    }
    ::usleep(delay_ms * 1000);
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    if (read_bytes(dir / "out.db") == before) {
      ++kept;
    } else {
      // Replaced: then it is the complete new bundle.
      auto bundle = Bundle::open(dir / "out.db");
      EXPECT_EQ(bundle.summary().stops, 42);
      EXPECT_EQ(bundle.load_trip("101-WD-E-0630").stops.size(), 14u);
      ++replaced;
      ASSERT_TRUE(import_feed(options_for(dir / "small", dir / "out.db")).written);
      before = read_bytes(dir / "out.db");
    }
  }
  EXPECT_GT(kept, 0) << "no kill landed during the import";
  auto next = import_feed(options_for(dir / "small", dir / "out.db"));
  ASSERT_TRUE(next.written);
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename().string().find(".partial-"), std::string::npos)
        << "left behind: " << entry.path();
  }
  std::cout << "[          ] kills that kept the old bundle: " << kept
            << ", that came after the new one was complete: " << replaced << "\n";
}

TEST(Validate, FeedValidationKeepsNoBundle) {
  TempDir dir;
  write_feed(dir.path() / "feed", small_feed());
  auto report = validate_feed(dir / "feed");
  EXPECT_FALSE(report.problems.has_errors()) << all_messages(report.problems);
  EXPECT_FALSE(report.written);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

}  // namespace
}  // namespace stopcall::routes
