// GTFS field values as the feeds write them: integers, decimals, times past midnight, dates.
// Each parser returns nullopt (or false) for text that is not such a value; none throws.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace stopcall::routes::gtfs {

// A whole decimal number, nothing before or after it.
std::optional<long> parse_int(std::string_view text);
// A finite decimal number, nothing before or after it.
std::optional<double> parse_double(std::string_view text);
// "H:MM:SS" or "HH:MM:SS", hours up to 200 (GTFS times go on past 24:00): seconds of the service
// day.
std::optional<int> parse_time(std::string_view text);
// "YYYYMMDD", year 1900 to 2200.
bool valid_date(std::string_view text);
// Seconds of the service day as "HH:MM:SS" (hours may exceed 24).
std::string format_time(int seconds);

}  // namespace stopcall::routes::gtfs
