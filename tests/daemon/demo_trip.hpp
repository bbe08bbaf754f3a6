// The demo route's first trip, loaded once for a test suite, and stop events on it: what the
// announcer's and the accessibility workflows' tests use.
#pragma once

#include <string>
#include <vector>

#include "daemon/tracking/events.hpp"
#include "media/types.hpp"
#include "routes/model.hpp"
#include "tests/sim/demo_route.hpp"

namespace stopcall::daemon::testing {

class DemoTrip : public sim::testing::DemoRoute {
 protected:
  using Type = tracking::StopEvent::Type;

  static void SetUpTestSuite() {
    DemoRoute::SetUpTestSuite();
    trip_ = new routes::Trip(trip());
  }
  static void TearDownTestSuite() {
    delete trip_;
    DemoRoute::TearDownTestSuite();
  }
  // A stop event of `type` at the trip's stop `index`.
  static tracking::StopEvent event(Type type, int index) {
    tracking::StopEvent e;
    e.type = type;
    e.trip_id = trip_->id;
    e.stop_index = index;
    e.stop_id = trip_->stops[static_cast<std::size_t>(index)].stop.id;
    return e;
  }
  // The spoken sentences (captions), in order, as "lang: text".
  static std::vector<std::string> captions(const media::Announcement& a) {
    std::vector<std::string> out;
    for (const auto& s : a.segments) {
      if (s.kind == media::SegmentKind::speech) out.push_back(s.lang + ": " + s.text);
    }
    return out;
  }
  static inline routes::Trip* trip_ = nullptr;
};

}  // namespace stopcall::daemon::testing
