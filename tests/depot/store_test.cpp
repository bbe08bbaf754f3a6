// The fleet store on a real SQLite file.
#include "depot/store.hpp"

#include <gtest/gtest.h>

#include "tests/routes/test_feed.hpp"

namespace stopcall::depot {
namespace {

using routes::testing::TempDir;

TEST(FleetStore, KeepsEachEventOnceWhenTheSameSeqArrivesTwice) {
  TempDir dir;
  FleetStore store(dir / "fleet.db");
  const std::string e =
      R"({"vehicle":"bus-1","seq":7,"event":{"type":"arrived","time":"2026-03-02T07:00:00Z","stop_id":"CGM-E"}})";
  EXPECT_EQ(store.add_event("bus-1", e), 1);
  EXPECT_EQ(store.add_event("bus-1", e), 0);  // QoS 1 delivered it again
  EXPECT_EQ(store.add_event("bus-1", R"({"vehicle":"bus-1","seq":8,"line":"not json"})"), 1);
  EXPECT_EQ(store.add_event("bus-2", R"({"vehicle":"bus-2","seq":7,"event":{"type":"x"}})"), 1);
  EXPECT_EQ(store.event_count("bus-1"), 2);
  EXPECT_EQ(store.event_count(), 3);

  // Reopened, the rows are there (a real file).
  FleetStore again(dir / "fleet.db");
  EXPECT_EQ(again.event_count(), 3);
}

TEST(FleetStore, MalformedEventsAreRefusedAndChangeNothing) {
  TempDir dir;
  FleetStore store(dir / "fleet.db");
  EXPECT_THROW(store.add_event("bus-1", "nope"), std::invalid_argument);
  EXPECT_THROW(store.add_event("bus-1", R"({"vehicle":"bus-2","seq":1,"line":"x"})"),
               std::invalid_argument);
  EXPECT_THROW(store.add_event("bus-1", R"({"vehicle":"bus-1","seq":"1","line":"x"})"),
               std::invalid_argument);
  EXPECT_EQ(store.event_count(), 0);
}

TEST(FleetStore, KeepsTheLatestStatusPerBus) {
  TempDir dir;
  FleetStore store(dir / "fleet.db");
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

TEST(FleetStore, BookingsSurviveAndOnlyOpenOnesAreOpen) {
  TempDir dir;
  {
    FleetStore store(dir / "fleet.db");
    BookingState open, done;
    open.booking = {"b-1", "blind", "101", "CGM-E", ""};
    open.state = "sent";
    open.vehicle = "bus-1";
    done.booking = {"b-2", "blind", "101", "CGM-E", ""};
    done.state = "served";
    store.put_booking(open, "t");
    store.put_booking(done, "t");
  }
  FleetStore store(dir / "fleet.db");
  const auto open = store.open_bookings();
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].vehicle, "bus-1");
  EXPECT_EQ(store.booking("b-2")->state, "served");
}

}  // namespace
}  // namespace stopcall::depot
