// stopcall-report: the depot's accessibility figures from a bus's event log. See README.md.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "depot/report/report.hpp"

namespace report = stopcall::depot::report;

int main(int argc, char** argv) {
  CLI::App app{
      "stopcall-report: were the next-stop and arriving announcements heard, per trip and per "
      "service day, from a bus's event log (an event store or a JSON-lines file)"};
  std::string log, from, to, output;
  bool csv = false, html = false, messages_csv = false;
  std::optional<int> offset;
  app.add_option("LOG", log, "event log: an EventStore SQLite file or a JSON-lines file")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--from", from,
                 "first time included, ISO 8601 (2026-03-02, 2026-03-02T06:00, ...Z, ...+08:00)");
  app.add_option("--to", to, "first time excluded, ISO 8601");
  app.add_option("--utc-offset-min", offset,
                 "the city's offset from UTC in minutes (480 for Shenzhen): service days are "
                 "local dates, and --from/--to without a zone are local times. Default: the "
                 "time zone the bus recorded in the log")
      ->check(CLI::Range(-14 * 60, 14 * 60));
  auto* csv_flag = app.add_flag("--csv", csv, "one CSV row per trip and a TOTAL row");
  auto* html_flag = app.add_flag("--html", html, "a self-contained HTML page with a chart");
  auto* messages_flag =
      app.add_flag("--messages-csv", messages_csv,
                   "one CSV row per emergency or service message, then one per message refused");
  csv_flag->excludes(html_flag);
  messages_flag->excludes(csv_flag)->excludes(html_flag);
  app.add_option("-o,--output", output, "write to this file instead of standard output");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help is 0; any mistake on the command line is 2
  }

  report::Options options;
  options.utc_offset_min = offset;
  // --from/--to without a zone are local times: the recorded zone's, unless told.
  int local_offset = offset.value_or(0);
  if (!offset && (!from.empty() || !to.empty())) {
    try {
      const auto zones = report::recorded_zones(log);
      const auto at = report::parse_time(from.empty() ? to : from);
      if (auto recorded = report::offset_at(zones, at.value_or(report::Time{}))) {
        local_offset = *recorded;
      }
    } catch (const std::exception& e) {
      std::cerr << "stopcall-report: " << e.what() << "\n";
      return 1;
    }
  }
  for (auto [text, slot, name] :
       {std::tuple{&from, &options.from, "--from"}, std::tuple{&to, &options.to, "--to"}}) {
    if (text->empty()) continue;
    *slot = report::parse_time(*text, local_offset);
    if (!*slot) {
      std::cerr << "stopcall-report: " << name << " '" << *text
                << "' is not an ISO 8601 time (e.g. 2026-03-02T06:00:00+08:00)\n";
      return 2;
    }
  }
  if (options.from && options.to && *options.to <= *options.from) {
    std::cerr << "stopcall-report: --to must be after --from\n";
    return 2;
  }

  report::Report r;
  try {
    r = report::build_report(log, options);
  } catch (const std::exception& e) {
    std::cerr << "stopcall-report: " << e.what() << "\n";
    return 1;
  }
  const std::string text = csv            ? report::to_csv(r)
                           : messages_csv ? report::to_messages_csv(r)
                           : html         ? report::to_html(r)
                                          : report::to_text(r);
  if (output.empty()) {
    std::cout << text;
  } else {
    std::ofstream out(output, std::ios::binary);
    out << text;
    out.close();
    if (!out) {
      std::cerr << "stopcall-report: cannot write " << output << "\n";
      return 1;
    }
  }
  if (r.unreadable > 0) {
    std::cerr << "stopcall-report: " << r.unreadable << " unreadable line"
              << (r.unreadable == 1 ? "" : "s") << " skipped";
    if (!r.unreadable_examples.empty()) {
      const auto& u = r.unreadable_examples.front();
      std::cerr << " (first: line " << u.number << ", " << u.why << ")";
    }
    std::cerr << "\n";
  }
  return 0;
}
