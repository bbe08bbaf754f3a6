// One output (interior or exterior speaker): its long-lived GStreamer pipeline and the feeder
// thread that writes announcement audio into it just ahead of the clock. Private to media/.
//
//   appsrc (announcement audio, timestamped) ─▶ audiomixer ─▶ volume ─▶ audioconvert ─▶ <sink>
//
// The live mixer produces a continuous 40 ms block stream on the pipeline clock (silence where
// the appsrc has nothing). The feeder's Mixer (mixer.hpp) mixes announcements itself (priorities,
// fades, sample-exact pauses) into 20 ms chunks, pushed with explicit timestamps: an announcement
// on an idle output starts `start_lead` ahead of the pipeline's running time, and the feeder then
// keeps `lead` ahead. So every segment's position on the output's Timeline (timeline.hpp) is known
// exactly. Each cue is delivered when the pipeline clock reaches that position plus the pipeline
// latency: when it is really rendered.
//
// output.cpp is the feeder thread (commands, its loop and deadlines, what it reports);
// output_pipeline.cpp the pipelines (build, GStreamer's messages, fallback and retry, the gain).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>

#include "media/dispatcher.hpp"
#include "media/mixer.hpp"
#include "media/timeline.hpp"
#include "media/types.hpp"

namespace stopcall::media::detail {

struct PlayerSettings {
  std::chrono::milliseconds start_lead{10};
  std::chrono::milliseconds lead{50};
  std::chrono::milliseconds fade{100};
  std::chrono::milliseconds retry_initial{1000};
  std::chrono::milliseconds retry_max{30000};
  std::function<int()> local_hour;
  int realtime_priority = 0;
  std::chrono::milliseconds sink_buffer{40};  // audio sinks' buffer-time; 0: the sink's default
  std::chrono::milliseconds sink_period{10};  // audio sinks' latency-time; 0: the sink's default
};

class OutputPlayer final : private MixerSink {
 public:
  OutputPlayer(Output which, OutputConfig config, PlayerSettings settings, Reporter& reporter);
  ~OutputPlayer();
  OutputPlayer(const OutputPlayer&) = delete;
  OutputPlayer& operator=(const OutputPlayer&) = delete;

  void play(std::shared_ptr<const PreparedPlay> play);
  void cancel(const std::string& id);
  void expire(const std::string& id);  // Mixer::expire
  void set_gain_db(double db);
  // The automatic gain's adjustment, added to the gain; takes effect at the next announcement
  // (at once when idle), so it never changes in the middle of one.
  void set_auto_gain_db(double db);
  OutputState state() const;
  // The last moment this output was sounding (now while it is: from the start of an announcement
  // until its last sound is rendered); unset if it never has. Any thread.
  std::optional<std::chrono::steady_clock::time_point> last_sounded() const;
  // Ends the stream (EOS, so a file sink is finalised), tears the pipeline down, joins.
  void stop();

  struct Pipe;  // one GStreamer pipeline (output_pipeline.cpp)
  struct HookEvent {
    enum class Type { error, eos, playing, latency, first_buffer } type;
    int gen = 0;
    std::string text;
    std::uint64_t running_time = 0;
  };
  void post_hook(HookEvent e);  // from GStreamer threads

 private:
  struct Command {
    enum class Type { play, cancel, expire, gain, auto_gain, stop } type;
    std::shared_ptr<const PreparedPlay> play;
    std::string id;
    double gain_db = 0;
  };
  // Frees a Pipe where its type is complete (output_pipeline.cpp).
  struct PipeDelete {
    void operator()(Pipe* p) const;
  };
  using PipePtr = std::unique_ptr<Pipe, PipeDelete>;

  // the feeder thread (output.cpp)
  void run();
  void handle_command(Command& c);
  void pump();
  void emit_due();
  std::chrono::steady_clock::time_point next_deadline();
  void set_state(OutputState s, const std::string& error);
  // MixerSink
  void cue(Cue c) override;
  void result(Result r) override;
  void problem(Problem p) override;
  void begins(Priority priority) override;
  void chunk(std::span<const std::int16_t> samples, std::int64_t at) override;

  // the pipelines (output_pipeline.cpp)
  void handle_hook(const HookEvent& e);
  std::int64_t now_pos();
  std::int64_t rendered_pos();
  std::int64_t running_time(const Pipe& p) const;
  void make_ready(Pipe& p);
  PipePtr build(const std::string& sink, bool fallback);
  void destroy(PipePtr& p);
  void pipe_failed(const std::string& why);
  void candidate_failed(const std::string& why);
  void maintain_pipes();
  // When the pipelines want the feeder awake (a retry, a start-up that times out, the stall
  // check); time_point::max() when never.
  std::chrono::steady_clock::time_point pipes_deadline(
      std::chrono::steady_clock::time_point now) const;
  // Gives the pipelines' streaming threads SCHED_FIFO while the output sounds (realtime.hpp).
  void apply_streaming_priority();
  void apply_gain();
  void finish_stream();

  const Output which_;
  const OutputConfig config_;
  const PlayerSettings settings_;
  Reporter& reporter_;

  // shared with callers and GStreamer hooks
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Command> commands_;
  std::deque<HookEvent> hooks_;
  OutputState state_ = OutputState::ok;
  std::thread thread_;
  std::atomic<bool> sounding_{false};
  std::atomic<std::chrono::steady_clock::rep> last_sounded_{0};  // since the epoch; 0: never

  // the feeder thread's own
  Mixer mixer_;
  Timeline timeline_;
  PipePtr pipe_;       // what plays now (the configured sink, or the fallback)
  PipePtr candidate_;  // a retry of the configured sink, not yet confirmed
  int next_gen_ = 1;
  double gain_db_ = 0;
  double auto_db_ = 0;          // applied
  double auto_db_pending_ = 0;  // applied when the next announcement begins
  // The announcement playing (or last played) is a safety one: quiet hours do not apply to it.
  bool safety_ = false;
  double applied_linear_ = -1;
  bool applied_mute_ = false;
  std::chrono::milliseconds backoff_{0};
  std::optional<std::chrono::steady_clock::time_point> retry_at_;
  bool stopping_ = false;
  bool streaming_realtime_ = false;  // the pipelines' streaming threads SCHED_FIFO (when sounding)
  bool reported_ok_ = false;
  std::string last_error_;
};

}  // namespace stopcall::media::detail
