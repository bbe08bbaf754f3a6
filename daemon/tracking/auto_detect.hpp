// Route auto-detection: from fixes alone, which pattern (route, direction, stop list) is the bus
// driving, and so which trip. Pure: the caller gives one representative trip per candidate pattern
// (from Bundle::candidate_trips near the first fix) and the service-day time for each fix.
//
// Every pattern is a hypothesis. A fix far from a pattern's shape counts against it; progress
// going backwards along it (the other direction on the same street) removes it. The detector
// decides only when exactly one pattern is left and the bus has driven far enough along it; two
// routes sharing a corridor stay undecided until they part, so no stop is announced on a guess.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "daemon/tracking/fix.hpp"
#include "routes/geo.hpp"
#include "routes/model.hpp"

namespace stopcall::tracking {

struct AutoDetectConfig {
  double max_lateral_m = 40;         // farther from a pattern's shape: a miss for that pattern
  double max_miss_share = 0.2;       // more misses than this share of fixes: pattern dropped
  double backward_tolerance_m = 40;  // progress going back more than this: wrong direction
  double min_travel_m = 250;         // decide only after driving this far along the pattern
  int min_fixes = 5;
  double max_speed_mps = 35;  // bounds the search window ahead
};

struct PatternCandidate {
  routes::Trip representative;               // any trip of the pattern: shape and stops
  std::vector<routes::TripCandidate> trips;  // the pattern's trips running around now
};

struct Detection {
  std::string trip_id;
  long pattern_id = 0;
  double along_m = 0;  // progress along the pattern when decided
};

class AutoDetector {
 public:
  AutoDetector(std::vector<PatternCandidate> candidates, AutoDetectConfig config = {});

  // Usable fixes only; `service_seconds` is the fix's time on the service day's clock.
  void on_fix(const Fix& fix, int service_seconds);

  std::optional<Detection> detection() const { return detection_; }
  int alive() const;
  int candidates() const { return static_cast<int>(hypotheses_.size()); }

 private:
  struct Hypothesis {
    PatternCandidate pattern;
    routes::geo::Polyline line;
    bool alive = true;
    bool started = false;
    int fixes = 0, misses = 0;
    double first_along = 0, last_along = 0, max_along = 0;
    Time last_time{};
  };
  void decide(int service_seconds);

  AutoDetectConfig config_;
  std::vector<Hypothesis> hypotheses_;
  std::optional<Detection> detection_;
};

}  // namespace stopcall::tracking
