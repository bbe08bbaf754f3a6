// Real-time scheduling for the threads that carry an output's sound: the feeder thread, and the
// pipelines' streaming threads while the output sounds. Refused without CAP_SYS_NICE or
// RLIMIT_RTPRIO: the threads keep their normal priority. Private to media/.
#pragma once

#include <sys/types.h>

#include <mutex>
#include <vector>

namespace stopcall::media::detail {

// Asks for SCHED_FIFO at `priority` for the calling thread (0 or less: leaves it as it is).
void make_current_thread_realtime(int priority);

// The streaming threads of one pipeline (the appsrc's, the mixer's, an audio sink's ring buffer
// thread), registered by each as it starts and removed as it leaves, so the feeder can change
// their scheduling: SCHED_FIFO while the output sounds, normal while it is idle. An idle output's
// mixer only puts out silence, and a SCHED_FIFO wake-up costs more: it preempts whatever runs,
// and has no timer slack, so the clock wait takes a second short sleep.
struct StreamThreads {
  std::mutex mu;
  std::vector<pid_t> tids;
  int priority = 0;  // 0: never touched
  bool realtime = false;

  void enter();  // on the streaming thread, as it starts
  void leave();  // on the streaming thread, as it leaves
  void set_realtime(bool on);
};

}  // namespace stopcall::media::detail
