#include "media/realtime.hpp"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

namespace stopcall::media::detail {

namespace {

void apply(pid_t tid, bool realtime, int priority) {
  sched_param param{};
  param.sched_priority = realtime ? priority : 0;
  sched_setscheduler(tid, realtime ? SCHED_FIFO : SCHED_OTHER, &param);  // refused: as it is
}

}  // namespace

void make_current_thread_realtime(int priority) {
  if (priority <= 0) return;
  sched_param param{};
  param.sched_priority = priority;
  pthread_setschedparam(pthread_self(), SCHED_FIFO, &param);
}

void StreamThreads::enter() {
  if (priority <= 0) return;
  std::lock_guard lock(mu);
  tids.push_back(gettid());
  apply(tids.back(), realtime, priority);
}

void StreamThreads::leave() {
  if (priority <= 0) return;
  std::lock_guard lock(mu);
  std::erase(tids, gettid());
  // Back to its pool (GLib's, shared with other pipelines) at normal priority.
  if (realtime) apply(gettid(), false, priority);
}

void StreamThreads::set_realtime(bool on) {
  if (priority <= 0) return;
  std::lock_guard lock(mu);
  if (realtime == on) return;
  realtime = on;
  for (const pid_t tid : tids)
    apply(tid, on, priority);
}

}  // namespace stopcall::media::detail
