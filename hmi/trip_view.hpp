// From the route model to what the screens show: the daemon builds hmi::State and the
// NextStopUpdate messages with these, so the pages never see a routes:: type.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "hmi/protocol.hpp"
#include "routes/model.hpp"

namespace stopcall::hmi {

TripView trip_view(const routes::Trip& trip);

// The stop at `index` of the trip (0-based, < trip.stops.size()).
StopView stop_view(const routes::Trip& trip, std::size_t index);

// Next stop `next_index` and up to `strip` stops after it; no next stop when unset or past the end
// (the trip is over).
NextStopUpdate next_stop_update(const routes::Trip& trip, std::optional<std::size_t> next_index,
                                std::size_t strip = 6);

// A login choice from an auto-detection / timetable candidate. The candidate's headsign is in the
// feed language, `feed_lang`.
TripOption trip_option(const routes::TripCandidate& candidate, std::string_view feed_lang);

// "06:30" from seconds after the service day's noon-minus-12h; hours may pass 24 ("24:10").
std::string clock_text(int seconds);

}  // namespace stopcall::hmi
