// The announcer: stop events in, announcements out — what is said, in which languages and order,
// on which speakers, at which priority. Pure: no clock, no I/O; the daemon hands the result to the
// media engine and decides staleness (an announcement for a stop the bus has passed is dropped).
//
// clang-format off
//   event        output     what is said (zh-Hans / yue / en)
//   next_stop    interior   "下一站，车公庙。可换乘地铁…" / "下一站，車公廟…" / "Next stop: Chegongmiao. …"
//   approaching  interior   "即将到达车公庙" / "即將到達車公廟" / "Arriving at Chegongmiao"
//   arrived      exterior   the route's exterior text ("101路，开往大剧院" …) for people waiting
// clang-format on
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "daemon/tracking/events.hpp"
#include "media/types.hpp"
#include "routes/model.hpp"

namespace stopcall::daemon {

struct AnnouncerConfig {
  std::vector<std::string> languages{"zh-Hans", "yue", "en"};  // spoken in this order
  std::chrono::milliseconds pause_between_languages{300};
  bool chime = true;                // a chime before stop announcements
  bool exterior_at_arrival = true;  // route and destination outside when the bus arrives
};

class Announcer {
 public:
  explicit Announcer(AnnouncerConfig config = {}) : config_(std::move(config)) {}

  // The announcements `event` calls for on `trip` (none for most event types).
  std::vector<media::Announcement> on_event(const routes::Trip& trip,
                                            const tracking::StopEvent& event) const;

 private:
  AnnouncerConfig config_;
};

// Route and destination for people outside ("101路，开往大剧院" / "Route 101 to Grand Theater"),
// exterior only, stop priority, in `config.languages` order.
media::Announcement exterior_route_announcement(const routes::Trip& trip,
                                                const AnnouncerConfig& config, std::string id);

// A name in `lang`, or the closest there is: the same language without region/script, then the
// first name the feed has.
std::string name_in(const routes::Names& names, const std::string& lang);

}  // namespace stopcall::daemon
