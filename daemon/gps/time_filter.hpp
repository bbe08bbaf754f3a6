// Guards the tracker's timeline against receivers whose clocks glitch: bt451 in gpsd's logs jumps a
// day ahead for one fix and comes back. A fix older than the last accepted one is dropped; a jump
// far ahead is held until a second fix confirms it (a real gap, e.g. a long tunnel) — a single
// glitched fix is dropped. A fix without a time (a receiver reporting a position before it knows
// the date: gpsd then sends a TPV with no time) cannot be placed on the timeline at all and is
// dropped too: taken for the epoch, it would start the trip in 1970 and make the first real fix
// look like the end of a 56-year outage.
//
// A receiver whose clock jumps back and stays there (the GPS week rolling over 1024 weeks back,
// the leap seconds learned after a cold start, a clock set by hand) would otherwise have every
// later fix dropped: the bus silent for the rest of the day. When `confirm_back` fixes of as many
// epochs in a row agree on a time behind the last accepted one, the receiver's new time is placed
// on the bus's timeline: from then on each fix's time is moved by the jump, so that the timeline
// goes on one fix interval after the last fix taken. take() gives the fix so moved. Pure; shared by
// replay and the live daemon.
#pragma once

#include <chrono>

#include "daemon/tracking/fix.hpp"

namespace stopcall::gps {

class TimeFilter {
 public:
  explicit TimeFilter(std::chrono::milliseconds max_jump = std::chrono::minutes(10),
                      int confirm_back = 3)
      : max_jump_(max_jump), confirm_back_(confirm_back) {}

  // True when the fix may go to the tracker; its time is then set to its place on the bus's
  // timeline (moved after a confirmed jump back of the receiver's clock).
  bool take(tracking::Fix& fix) {
    if (fix.time == tracking::Time{}) {
      ++undated_;
      return false;
    }
    const tracking::Time t = fix.time + offset_;
    if (!has_last_) {
      has_last_ = true;
      last_ = fix.time = t;
      return true;
    }
    auto dt = t - last_;
    if (dt >= std::chrono::milliseconds(0) && dt <= max_jump_) return keep(fix, t);
    // Two fixes of two epochs agree on the new time: the gap was real. Not two reports of one
    // epoch: gpsd sends a TPV for each NMEA sentence that ends a cycle (bt451's day-ahead glitch
    // comes twice), and a glitch so confirmed would have every later fix dropped as going back.
    if (has_pending_ && t > pending_ && t - pending_ <= max_jump_) return keep(fix, t);
    if (dt > max_jump_) {
      has_pending_ = true;
      pending_ = t;
    } else if (confirm_back_ > 0) {
      // Behind the last fix taken: a glitch, or the receiver's clock gone back for good.
      // Epochs are counted, not reports: another report of the last one confirms nothing.
      if (back_count_ > 0 && t == back_last_) {
        ++dropped_;
        return false;
      }
      if (back_count_ > 0 && t > back_last_ && t - back_last_ <= max_jump_) {
        ++back_count_;
      } else {
        back_count_ = 1;
        back_first_ = t;
      }
      back_last_ = t;
      if (back_count_ >= confirm_back_) {
        // The first of these fixes is placed one of their intervals after the last fix taken.
        const auto interval = (t - back_first_) / (back_count_ - 1);
        const auto move = last_ + interval - back_first_;
        offset_ += move;
        jumped_back_ = move;
        ++jumps_back_;
        return keep(fix, t + move);
      }
    }
    ++dropped_;
    return false;
  }
  // The same without the time: true when the fix may go to the tracker.
  bool accept(const tracking::Fix& fix) {
    tracking::Fix copy = fix;
    return take(copy);
  }
  // What take() would do with this fix, without taking it: true, and its time on the timeline in
  // `time`, when it would go to the tracker. (Replay ticks the pipeline up to a fix first.)
  bool peek(const tracking::Fix& fix, tracking::Time& time) const {
    TimeFilter copy = *this;
    tracking::Fix f = fix;
    const bool taken = copy.take(f);
    time = f.time;
    return taken;
  }

  long dropped() const { return dropped_; }
  long undated() const { return undated_; }  // fixes without a time, dropped
  // The receiver's clock went back and stayed there this many times, the last time by this much.
  long jumps_back() const { return jumps_back_; }
  std::chrono::milliseconds jumped_back() const { return jumped_back_; }
  // The time of the last fix taken, on the timeline (the epoch before the first).
  tracking::Time last() const { return has_last_ ? last_ : tracking::Time{}; }

 private:
  bool keep(tracking::Fix& fix, tracking::Time t) {
    last_ = fix.time = t;
    has_pending_ = false;
    back_count_ = 0;
    return true;
  }

  std::chrono::milliseconds max_jump_;
  int confirm_back_;
  // Flags beside always-initialised times rather than std::optional<Time>: GCC 12 at -O3 cannot
  // tell that a disengaged optional's value is never read once take() is inlined into a loop,
  // and warns -Wmaybe-uninitialized (GCC bug 80635), which -Werror turns into a failed build.
  bool has_last_ = false;
  tracking::Time last_{};
  bool has_pending_ = false;
  tracking::Time pending_{};  // a jump ahead waiting for a second fix to confirm it
  int back_count_ = 0;        // fixes in a row behind the last one taken, agreeing with each other
  tracking::Time back_first_{}, back_last_{};
  std::chrono::milliseconds offset_{0};  // added to the receiver's times (after jumps back)
  std::chrono::milliseconds jumped_back_{0};
  long jumps_back_ = 0;
  long dropped_ = 0;
  long undated_ = 0;
};

}  // namespace stopcall::gps
