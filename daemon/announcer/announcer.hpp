// The announcer: stop events in, announcements out — what is said, in which languages and order,
// on which speakers, at which priority. Pure: no clock, no I/O; the daemon hands the result to the
// media engine and decides staleness ("next stop X" is dropped once the bus has reached X,
// "arriving at X" once it has left X: it is still true while the bus stands there).
//
// clang-format off
//   event        output     what is said (zh-Hans / yue / en)
//   next_stop    interior   "下一站，车公庙。可换乘地铁…" / "下一站，車公廟…" / "Next stop: Chegongmiao. …"
//   approaching  interior   "即将到达车公庙" / "即將到達車公廟" / "Arriving at Chegongmiao"
//   arrived      exterior   the route's exterior text ("101路，开往大剧院" …) for people waiting
// clang-format on
//
// The forms of "next stop" and "arriving at" (fit.hpp): where stops are close together the full
// form does not end before the next announcement is due, so the longest form that does is said.
// The subtitle is the full sentence in every form (each segment's `text`); only what is spoken
// (`spoken`) gets shorter.
//
// clang-format off
//   form             what is said
//   full             chime, every language's sentence, with the stop's transfer hint on "next stop"
//   no_transfer      chime, every language's sentence without the transfer hint (it is still shown)
//   no_chime         every language's sentence, no chime
//   brief            every language says just the stop name ("车公庙" / "車公廟" / "Chegongmiao"),
//                    no chime: the rider hears the one thing that matters, in their language
//   fewer_languages  `approaching` only, when not even `brief` ends before the bus may have left
//                    the stop and "next stop" said the name in every language: the stop name in
//                    the first languages that end in time, at least the first one
//   skipped          `next_stop` only, when not even `brief` ends before `approaching` is due:
//                    nothing now, "arriving at X" follows at once with the name in every language
// clang-format on
//
// Why these: a blind rider needs the stop name in a language they understand, early enough to
// get up; everything else (the chime, the transfer hint, the lead words) is dropped before a
// language is. No stop name is started that cannot end in time: "next stop" is skipped rather
// than cut, because the stop's "arriving at" always follows (the tracker says it at the latest
// as the bus reaches the stop). "Arriving at" is the last chance: it has until the bus leaves the
// stop (taken to drive through it: whether it halts is unknown in advance), and when "next stop"
// was skipped it says the name in every language (`brief`) even if that may outlast a bus that
// drives through -- the engine drops the rest between segments, so a name already started is heard
// to its end; otherwise its first language is always said. The form is chosen once, before the
// announcement starts; without a prediction of the time it has (Pipeline::time_to_say) the full
// form is said.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "daemon/announcer/fit.hpp"
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

// The announcements for one stop event, in the form chosen.
struct Fitted {
  Form form = Form::full;
  std::size_t languages = 0;  // languages that say the stop name (0: none, e.g. skipped)
  std::vector<media::Announcement> announcements;
  milliseconds length{0};  // the interior stop announcement's length (0 when there is none)
};

class Announcer {
 public:
  explicit Announcer(AnnouncerConfig config = {}) : config_(std::move(config)) {}

  // The announcements `event` calls for on `trip` (none for most event types), in the full form.
  std::vector<media::Announcement> on_event(const routes::Trip& trip,
                                            const tracking::StopEvent& event) const;
  // The same in `form`, the stop name said in the first `languages` languages (fewer_languages;
  // the others say it in every language). `skipped` gives no stop announcement.
  std::vector<media::Announcement> on_event(const routes::Trip& trip,
                                            const tracking::StopEvent& event, Form form,
                                            std::size_t languages = SIZE_MAX) const;

  // Chooses the form (pure): the longest that ends within time_available() (fit.hpp), lengths
  // from `known` or estimated. Events other than next_stop / approaching: as on_event().
  Fitted fit(const routes::Trip& trip, const tracking::StopEvent& event, const FitTiming& timing,
             const SegmentLength& known) const;

  // fit(), keeping track of how long the interior is busy with the stop announcements it gave
  // (they play one after the other): what the daemon calls for each stop event. `until`: the
  // predicted time until it must be over (FitTiming::until; nullopt: unknown).
  Fitted on_event(const routes::Trip& trip, const tracking::StopEvent& event,
                  std::optional<milliseconds> until, const SegmentLength& known);

  // Everything the stop announcements of `trip` may speak, in every form: for the media engine
  // to render at trip start, so that each announcement starts at once and its length is known.
  std::vector<media::SpeechItem> spoken_texts(const routes::Trip& trip) const;

  const AnnouncerConfig& config() const { return config_; }

 private:
  AnnouncerConfig config_;
  std::optional<tracking::Time> busy_until_;  // when the last stop announcement given ends
  // The stops of this trip whose name "next stop" said in every language.
  std::string named_trip_;
  std::set<int> named_;
};

// Route and destination for people outside ("101路，开往大剧院" / "Route 101 to Grand Theater"),
// exterior only, stop priority, in `config.languages` order.
media::Announcement exterior_route_announcement(const routes::Trip& trip,
                                                const AnnouncerConfig& config, std::string id);

// A name in `lang`, or the closest there is: the same language without region/script, then the
// first name the feed has.
std::string name_in(const routes::Names& names, const std::string& lang);

}  // namespace stopcall::daemon
