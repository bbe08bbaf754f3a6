// The scorer: did the rider hear every stop announced at the right moment, exactly once, in order?
//
// For every stop after the first (stop i, the bus coming from stop i-1), the stop is correct when
//  - there is exactly one `next_stop` for it, no earlier than 3 s before the bus left stop i-1
//    (halted there: started moving again; driven through: passed it), no later than 20 s after
//    it left, and before the bus reached stop i;
//  - there is exactly one `approaching` for it, not before its `next_stop`, at least 4 s before
//    the bus reached stop i (halted there, or drove past it) and at most 30 s of moving before it:
//    the time the bus then waits at red lights does not count (a bus that said "arriving at X"
//    and then waits at a red light 40 m short of X was not early);
//  - neither of them is out of order: each kind comes stop by stop, a stop's `approaching` not
//    before its `next_stop`, and times never go back.
// A stop that shares the halt of the stop before it (StopTruth::shares_halt_of: berths of one
// station, closer than SimOptions::same_halt_m) is right when it is not announced on its own: the
// bus halts once there, and the halt was announced with the stop before; an announcement of it
// counts as a duplicate. (Under the rules above it could not be right: the bus reaches it as it
// leaves the stop before, so no `approaching` can come 4 s before.)
// A stop closer than 50 m to the stop before it (another name: a halt of its own) may be said
// together with it: its `next_stop` from the window of the stop before, its `approaching` any time
// before the bus reaches it. Where a GPS outage hid the bus leaving the stop before, `next_stop`
// may come until 5 s after the outage; where the same outage also hid the arrival, the stop is
// not scored ("blind"). These are the road test's rules (../shared/road-test/SPEC.md).
// Announcements of the first stop or of a stop not on the trip are extra: they count against the
// run as a whole. Other event types are not scored.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "daemon/tracking/events.hpp"
#include "routes/model.hpp"
#include "sim/simulate.hpp"

namespace stopcall::sim {

struct ScoringRules {
  double next_stop_earliest_s = 3;     // before leaving the previous stop
  double next_stop_latest_s = 20;      // after leaving it
  double approaching_earliest_s = 30;  // before reaching the stop, counting only moving time
  double approaching_latest_s = 4;     // before reaching the stop
  double close_stop_m = 50;            // a stop closer to the one before may be said with it
  double outage_grace_s = 5;           // next_stop after an outage that hid the departure
};

enum class Timing { correct, missing, early, late };
std::string_view timing_name(Timing timing);

struct StopScore {
  int index = 0;
  std::string stop_id;
  int shares_halt_of = -1;  // see above: then right when never announced
  Timing next_stop = Timing::missing;
  Timing approaching = Timing::missing;
  std::optional<tracking::Time> next_stop_time;    // the first one
  std::optional<tracking::Time> approaching_time;  // the first one
  double next_stop_after_leaving_s = 0;            // of the first next_stop
  double approaching_before_reaching_s = 0;        // of the first approaching
  bool blind = false;    // an outage hid both the departure before and the arrival: not scored
  int duplicates = 0;    // announcements of this stop beyond one of each kind
  int out_of_order = 0;  // announcements of this stop that came out of order

  bool correct() const {
    return next_stop == Timing::correct && approaching == Timing::correct && duplicates == 0 &&
           out_of_order == 0;
  }
  // "next_stop late (+24.0 s after leaving S3); approaching ok" and the like.
  std::string describe() const;
};

struct Score {
  std::vector<StopScore> stops;  // stops 1..N-1
  int scored = 0;
  int blind = 0;  // stops not scored: no receiver could see them (StopScore::blind)
  int correct = 0;
  int next_stop_missing = 0, next_stop_early = 0, next_stop_late = 0;
  int approaching_missing = 0, approaching_early = 0, approaching_late = 0;
  int duplicates = 0;
  int out_of_order = 0;
  int extra = 0;  // announcements of the first stop or of stops not on the trip

  bool perfect() const { return correct == scored && extra == 0; }
  Score& operator+=(const Score& other);  // totals only (stops are not merged)
};

// `events` in the order the announcer emitted them. The truth must be of this trip.
Score score(const routes::Trip& trip, const Truth& truth,
            const std::vector<tracking::StopEvent>& events, const ScoringRules& rules = {});

}  // namespace stopcall::sim
