// One output (interior or exterior speaker): its long-lived GStreamer pipeline and the feeder
// thread that writes announcement audio into it just ahead of the clock. Private to media/.
//
//   appsrc (announcement audio, timestamped) ─▶ audiomixer ─▶ volume ─▶ audioconvert ─▶ <sink>
//
// The live mixer produces a continuous 40 ms block stream on the pipeline clock (silence where
// the appsrc has nothing). The feeder mixes announcements itself (priorities, fades,
// sample-exact pauses) and pushes 20 ms chunks with explicit timestamps: an announcement on an
// idle output starts `start_lead` ahead of the pipeline's running time, and the feeder then keeps
// `lead` ahead. So every segment's position on the output timeline is known exactly. Each cue is
// delivered when the pipeline clock reaches that position plus the pipeline latency: when it is
// really rendered.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "media/dispatcher.hpp"
#include "media/pcm.hpp"
#include "media/types.hpp"

namespace stopcall::media::detail {

struct PreparedSegment {
  std::size_t index = 0;  // in the announcement
  SegmentKind kind = SegmentKind::speech;
  std::string text;
  std::string lang;
  PcmPtr pcm;               // null: silence
  std::int64_t length = 0;  // samples
};

struct PreparedPlay {
  std::string id;
  Priority priority = Priority::information;
  std::vector<PreparedSegment> segments;  // those for this output, in order
  std::function<bool()> still_valid;
  std::optional<std::chrono::steady_clock::time_point> valid_until;
  std::uint64_t seq = 0;

  bool valid() const;
};

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

class OutputPlayer {
 public:
  OutputPlayer(Output which, OutputConfig config, PlayerSettings settings, Reporter& reporter);
  ~OutputPlayer();
  OutputPlayer(const OutputPlayer&) = delete;
  OutputPlayer& operator=(const OutputPlayer&) = delete;

  void play(std::shared_ptr<const PreparedPlay> play);
  void cancel(const std::string& id);
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

  struct Pipe;  // one GStreamer pipeline (output.cpp)
  struct HookEvent {
    enum class Type { error, eos, playing, latency, first_buffer } type;
    int gen = 0;
    std::string text;
    std::uint64_t running_time = 0;
  };
  void post_hook(HookEvent e);  // from GStreamer threads

 private:
  struct Command {
    enum class Type { play, cancel, gain, auto_gain, stop } type;
    std::shared_ptr<const PreparedPlay> play;
    std::string id;
    double gain_db = 0;
  };
  struct Active {
    std::shared_ptr<const PreparedPlay> play;
    std::size_t seg = 0;   // next/current segment
    std::int64_t off = 0;  // samples into it
    std::int64_t seg_start = 0;
    std::optional<std::size_t> last_started;  // index into play->segments
    std::int64_t last_start = 0;              // its timeline span
    std::int64_t last_end = 0;
    std::int64_t fade_from = -1;  // fading out (interrupted/cancelled) from here
    bool late_reported = false;
  };
  using Event = std::variant<Cue, Result>;

  void run();
  void handle_hook(const HookEvent& e);
  void handle_command(Command& c);
  void maintain_pipes();
  void pump();
  void compose_chunk();
  std::int64_t render_current(std::int64_t from);
  bool render_fading(Active& a);  // false when done
  bool start_next(std::int64_t at);
  bool begin(std::shared_ptr<const PreparedPlay> play, std::int64_t at);
  void stop_current(Cue::Event why, Result::Outcome outcome);
  void schedule_cue(const Active& a, std::size_t seg, Cue::Event ev, std::int64_t at,
                    std::int64_t start, std::int64_t end);
  void schedule_result(const Active& a, Result::Outcome o, std::int64_t at);
  void emit_due();
  void apply_gain();
  std::chrono::steady_clock::time_point next_deadline();

  // timeline
  bool timebase_available() const;
  std::int64_t now_pos();
  std::int64_t rendered_pos();
  std::int64_t pipe_pos(const Pipe& p) const;
  void make_ready(Pipe& p);
  std::unique_ptr<Pipe> build(const std::string& sink, bool fallback);
  void destroy(std::unique_ptr<Pipe>& p);
  void pipe_failed(const std::string& why);
  void candidate_failed(const std::string& why);
  void set_state(OutputState s, const std::string& error);
  void push();
  std::int64_t virt_now() const;
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
  std::unique_ptr<Pipe> pipe_;       // what plays now (the configured sink, or the fallback)
  std::unique_ptr<Pipe> candidate_;  // a retry of the configured sink, not yet confirmed
  int next_gen_ = 1;
  bool timeline_started_ = false;
  std::chrono::steady_clock::time_point virt_origin_;  // when no pipeline runs
  std::int64_t virt_offset_ = 0;
  std::int64_t write_pos_ = 0;  // next timeline sample to write
  std::optional<Active> current_;
  std::vector<Active> fading_;
  std::vector<std::shared_ptr<const PreparedPlay>> pending_;  // by priority, then arrival
  std::multimap<std::int64_t, Event> events_;                 // by timeline position
  double gain_db_ = 0;
  double auto_db_ = 0;          // applied
  double auto_db_pending_ = 0;  // applied when the next announcement begins
  double applied_linear_ = -1;
  bool applied_mute_ = false;
  std::chrono::milliseconds backoff_{0};
  std::optional<std::chrono::steady_clock::time_point> retry_at_;
  bool stopping_ = false;
  bool streaming_realtime_ = false;  // the pipelines' streaming threads SCHED_FIFO (when sounding)
  bool reported_ok_ = false;
  std::string last_error_;
  std::int64_t start_lead_ = 0;
  std::int64_t lead_ = 0;
  std::int64_t fade_ = 0;
  std::vector<std::int32_t> mix_;
};

}  // namespace stopcall::media::detail
