// The fleet store on both backends: a real SQLite file and a real PostgreSQL database (a server
// the test starts, tests/depot/postgres.hpp). Each test runs on each; both must behave alike.
#include "depot/store.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "routes/sqlite.hpp"
#include "tests/depot/postgres.hpp"
#include "tests/routes/test_feed.hpp"

namespace stopcall::depot {
namespace {

using routes::testing::TempDir;
using testing::depot::Backend;
using testing::depot::Postgres;

class FleetStore_ : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    STOPCALL_NEED_BACKEND(GetParam());
    where_ =
        GetParam() == Backend::sqlite ? dir_ / "fleet.db" : Postgres::shared().fresh_database();
  }
  // The store's file or URI.
  const std::string& where() const { return where_; }

  TempDir dir_;
  std::string where_;
};

INSTANTIATE_TEST_SUITE_P(Backends, FleetStore_,
                         ::testing::Values(Backend::sqlite, Backend::postgresql),
                         testing::depot::backend_name);

TEST_P(FleetStore_, KeepsEachEventOnceWhenTheSameSeqArrivesTwice) {
  FleetStore store(where());
  const std::string e =
      R"({"vehicle":"bus-1","seq":7,"event":{"type":"arrived","time":"2026-03-02T07:00:00Z","stop_id":"CGM-E"}})";
  EXPECT_EQ(store.add_event("bus-1", e), 1);
  EXPECT_EQ(store.add_event("bus-1", e), 0);  // QoS 1 delivered it again
  EXPECT_EQ(store.add_event("bus-1", R"({"vehicle":"bus-1","seq":8,"line":"not json"})"), 1);
  EXPECT_EQ(store.add_event("bus-2", R"({"vehicle":"bus-2","seq":7,"event":{"type":"x"}})"), 1);
  EXPECT_EQ(store.event_count("bus-1"), 2);
  EXPECT_EQ(store.event_count(), 3);
  EXPECT_EQ(store.event_vehicles(), (std::vector<std::string>{"bus-1", "bus-2"}));

  // Reopened, the rows are there (a real file, a real database).
  FleetStore again(where());
  EXPECT_EQ(again.event_count(), 3);
}

TEST_P(FleetStore_, MalformedEventsAreRefusedAndChangeNothing) {
  FleetStore store(where());
  EXPECT_THROW(store.add_event("bus-1", "nope"), std::invalid_argument);
  EXPECT_THROW(store.add_event("bus-1", R"({"vehicle":"bus-2","seq":1,"line":"x"})"),
               std::invalid_argument);
  EXPECT_THROW(store.add_event("bus-1", R"({"vehicle":"bus-1","seq":"1","line":"x"})"),
               std::invalid_argument);
  EXPECT_EQ(store.event_count(), 0);
}

TEST_P(FleetStore_, KeepsTheLatestStatusPerBus) {
  FleetStore store(where());
  store.put_status("bus-1",
                   R"({"vehicle":"bus-1","online":true,"trip_id":"T1","route_id":"101",
                       "next_stop":{"stop_id":"CGM-E","name":"车公庙","index":4},"gps":"fix",
                       "faults":[],"time":"t"})",
                   "2026-03-02T07:00:00Z");
  store.put_status("bus-1", R"({"vehicle":"bus-1","online":false})", "2026-03-02T07:01:00Z");
  EXPECT_THROW(store.put_status("bus-1", R"({"vehicle":"bus-9","online":false})", "x"),
               std::invalid_argument);
  const auto buses = store.buses();
  ASSERT_EQ(buses.size(), 1u);
  EXPECT_FALSE(buses[0].status.online);
  EXPECT_EQ(buses[0].received, "2026-03-02T07:01:00Z");
  // Offline, the bus's last place is kept: where the controllers look for it.
  EXPECT_EQ(buses[0].status.route_id, "101");
  EXPECT_EQ(buses[0].status.trip_id, "T1");
  ASSERT_TRUE(buses[0].status.next_stop);
  EXPECT_EQ(buses[0].status.next_stop->stop_id, "CGM-E");
  EXPECT_EQ(store.trip_routes(), (std::map<std::string, std::string>{{"T1", "101"}}));
}

TEST_P(FleetStore_, BookingsSurviveAndOnlyOpenOnesAreOpen) {
  {
    FleetStore store(where());
    BookingState open, done;
    open.booking = {"b-1", "blind", "101", "CGM-E", ""};
    open.state = "sent";
    open.vehicle = "bus-1";
    done.booking = {"b-2", "blind", "101", "CGM-E", ""};
    done.state = "served";
    store.put_booking(open, "t");
    store.put_booking(done, "t");
  }
  FleetStore store(where());
  const auto open = store.open_bookings();
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].vehicle, "bus-1");
  EXPECT_EQ(store.booking("b-2")->state, "served");
}

TEST_P(FleetStore_, EachEventHasWhenTheCollectorStoredIt) {
  FleetStore store(where());
  EXPECT_EQ(store.add_event("bus-1", R"({"vehicle":"bus-1","seq":1,"line":"a"})", 1772437800123),
            1);
  // Sent again later: kept once, with when it was first stored.
  EXPECT_EQ(store.add_event("bus-1", R"({"vehicle":"bus-1","seq":1,"line":"a"})", 1772437809999),
            0);
  std::vector<std::int64_t> received;
  store.for_each_received(
      "bus-1", [&](std::int64_t, const std::string&, std::int64_t ms) { received.push_back(ms); });
  EXPECT_EQ(received, std::vector<std::int64_t>{1772437800123});
}

TEST_P(FleetStore_, ABookingChangedByTwoCollectorsAtOnceLosesNeitherChange) {
  {
    FleetStore store(where());
    BookingState s;
    s.booking = {"b-1", "blind", "101", "CGM-E", ""};
    s.state = "sent";
    store.put_booking(s, "t");
  }
  // Two collectors, each its own connection, each adding one bus to `tried` 20 times: a change
  // made without the booking's lock would overwrite the other's.
  auto collector = [&](const std::string& bus) {
    FleetStore store(where());
    for (int i = 0; i < 20; ++i)
      store.change_booking("b-1", "t", [&](std::optional<BookingState>& b) {
        b->tried.push_back(bus);
        return true;
      });
  };
  std::thread a(collector, "bus-1"), b(collector, "bus-2");
  a.join();
  b.join();
  FleetStore store(where());
  EXPECT_EQ(store.booking("b-1")->tried.size(), 40u);
}

TEST_P(FleetStore_, ANewBookingIsTakenByOneCollectorOnly) {
  int created = 0;
  std::mutex m;
  auto collector = [&] {
    FleetStore store(where());
    const auto stored = store.change_booking("b-7", "t", [](std::optional<BookingState>& b) {
      if (b) return false;  // known already: ignored
      b.emplace();
      b->booking = {"b-7", "blind", "101", "CGM-E", ""};
      return true;
    });
    std::lock_guard lock(m);
    created += stored ? 1 : 0;
  };
  std::thread a(collector), b(collector);
  a.join();
  b.join();
  EXPECT_EQ(created, 1);
}

TEST_P(FleetStore_, AChangeThatFailsChangesNothing) {
  FleetStore store(where());
  EXPECT_THROW(store.change_booking("b-9", "t",
                                    [](std::optional<BookingState>& b) -> bool {
                                      b.emplace();
                                      throw std::runtime_error("the broker went away");
                                    }),
               std::runtime_error);
  EXPECT_FALSE(store.booking("b-9"));
}

TEST(FleetStoreSqlite, AStoreMadeBeforeReceivedMsKeepsItsEventsAndGetsTheColumn) {
  TempDir dir;
  {
    routes::sql::Db old(dir / "fleet.db", routes::sql::Db::Mode::create);
    old.exec(
        "CREATE TABLE events (vehicle TEXT NOT NULL, seq INTEGER NOT NULL, time TEXT, type TEXT, "
        "line TEXT NOT NULL, PRIMARY KEY (vehicle, seq)) WITHOUT ROWID;"
        "INSERT INTO events VALUES ('bus-1', 1, NULL, NULL, 'old');");
  }
  FleetStore store(dir / "fleet.db");
  EXPECT_EQ(store.add_event("bus-1", R"({"vehicle":"bus-1","seq":2,"line":"new"})", 42), 1);
  std::vector<std::pair<std::string, std::int64_t>> rows;
  store.for_each_received("bus-1", [&](std::int64_t, const std::string& line, std::int64_t ms) {
    rows.emplace_back(line, ms);
  });
  // The old row is kept, without a time it was stored (0).
  EXPECT_EQ(rows, (std::vector<std::pair<std::string, std::int64_t>>{{"old", 0}, {"new", 42}}));
}

TEST(FleetStorePostgres, AStoreThatCannotBeReachedIsAClearError) {
  if (!Postgres::available()) GTEST_SKIP() << "PostgreSQL 15 is not installed";
  const int port = ::stopcall::testing::free_tcp_port();
  try {
    FleetStore store("postgresql://depot:secret@127.0.0.1:" + std::to_string(port) + "/fleet");
    FAIL() << "opened a store nobody serves";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cannot open the fleet store postgresql://depot:***@127.0.0.1"),
              std::string::npos)
        << what;
    EXPECT_EQ(what.find("secret"), std::string::npos) << what;  // the password is not shown
  }
}

}  // namespace
}  // namespace stopcall::depot
