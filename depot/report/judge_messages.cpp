// The messages section of the depot's report (judge.hpp): what became of each emergency and
// service message, and the figures a controller reads first. The figures are defined in
// depot/report/README.md ("Emergency and service messages").
#include <chrono>

#include "depot/report/judge.hpp"

namespace stopcall::depot::report {

namespace {

std::optional<double> seconds_between(const std::optional<Time>& from,
                                      const std::optional<Time>& to) {
  if (!from || !to) return std::nullopt;
  return std::chrono::duration<double>(*to - *from).count();
}

MessageReport report_of(const MessageRecord& m) {
  MessageReport r;
  r.id = m.id;
  r.kind = m.kind;
  r.source = m.source;
  r.preset = m.preset;
  if (m.sent) r.sent = format_time(*m.sent);
  r.languages = m.languages;
  r.missing = m.missing;
  r.to_interior = m.outputs.count("interior") > 0;
  r.to_exterior = m.outputs.count("exterior") > 0;
  r.heard_interior = m.heard_interior.has_value();
  r.heard_exterior = m.heard_exterior.has_value();
  r.heard_interior_s = seconds_between(m.sent, m.heard_interior);
  r.heard_exterior_s = seconds_between(m.sent, m.heard_exterior);
  r.said = m.said;
  r.acknowledged = m.acknowledged.has_value();
  r.acknowledged_by = m.acknowledged_by;
  r.acknowledged_s = seconds_between(m.sent, m.acknowledged);
  r.end = m.end.empty() ? std::string("active") : m.end;
  r.ended_by = m.ended_by;
  r.lasted_s = seconds_between(m.sent, m.ended);
  return r;
}

}  // namespace

MessageFigures judge_messages(const Records& records) {
  MessageFigures f;
  for (const MessageRecord& m : records.messages) {
    MessageReport r = report_of(m);
    ++f.by_kind[r.kind.empty() ? "(none)" : r.kind][r.source.empty() ? "(none)" : r.source];
    if (r.kind == "emergency") {
      ++f.emergencies;
      f.emergencies_heard_both += r.heard_interior && r.heard_exterior;
    }
    f.never_heard += !r.heard_interior && !r.heard_exterior;
    for (const auto& [after, output] :
         {std::pair{r.heard_interior_s, "interior"}, std::pair{r.heard_exterior_s, "exterior"}}) {
      if (after && (!f.slowest_s || *after > *f.slowest_s)) {
        f.slowest_s = after;
        f.slowest_id = r.id;
        f.slowest_output = output;
      }
    }
    f.messages.push_back(std::move(r));
  }
  for (const RefusedMessage& m : records.refused_messages) {
    f.refused.push_back({format_time(m.time), m.id, m.kind, m.source, m.preset, m.why});
    ++f.refused_by_reason[m.why.empty() ? "(no reason logged)" : m.why];
  }
  f.stops_held = records.held_for_emergency;
  return f;
}

}  // namespace stopcall::depot::report
