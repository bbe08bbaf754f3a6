// Reading a bus's event log for the depot's report: the JSON lines of a file or the rows of an
// EventStore (SQLite), in order, into records (records.hpp) — trips, announcements and their
// sounds and results, signals, prompts, requests — with the window applied, the time zones the
// log records, unreadable lines counted and faults listed. Builder::finish hands the records to
// judge.hpp for the figures.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "depot/report/figures.hpp"
#include "depot/report/times.hpp"

namespace stopcall::depot::report {

// Reads one "time_zone" line; nullopt when it is not one.
std::optional<RecordedZone> parse_zone_line(std::string_view line);
// The zones a log records, in order (the store's time_zone rows; the whole of a JSON-lines file).
std::vector<RecordedZone> recorded_zones(const std::string& path);

// Reads log lines in order and computes the report.
class Builder {
 public:
  explicit Builder(Options options);
  ~Builder();
  Builder(const Builder&) = delete;
  Builder& operator=(const Builder&) = delete;

  // One line of the log; `number` names it in unreadable-line messages.
  void add(std::string_view line, std::size_t number);
  // A time zone the log records outside the lines given to add() (a store read by window).
  void zone(const RecordedZone& zone);
  Report finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The report of the log at `path`: an EventStore file (SQLite header) or JSON lines. Throws
// std::runtime_error naming the path when it cannot be read.
Report build_report(const std::string& path, const Options& options);

}  // namespace stopcall::depot::report
