// Judging the records of an event log: was each stop's next-stop and arriving announcement heard
// inside, late, cut short, or why not; was the route heard outside where the bus stopped; and the
// figures per trip, per service day and in total that follow; and what became of each emergency
// and service message. Pure: records in, figures out, no files and no JSON (ingest.hpp reads the
// log into records).
#pragma once

#include <string>
#include <vector>

#include "depot/report/figures.hpp"
#include "depot/report/records.hpp"

namespace stopcall::depot::report {

struct Verdict {
  bool ok = false;
  bool late = false;
  bool cut = false;
  std::string why;
  std::string text;
};

// Was the `what` announcement of stop `index` heard inside, and if not, why not.
Verdict judge(const std::vector<const Announcement*>& made, Time reached);

// Adds a boarding request, by its kind and last fate, to the figures.
void count_request(Figures& f, const Request& r);

// The messages section (report.messages) from the records: per message, and the figures over them
// (judge_messages.cpp).
MessageFigures judge_messages(const Records& records);

// Fills report.trips, report.days, report.total, report.clock_speed and report.messages from the
// records of the lines in the window. A trip's service day is the local date of its first line at
// report.options.utc_offset_min, else at the offset report.zones records for that time, else UTC.
void judge_records(Records records, Report& report);

}  // namespace stopcall::depot::report
