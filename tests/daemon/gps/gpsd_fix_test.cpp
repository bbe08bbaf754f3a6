// What libgps is handed: only well-formed JSON, since its parser never returns on some malformed
// objects (found by fuzz/gpsd_json.cpp). A replay trace or a gpsd that sends such a line must not
// stop the bus from announcing.
#include "daemon/gps/gpsd_fix.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

namespace stopcall::gps {
namespace {

// Decodes `line` in a child process; true when it finished, within a minute (a loop in libgps
// would never finish: the child is then killed).
bool decodes_and_returns(const std::string& line) {
  pid_t child = ::fork();
  if (child == 0) {
    JsonDecoder decoder;
    bool refused = !decoder.decode(line) && decoder.rejected() == 1;
    ::_exit(refused ? 0 : 1);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  int status = 0;
  while (::waitpid(child, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(child, SIGKILL);
      ::waitpid(child, &status, 0);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST(JsonDecoder, MalformedObjectsLibgpsWouldLoopOnAreRefused) {
  // The fuzzer's input, minimised: a stray byte before the first attribute.
  EXPECT_TRUE(decodes_and_returns(R"({x"class":"TPV"})"));
  EXPECT_TRUE(decodes_and_returns(R"({s"class":"SKY"})"));
  // A line cut at a NUL byte and glued to the next one, as fgets-based framing does.
  EXPECT_TRUE(decodes_and_returns(std::string(R"({"class":"SKY","satellites":[{"svid")") + '\0' +
                                  R"(:29}]}{"class":"SKY"})"));
}

TEST(JsonDecoder, WellFormedReportsStillDecode) {
  JsonDecoder decoder;
  auto fix = decoder.decode(
      R"({"class":"TPV","mode":3,"time":"2026-03-02T00:00:01.000Z","lat":22.5,"lon":114.1})");
  ASSERT_TRUE(fix);
  EXPECT_TRUE(fix->usable());
  EXPECT_EQ(decoder.rejected(), 0);
}

TEST(JsonLineReader, CutsLinesFromPiecesOfAnySize) {
  std::string stream =
      "{\"class\":\"VERSION\",\"release\":\"3.22\"}\r\n"
      "{\"class\":\"TPV\",\"mode\":3,\"time\":\"2026-03-02T07:30:00.000Z\",\"lat\":22.5,\"lon\":"
      "114}\r\n"
      "{\"class\":\"TPV\",\"mode\":3,\"time\":\"2026-03-02T07:30:01.000Z\",\"lat\":22.6,\"lon\":"
      "114}\r\n";
  for (std::size_t piece : {1u, 7u, 4096u}) {
    JsonLineReader reader;
    std::vector<double> lats;
    for (std::size_t i = 0; i < stream.size(); i += piece) {
      reader.feed(std::string_view(stream).substr(i, piece),
                  [&](const tracking::Fix& f) { lats.push_back(f.position->lat); });
    }
    EXPECT_EQ(lats, (std::vector<double>{22.5, 22.6})) << "pieces of " << piece;
    EXPECT_EQ(reader.lines(), 3);
  }
}

TEST(JsonLineReader, ALineWithoutEndIsDroppedNotGrown) {
  JsonLineReader reader(1024);
  int fixes = 0;
  auto count = [&](const tracking::Fix&) { ++fixes; };
  for (int i = 0; i < 1000; ++i)
    reader.feed(std::string(100, 'x'), count);  // 100 KB and no newline
  reader.feed("\n", count);
  reader.feed("{\"class\":\"TPV\",\"mode\":2,\"lat\":1,\"lon\":2}\n", count);
  EXPECT_EQ(reader.overlong(), 1);
  EXPECT_EQ(fixes, 1);
}

}  // namespace
}  // namespace stopcall::gps
