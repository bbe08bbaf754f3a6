// The depot tool as depot staff use it: exit codes, messages and the whole import-sign-install
// flow.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "routes/output_path.hpp"
#include "test_feed.hpp"

namespace stopcall::routes {
namespace {

using namespace stopcall::routes::testing;
using ::testing::HasSubstr;

struct Run {
  int status = -1;
  std::string out;  // stdout and stderr together
};

Run routes_tool(const std::string& args) {
  std::string cmd = std::string(STOPCALL_BINARY_DIR) + "/routes/stopcall-routes " + args + " 2>&1";
  Run run;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  std::array<char, 4096> buf;
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), pipe))
    run.out.append(buf.data(), n);
  int status = ::pclose(pipe);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

std::string demo_args() {
  return source_dir() + "/routes/demo/shenzhen-101 --extra " + source_dir() +
         "/routes/demo/shenzhen-101-extra";
}

TEST(Cli, RejectedImportExitsOneNamesTheProblemAndWritesNothing) {
  STOPCALL_REQUIRE_SHARED_DATA();
  TempDir dir;
  auto run = routes_tool("import " + shared_data() + "/gtfs/edge-cases/undefined_stop -o " +
                         (dir / "b.db"));
  EXPECT_EQ(run.status, 1) << run.out;
  EXPECT_THAT(run.out, HasSubstr("error: stop_times.txt:11: stop_id: 'NADAR'"));
  EXPECT_THAT(run.out, HasSubstr("no bundle written"));
  EXPECT_FALSE(fs::exists(dir / "b.db"));
}

TEST(Cli, ValidateJsonListsWarningsWithFileLineAndValue) {
  STOPCALL_REQUIRE_SHARED_DATA();
  auto run = routes_tool("validate --json " + shared_data() + "/gtfs/edge-cases/duplicate_stop");
  EXPECT_EQ(run.status, 0) << run.out;
  auto j = nlohmann::json::parse(run.out);
  EXPECT_EQ(j["usable"], true);
  EXPECT_EQ(j["errors"], 0);
  nlohmann::json same_place;
  for (const auto& p : j["problems"]) {
    if (p["value"] == "FROG") same_place = p;
  }
  ASSERT_TRUE(same_place.is_object()) << run.out;
  EXPECT_EQ(same_place["file"], "stops.txt");
  EXPECT_EQ(same_place["line"], 5);
  EXPECT_EQ(same_place["severity"], "warning");
  EXPECT_EQ(same_place["action"], "both kept");
}

// A feed cropped to an area, as public extracts are: the parent station of SA was cut away.
std::string write_cropped_feed(const TempDir& dir) {
  auto files = small_feed();
  files["stops.txt"] =
      "stop_id,stop_name,stop_lat,stop_lon,parent_station\n"
      "SA,甲站,22.5400,114.0000,2900\n"
      "SB,乙站,22.5400,114.0049,\n"
      "SC,丙站,22.5400,114.0098,\n";
  write_feed(dir.path() / "feed", files);
  return dir / "feed";
}

TEST(Cli, ValidateJsonSaysWhatTheImportDidAboutEachProblem) {
  TempDir dir;
  auto run = routes_tool("validate --json " + write_cropped_feed(dir));
  EXPECT_EQ(run.status, 0) << run.out;
  auto j = nlohmann::json::parse(run.out);
  EXPECT_EQ(j["usable"], true);
  ASSERT_EQ(j["problems"].size(), 1u) << run.out;
  EXPECT_EQ(j["problems"][0]["severity"], "warning");
  EXPECT_EQ(j["problems"][0]["file"], "stops.txt");
  EXPECT_EQ(j["problems"][0]["line"], 2);
  EXPECT_EQ(j["problems"][0]["field"], "parent_station");
  EXPECT_EQ(j["problems"][0]["action"], "link dropped, SA stays a stop");

  // With --strict the same problem is an error, and says what would have been done.
  run = routes_tool("validate --json --strict " + (dir / "feed"));
  EXPECT_EQ(run.status, 1) << run.out;
  j = nlohmann::json::parse(run.out);
  EXPECT_EQ(j["usable"], false);
  EXPECT_EQ(j["problems"][0]["severity"], "error");
  EXPECT_EQ(j["problems"][0]["action"],
            "refused under --strict (otherwise: link dropped, SA stays a stop)");
}

TEST(Cli, StrictImportRefusesWhatAPlainImportTakesWithAWarning) {
  TempDir dir;
  std::string feed = write_cropped_feed(dir);
  auto strict = routes_tool("import --strict " + feed + " -o " + (dir / "strict.db"));
  EXPECT_EQ(strict.status, 1) << strict.out;
  EXPECT_THAT(strict.out, HasSubstr("error: stops.txt:2: parent_station: '2900'"));
  EXPECT_THAT(strict.out, HasSubstr("--strict"));
  EXPECT_FALSE(fs::exists(dir / "strict.db"));

  auto plain = routes_tool("import " + feed + " -o " + (dir / "plain.db"));
  EXPECT_EQ(plain.status, 0) << plain.out;
  EXPECT_THAT(plain.out, HasSubstr("warning: stops.txt:2: parent_station: '2900'"));
  EXPECT_THAT(plain.out, HasSubstr("1 warning(s)"));
  EXPECT_TRUE(fs::exists(dir / "plain.db"));
}

// rename(2) replaces whatever has the output's name: run as root, `-o /dev/null` turned the device
// into a bundle file. Here a named pipe and a link stand in for the device (no root needed).
TEST(Cli, AnOutputThatIsNotARegularFileIsNeverReplaced) {
  TempDir dir;
  const std::string pipe = dir / "device";
  ASSERT_EQ(::mkfifo(pipe.c_str(), 0600), 0);
  auto run = routes_tool("import " + demo_args() + " -o " + pipe);
  EXPECT_EQ(run.status, 1) << run.out;
  EXPECT_THAT(run.out, HasSubstr(pipe + " is a named pipe, not a bundle file"));
  EXPECT_EQ(what_is_at(pipe), "a named pipe");
  const std::string link = dir / "link.db";
  fs::create_symlink(pipe, link);
  run = routes_tool("import " + demo_args() + " -o " + link);
  EXPECT_EQ(run.status, 1) << run.out;
  EXPECT_EQ(what_is_at(link), "a symbolic link");
  EXPECT_TRUE(fs::directory_iterator(dir.path()) != fs::directory_iterator());
  for (const auto& entry : fs::directory_iterator(dir.path()))
    EXPECT_THAT(entry.path().filename().string(), ::testing::Not(HasSubstr(".partial-")));

  // The bus's folder: active.db that is not a bundle file, and a folder that is not a folder.
  ASSERT_EQ(routes_tool("import " + demo_args() + " -o " + (dir / "demo.db")).status, 0);
  const std::string bus = dir / "bus";
  fs::create_directories(bus);
  ASSERT_EQ(::mkfifo((bus + "/active.db").c_str(), 0600), 0);
  run = routes_tool("install " + (dir / "demo.db") + " --allow-unsigned --into " + bus);
  EXPECT_EQ(run.status, 1) << run.out;
  EXPECT_THAT(run.out, HasSubstr("active.db is a named pipe"));
  EXPECT_EQ(what_is_at(bus + "/active.db"), "a named pipe");
  run = routes_tool("install " + (dir / "demo.db") + " --allow-unsigned --into " + pipe);
  EXPECT_EQ(run.status, 1) << run.out;
  EXPECT_THAT(run.out, HasSubstr("is a named pipe, not a folder"));
  EXPECT_EQ(what_is_at(pipe), "a named pipe");
}

TEST(Cli, InspectCountsTheMessagePresetsAndListsThemWithTheirTexts) {
  TempDir dir;
  auto imported = routes_tool("import " + demo_args() + " -o " + (dir / "demo.db"));
  ASSERT_EQ(imported.status, 0) << imported.out;
  EXPECT_THAT(imported.out, HasSubstr("6 message presets"));
  auto summary = routes_tool("inspect " + (dir / "demo.db"));
  EXPECT_EQ(summary.status, 0) << summary.out;
  EXPECT_THAT(summary.out, HasSubstr("6 message presets"));
  auto listing = routes_tool("inspect " + (dir / "demo.db") + " --messages");
  EXPECT_EQ(listing.status, 0) << listing.out;
  EXPECT_THAT(listing.out, HasSubstr("evacuate (emergency, both, every 20 s)"));
  EXPECT_THAT(listing.out, HasSubstr("en: Typhoon signal number eight"));
}

TEST(Cli, UnknownSubcommandIsAUsageError) {
  EXPECT_NE(routes_tool("frobnicate").status, 0);
}

TEST(Cli, DepotToBusFlowWithTamperRefusalAndRollback) {
  TempDir dir;
  ASSERT_EQ(
      routes_tool("keygen --secret " + (dir / "depot.key") + " --public " + (dir / "depot.pub"))
          .status,
      0);
  auto imported = routes_tool("import " + demo_args() + " -o " + (dir / "v1.db"));
  ASSERT_EQ(imported.status, 0) << imported.out;
  EXPECT_THAT(imported.out, HasSubstr("42 stops"));

  // Unsigned: the bus refuses it.
  auto unsigned_install = routes_tool("install " + (dir / "v1.db") + " --into " + (dir / "bus") +
                                      " --pubkey " + (dir / "depot.pub"));
  EXPECT_EQ(unsigned_install.status, 1);
  EXPECT_THAT(unsigned_install.out, HasSubstr("not signed"));
  EXPECT_FALSE(fs::exists(dir.path() / "bus" / "active.db"));

  // No key at all: refused too, with what to do.
  auto keyless = routes_tool("install " + (dir / "v1.db") + " --into " + (dir / "bus"));
  EXPECT_EQ(keyless.status, 1);
  EXPECT_THAT(keyless.out, HasSubstr("trusted.pub"));

  ASSERT_EQ(routes_tool("sign " + (dir / "v1.db") + " --key " + (dir / "depot.key")).status, 0);
  EXPECT_EQ(routes_tool("verify " + (dir / "v1.db") + " --pubkey " + (dir / "depot.pub")).status,
            0);
  auto installed = routes_tool("install " + (dir / "v1.db") + " --into " + (dir / "bus") +
                               " --pubkey " + (dir / "depot.pub"));
  ASSERT_EQ(installed.status, 0) << installed.out;

  auto trip = routes_tool("inspect " + (dir.path() / "bus" / "active.db").string() +
                          " --trip 101-WD-E-0630");
  EXPECT_EQ(trip.status, 0);
  EXPECT_THAT(trip.out, HasSubstr("Grand Theater"));
  EXPECT_THAT(trip.out, HasSubstr("車公廟"));

  // A second version, then a tampered copy that must not replace it.
  ASSERT_EQ(routes_tool("import " + demo_args() + " -o " + (dir / "v2.db")).status, 0);
  ASSERT_EQ(routes_tool("sign " + (dir / "v2.db") + " --key " + (dir / "depot.key")).status, 0);
  ASSERT_EQ(routes_tool("install " + (dir / "v2.db") + " --into " + (dir / "bus") + " --pubkey " +
                        (dir / "depot.pub"))
                .status,
            0);
  fs::copy_file(dir / "v2.db", dir / "evil.db");
  {
    std::fstream f(dir / "evil.db", std::ios::in | std::ios::out | std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(f)), {});
    auto at = bytes.find("Grand Theater");
    ASSERT_NE(at, std::string::npos);
    f.seekp(static_cast<std::streamoff>(at));
    f.write("Grand Thxater", 13);
  }
  auto tampered = routes_tool("install " + (dir / "evil.db") + " --into " + (dir / "bus") +
                              " --pubkey " + (dir / "depot.pub"));
  EXPECT_EQ(tampered.status, 1);
  EXPECT_THAT(tampered.out, HasSubstr("evil.db"));
  auto still =
      routes_tool("inspect " + (dir.path() / "bus" / "active.db").string() + " --stop DJY-E");
  EXPECT_THAT(still.out, HasSubstr("Grand Theater"));

  auto rolled = routes_tool("rollback --into " + (dir / "bus"));
  EXPECT_EQ(rolled.status, 0) << rolled.out;
  EXPECT_TRUE(fs::exists(dir.path() / "bus" / "previous.db"));
}

}  // namespace
}  // namespace stopcall::routes
