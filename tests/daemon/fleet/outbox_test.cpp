#include "daemon/fleet/outbox.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "tests/routes/test_feed.hpp"

namespace stopcall::daemon::fleet {
namespace {

// What another process (stopcall-report, the sqlite3 shell) reads of the store now.
std::string read_elsewhere(const std::string& path, const std::string& query) {
  const std::string cmd = "sqlite3 '" + path + "' \"" + query + "\" 2>&1";
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[256];
    while (std::fgets(buf, sizeof buf, p))
      out += buf;
    ::pclose(p);
  }
  while (!out.empty() && out.back() == '\n')
    out.pop_back();
  return out;
}

TEST(FleetOutbox, ReadsAfterTheMarkAndKeepsIt) {
  routes::testing::TempDir dir;
  const std::string path = dir / "events.db";
  log::EventStore store(path);
  for (int i = 0; i < 10; ++i)
    store.append("{\"type\":\"arrived\",\"n\":" + std::to_string(i) + "}");
  store.flush();
  {
    Outbox outbox(path);
    EXPECT_EQ(outbox.mark(), 0);
    const auto rows = outbox.after(0, 4);
    ASSERT_EQ(rows.size(), 4u);
    EXPECT_EQ(rows[0].seq, 1);
    EXPECT_EQ(outbox.after(8, 100).size(), 2u);
    EXPECT_TRUE(outbox.acknowledge(4));
  }
  Outbox again(path);
  EXPECT_EQ(again.mark(), 4);
  EXPECT_THROW(Outbox(dir / "missing.db"), std::runtime_error);
}

// The store is read by other processes while the daemon writes it (stopcall-report). Opening
// the file outside SQLite in the daemon's process would drop the process's locks on it; a
// reader closing then takes itself for the last one and removes the WAL under the daemon, and
// what the daemon writes after that is lost. Here: the mark and the rows written after another
// process came and went are still there for the next reader.
TEST(FleetOutbox, AnotherProcessReadingTheStoreLosesNothing) {
  routes::testing::TempDir dir;
  const std::string path = dir / "events.db";
  log::EventStore store(path);
  store.append(R"({"type":"arrived"})");
  store.flush();
  Outbox outbox(path);
  EXPECT_TRUE(outbox.acknowledge(1));
  EXPECT_EQ(read_elsewhere(path, "SELECT seq FROM sent_marks WHERE name = 'fleet'"), "1");
  for (int i = 0; i < 5; ++i)
    store.append(R"({"type":"departed"})");
  store.flush();
  EXPECT_TRUE(outbox.acknowledge(6));
  EXPECT_EQ(read_elsewhere(path, "SELECT seq FROM sent_marks WHERE name = 'fleet'"), "6");
  EXPECT_EQ(read_elsewhere(path, "SELECT count(*) FROM events"), "6");
}

}  // namespace
}  // namespace stopcall::daemon::fleet
