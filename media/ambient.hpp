// The cabin microphone for the automatic gain: its own small GStreamer pipeline
//
//   <source> ─▶ audioconvert ─▶ mono ─▶ level (one RMS reading per interval) ─▶ fakesink sync=true
//
// and a thread that feeds the readings to AutoGain, sends the adjustment to the outputs it applies
// to, and reports AmbientStatus. A source that fails (or gives no reading for 3 s) reports one
// ambient_failed problem, the outputs go back to their configured gain, and it is retried with
// the sinks' backoff. Private to media/.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "media/auto_gain.hpp"
#include "media/dispatcher.hpp"
#include "media/types.hpp"

namespace stopcall::media::detail {

class OutputPlayer;

class AmbientMonitor {
 public:
  // `targets` get the adjustment; while any of `speakers` sounds, readings are ignored. Both must
  // outlive the monitor's stop().
  AmbientMonitor(AmbientConfig config, std::chrono::milliseconds retry_initial,
                 std::chrono::milliseconds retry_max, Reporter& reporter,
                 std::vector<OutputPlayer*> targets, std::vector<const OutputPlayer*> speakers);
  ~AmbientMonitor();
  AmbientMonitor(const AmbientMonitor&) = delete;
  AmbientMonitor& operator=(const AmbientMonitor&) = delete;

  AmbientStatus status() const;
  void stop();  // tears the pipeline down and joins; idempotent

  struct Source;  // the GStreamer pipeline (ambient.cpp)
  struct Hook {
    enum class Type { reading, error, eos } type;
    int gen = 0;
    double rms_db = 0;
    std::string text;
  };
  void post_hook(Hook h);  // from GStreamer threads

 private:
  void run();
  void start();
  void on_reading(double rms_db);
  void failed(const std::string& why);
  void send_adjustment();
  void update(AmbientStatus s);  // stores it; reports it when it is news
  std::chrono::steady_clock::time_point next_deadline() const;

  const AmbientConfig config_;
  const std::chrono::milliseconds retry_initial_;
  const std::chrono::milliseconds retry_max_;
  const std::chrono::steady_clock::duration silent_timeout_;
  Reporter& reporter_;
  const std::vector<OutputPlayer*> targets_;
  const std::vector<const OutputPlayer*> speakers_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Hook> hooks_;
  bool stopping_ = false;
  AmbientStatus status_;  // what status() returns
  std::thread thread_;

  // the monitor thread's own
  AutoGain gain_;
  std::unique_ptr<Source> source_;
  int next_gen_ = 1;
  std::chrono::steady_clock::time_point started_;  // of the current source
  std::optional<std::chrono::steady_clock::time_point> last_reading_;
  std::optional<std::chrono::steady_clock::time_point> retry_at_;
  std::chrono::milliseconds backoff_{0};
  bool problem_reported_ = false;
  std::optional<double> sent_db_;          // last adjustment sent to the targets
  std::optional<AmbientStatus> reported_;  // last status given to on_ambient
};

}  // namespace stopcall::media::detail
