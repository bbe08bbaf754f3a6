// Guards the tracker's timeline against receivers whose clocks glitch: bt451 in gpsd's logs jumps a
// day ahead for one fix and comes back. A fix older than the last accepted one is dropped; a jump
// far ahead is held until a second fix confirms it (a real gap, e.g. a long tunnel) — a single
// glitched fix is dropped. A fix without a time (a receiver reporting a position before it knows
// the date: gpsd then sends a TPV with no time) cannot be placed on the timeline at all and is
// dropped too: taken for the epoch, it would start the trip in 1970 and make the first real fix
// look like the end of a 56-year outage. Pure; shared by replay and the live daemon.
#pragma once

#include <chrono>

#include "daemon/tracking/fix.hpp"

namespace stopcall::gps {

class TimeFilter {
 public:
  explicit TimeFilter(std::chrono::milliseconds max_jump = std::chrono::minutes(10))
      : max_jump_(max_jump) {}

  // True when the fix may go to the tracker.
  bool accept(const tracking::Fix& fix) {
    if (fix.time == tracking::Time{}) {
      ++undated_;
      return false;
    }
    if (!has_last_) {
      has_last_ = true;
      last_ = fix.time;
      return true;
    }
    auto dt = fix.time - last_;
    if (dt >= std::chrono::milliseconds(0) && dt <= max_jump_) {
      last_ = fix.time;
      has_pending_ = false;
      return true;
    }
    if (has_pending_ && fix.time >= pending_ && fix.time - pending_ <= max_jump_) {
      last_ = fix.time;  // two fixes agree on the new time: the gap was real
      has_pending_ = false;
      return true;
    }
    if (dt > max_jump_) {
      has_pending_ = true;
      pending_ = fix.time;
    }
    ++dropped_;
    return false;
  }
  long dropped() const { return dropped_; }
  long undated() const { return undated_; }  // fixes without a time, dropped

 private:
  std::chrono::milliseconds max_jump_;
  // Flags beside always-initialised times rather than std::optional<Time>: GCC 12 at -O3 cannot
  // tell that a disengaged optional's value is never read once accept() is inlined into a loop,
  // and warns -Wmaybe-uninitialized (GCC bug 80635), which -Werror turns into a failed build.
  bool has_last_ = false;
  tracking::Time last_{};
  bool has_pending_ = false;
  tracking::Time pending_{};  // a jump ahead waiting for a second fix to confirm it
  long dropped_ = 0;
  long undated_ = 0;
};

}  // namespace stopcall::gps
