// The depot's accessibility report: from the daemon's event log (JSON lines, or the SQLite
// EventStore), per trip, per service day and in total: were the next-stop and arriving
// announcements really heard, why not, the exterior route announcements, ramp cycles, boarding
// requests and GPS outage. Pure computation here; stopcall-report (main.cpp) is the command.
// The figures are defined in depot/report/README.md.
//
// The pieces, in the order a log goes through them:
//   times.hpp    ISO 8601 times, the window (Options), recorded time zones, service days
//   ingest.hpp   the log's lines -> records (records.hpp): Builder, build_report
//   judge.hpp    records -> figures: was each stop's announcement heard, and why not
//   figures.hpp  what a Report holds, and how figures add up
//   render.hpp   a Report as text, CSV or HTML (with an SVG chart)
// This header includes the ones a user of the report needs.
#pragma once

#include "depot/report/figures.hpp"
#include "depot/report/ingest.hpp"
#include "depot/report/render.hpp"
#include "depot/report/times.hpp"
