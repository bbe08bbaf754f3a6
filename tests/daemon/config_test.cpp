#include "daemon/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/routes/test_feed.hpp"

namespace stopcall::daemon {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> problems_of(const std::string& toml) {
  routes::testing::TempDir dir;
  routes::testing::write_file(dir.path() / "stopcall.toml", toml);
  try {
    load_config(dir / "stopcall.toml");
  } catch (const ConfigError& e) {
    std::vector<std::string> out;
    for (const auto& p : e.problems()) {
      out.push_back(std::to_string(p.line) + ": " + p.message);
    }
    return out;
  }
  return {};
}

TEST(Config, TheShippedExampleIsValidAndHoldsTheDefaults) {
  auto config = load_config(routes::testing::source_dir() + "/daemon/stopcall.example.toml");
  Config defaults;
  EXPECT_EQ(config.bundle, defaults.bundle);
  EXPECT_EQ(config.gpsd.port, defaults.gpsd.port);
  EXPECT_EQ(config.gpsd.stale_after, defaults.gpsd.stale_after);
  EXPECT_EQ(config.pipeline.tracker.approach_lead_s, defaults.pipeline.tracker.approach_lead_s);
  EXPECT_EQ(config.pipeline.tracker.arrival_radius_m, defaults.pipeline.tracker.arrival_radius_m);
  EXPECT_EQ(config.pipeline.auto_detect.min_travel_m, defaults.pipeline.auto_detect.min_travel_m);
  EXPECT_EQ(config.pipeline.trip_id, "");
}

TEST(Config, ValuesAreRead) {
  routes::testing::TempDir dir;
  routes::testing::write_file(dir.path() / "c.toml",
                              "[routes]\nbundle = \"/data/b.db\"\ntrip = \"T9\"\n"
                              "[gps]\nport = 12947\n[tracking]\napproach_lead_s = 12\n");
  auto c = load_config(dir / "c.toml");
  EXPECT_EQ(c.bundle, "/data/b.db");
  EXPECT_EQ(c.pipeline.trip_id, "T9");
  EXPECT_EQ(c.gpsd.port, "12947");
  EXPECT_EQ(c.pipeline.tracker.approach_lead_s, 12);
}

TEST(Config, EveryProblemIsReportedWithItsLine) {
  EXPECT_THAT(problems_of("[routes]\n"
                          "bundel = \"x\"\n"
                          "[tracking]\n"
                          "approach_lead_s = 99\n"
                          "arrival_radius_m = \"far\"\n"
                          "[gps]\n"
                          "port = 70000\n"),
              ElementsAre("2: routes.bundel: unknown key (a typo?)",
                          "4: tracking.approach_lead_s: must be from 4 to 30",
                          "5: tracking.arrival_radius_m: must be a number",
                          "7: gps.port: must be from 1 to 65535"));
}

// Found by fuzz/config.cpp: toml++ converts a float to an integer with a plain cast, undefined
// behaviour for one out of range; UBSan stopped the daemon reading "line = 31e97".
TEST(Config, AHugeNumberWhereAWholeOneBelongsIsAProblemWithItsLine) {
  EXPECT_THAT(problems_of("[gps]\nport = 1e300\n[[gpio]]\nchip = \"gpiochip0\"\nline = 31e97\n"
                          "input = \"door\"\n"),
              ElementsAre("2: gps.port: must be a whole number",
                          "5: gpio.line: must be a whole number from 0 to 1023"));
}

TEST(Config, TheFleetLinkIsOffUnlessItsSectionIsThere) {
  routes::testing::TempDir dir;
  routes::testing::write_file(dir.path() / "off.toml", "[events]\nstore = \"/tmp/e.db\"\n");
  EXPECT_FALSE(load_config(dir / "off.toml").fleet);
  EXPECT_FALSE(load_config(routes::testing::source_dir() + "/daemon/stopcall.example.toml").fleet);
  routes::testing::write_file(dir.path() / "on.toml",
                              "[events]\nstore = \"/tmp/e.db\"\n"
                              "[fleet]\nhost = \"10.0.0.5\"\nport = 8883\nvehicle = \"SZ-1234\"\n"
                              "password_file = \"/etc/stopcall/fleet.password\"\n"
                              "ca_file = \"/etc/stopcall/depot-ca.pem\"\n"
                              "status_interval_s = 5\nreconnect_min_ms = 500\n"
                              "command_key = \"/etc/stopcall/control-centre.pub\"\n"
                              "command_max_age_s = 120\n");
  const auto c = load_config(dir / "on.toml");
  ASSERT_TRUE(c.fleet);
  EXPECT_EQ(c.fleet->host, "10.0.0.5");
  EXPECT_EQ(c.fleet->port, 8883);
  EXPECT_EQ(c.fleet->vehicle, "SZ-1234");
  EXPECT_EQ(c.fleet->password_file, "/etc/stopcall/fleet.password");
  EXPECT_EQ(c.fleet->ca_file, "/etc/stopcall/depot-ca.pem");
  EXPECT_EQ(c.fleet->topic_prefix, "stopcall/v1");
  EXPECT_EQ(c.fleet->status_interval, std::chrono::seconds(5));
  EXPECT_EQ(c.fleet->reconnect_min, std::chrono::milliseconds(500));
  EXPECT_EQ(c.fleet->command_key, "/etc/stopcall/control-centre.pub");
  EXPECT_EQ(c.fleet->command_max_age, std::chrono::seconds(120));
  // Unset: no key (no command is taken), and five minutes.
  routes::testing::write_file(dir.path() / "bare.toml",
                              "[events]\nstore = \"/tmp/e.db\"\n[fleet]\nvehicle = \"b\"\n");
  const auto bare = load_config(dir / "bare.toml");
  ASSERT_TRUE(bare.fleet);
  EXPECT_EQ(bare.fleet->command_key, "");
  EXPECT_EQ(bare.fleet->command_max_age, std::chrono::seconds(300));
}

TEST(Config, TheFleetLinkNeedsAVehicleAndTheEventStore) {
  EXPECT_THAT(problems_of("[fleet]\n"),
              ElementsAre("0: fleet.vehicle: the bus's id is needed with [fleet]",
                          "0: fleet: needs events.store (the events are sent to the depot "
                          "from it)"));
  EXPECT_THAT(problems_of("[events]\nstore = \"e.db\"\n[fleet]\nvehicle = \"a/b\"\n"),
              ElementsAre("0: fleet.vehicle: must be 1 to 64 letters, digits, '-', '_' or '.'"));
  EXPECT_THAT(problems_of("[events]\nstore = \"e.db\"\n[fleet]\nvehicle = \"b\"\nport = 0\n"),
              ElementsAre("5: fleet.port: must be from 1 to 65535"));
  EXPECT_THAT(
      problems_of("[events]\nstore = \"e.db\"\n[fleet]\nvehicle = \"b\"\ncommand_max_age_s = 0\n"),
      ElementsAre("5: fleet.command_max_age_s: must be from 10 to 3600"));
}

TEST(Config, BrokenTomlNamesTheLine) {
  auto problems = problems_of("[routes]\nbundle = \"a\"\n[gps\nport = 1\n");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_THAT(problems[0], HasSubstr("3: not valid TOML"));
}

TEST(Config, UnknownSectionAndValueOutsideASectionAreRefused) {
  EXPECT_THAT(problems_of("[audio]\nvolume = 3\n"),
              ElementsAre("2: audio.volume: unknown key (a typo?)"));
  EXPECT_THAT(problems_of("bundle = \"x\"\n"),
              ElementsAre("1: bundle: expected a [bundle] section, not a value"));
}

TEST(Config, MissingFileIsAnError) {
  EXPECT_THROW(load_config("/nonexistent/stopcall.toml"), ConfigError);
}

}  // namespace
}  // namespace stopcall::daemon
