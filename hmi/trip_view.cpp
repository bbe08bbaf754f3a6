#include "hmi/trip_view.hpp"

#include <cstdio>
#include <string>

namespace stopcall::hmi {

TripView trip_view(const routes::Trip& trip) {
  TripView out;
  out.id = trip.id;
  const auto& route = trip.route;
  if (!route.short_names.empty()) {
    // A route number rarely differs by language; take any (the feed's own value sorts first
    // under "" when it has no language).
    out.route.number = route.short_names.begin()->second;
  }
  out.route.names = route.long_names;
  out.route.color = route.color;
  out.route.text_color = route.text_color;
  out.headsign = trip.headsigns;
  out.direction = trip.direction_id;
  out.block = trip.block_id;
  return out;
}

StopView stop_view(const routes::Trip& trip, std::size_t index) {
  const routes::TripStop& trip_stop = trip.stops.at(index);
  StopView out;
  out.id = trip_stop.stop.id;
  out.names = trip_stop.stop.names;
  out.phrases = trip_stop.stop.extra_phrases;
  out.sequence = trip_stop.stop_sequence;
  out.index = static_cast<int>(index);
  switch (trip_stop.stop.wheelchair) {
    case routes::Wheelchair::accessible:
      out.wheelchair = Wheelchair::accessible;
      break;
    case routes::Wheelchair::not_accessible:
      out.wheelchair = Wheelchair::not_accessible;
      break;
    case routes::Wheelchair::unknown:
      out.wheelchair = Wheelchair::unknown;
      break;
  }
  return out;
}

NextStopUpdate next_stop_update(const routes::Trip& trip, std::optional<std::size_t> next_index,
                                std::size_t strip) {
  NextStopUpdate out;
  if (!next_index || *next_index >= trip.stops.size()) return out;
  out.next_stop = stop_view(trip, *next_index);
  for (std::size_t i = *next_index + 1; i < trip.stops.size() && out.coming.size() < strip; ++i) {
    out.coming.push_back(stop_view(trip, i));
  }
  return out;
}

TripOption trip_option(const routes::TripCandidate& candidate, std::string_view feed_lang) {
  TripOption out;
  out.trip_id = candidate.trip_id;
  out.route = candidate.route_short_name;
  if (!candidate.headsign.empty()) out.headsign[std::string(feed_lang)] = candidate.headsign;
  out.direction = candidate.direction_id;
  out.block = candidate.block_id;
  out.departure = clock_text(candidate.first_departure_s);
  return out;
}

std::string clock_text(int seconds) {
  if (seconds < 0) seconds = 0;
  char text[16];
  std::snprintf(text, sizeof text, "%02d:%02d", seconds / 3600, seconds / 60 % 60);
  return text;
}

}  // namespace stopcall::hmi
