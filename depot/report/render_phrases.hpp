// The words and numbers every rendering of the depot's report shares (render.hpp): shares as
// percentages, "12 of 15", the window and its time zones, the speed note, kinds in their order,
// the messages section's cells.
// Text and HTML say the same things in the same words.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "depot/report/figures.hpp"

namespace stopcall::depot::report::phrases {

// `v` with `decimals` decimals: "12.5".
std::string fixed(double v, int decimals);
// A share as "80.0 %", "–" when there is none.
std::string percent(std::optional<double> s);
// "12 of 15 (80.0 %)"
std::string of(int ok, int all);
// "12 of 15 (80.0 %); 2 first heard after the bus reached the stop, 9 cut short"
std::string heard_text(int ok, int stops, int late, int cut);
// "3 of 4 stops where the bus arrived or opened its doors (75.0 %)"
std::string exterior_text(const Figures& f);
// The trip id, "(no trip)" for the lines before any trip.
std::string trip_label(const TripReport& t);
// Kinds in a fixed order (stop announcements first), then any others.
std::vector<std::string> kind_order(const Figures& f);
// The window and the time zone of its service days.
std::string window_text(const Report& r);
// What a log replayed faster than real time means for its figures.
std::string speed_note(const Report& r);
// "2026-03-02", or "2026-03-02..2026-03-04" for several days.
std::string days_text(const Report& r);
// Trips with a trip id.
int trip_count(const Report& r);
// "3 (expired 2, interrupted 1, cancelled 0, failed 0); never heard 1 of 40 announcements"
std::string failures_text(const KindFigures& k);

// The messages section (the same words in text and HTML).
// "12.5 s", "–" without a value.
std::string seconds_text(std::optional<double> s);
// How soon a message was heard on one output: "2.0 s", "not heard", "heard" (sent before the
// window), "–" (its sayings did not go there).
std::string heard_after_text(const MessageReport& m, bool interior);
// "after 12.0 s (console)", "no"; "–" for a service message (not acknowledged).
std::string acknowledged_text(const MessageReport& m);
// "cancelled (console) after 95.0 s", "expired after 3600.0 s", "still active at the end of the
// log"
std::string end_text(const MessageReport& m);
// "zh-Hans, yue, en"; "–" for none.
std::string list_text(const std::vector<std::string>& items);
// "emergency 1 (console 1); service 2 (control 1, fleet 1)"; "none".
std::string by_kind_text(const MessageFigures& f);
// "9.5 s (svc-1, interior)"; "–".
std::string slowest_text(const MessageFigures& f);
// "2: no such preset in the route data (1), ..."; "0".
std::string refused_text(const MessageFigures& f);

}  // namespace stopcall::depot::report::phrases
