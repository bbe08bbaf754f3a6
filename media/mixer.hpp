// The mixer of one output, without GStreamer: which announcement plays (priorities, the queue,
// staleness), how it is written onto the output's timeline (segments and pauses to the sample,
// the fade of one that is cut off, crossfaded with the one that takes over), and at which
// position each cue and result falls due. It knows time only as positions on the output's
// timeline (samples, timeline.hpp): the output tells it where the clock is, takes the chunks it
// composes and hands the events on when their position is rendered. Private to media/; one thread
// (the output's feeder) calls it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

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
  std::optional<std::chrono::steady_clock::time_point> valid_until;
  std::uint64_t seq = 0;

  bool valid() const;
};

// What the mixer hands on, on the calling thread, in the order it happens.
class MixerSink {
 public:
  virtual void cue(Cue c) = 0;
  virtual void result(Result r) = 0;
  virtual void problem(Problem p) = 0;
  // An announcement of `priority` begins (the output applies a gain it held back meanwhile; quiet
  // hours do not hold a safety announcement down).
  virtual void begins(Priority priority) = 0;
  // The composed samples of timeline positions [at, at + Mixer::kChunk).
  virtual void chunk(std::span<const std::int16_t> samples, std::int64_t at) = 0;

 protected:
  ~MixerSink() = default;
};

class Mixer {
 public:
  static constexpr std::int64_t kChunk = kRate / 50;  // 20 ms: the chunks it composes
  // A chunk this far behind the clock may already be lost: the mixer skips ahead instead.
  static constexpr std::int64_t kLateSlack = kChunk;

  // `start_lead`: how far ahead of the clock an announcement on an idle output starts (at most
  // `lead`); `lead`: how far ahead it composes; `fade`: the fade-out of a cut announcement.
  Mixer(Output which, std::chrono::milliseconds start_lead, std::chrono::milliseconds lead,
        std::chrono::milliseconds fade, MixerSink& sink);

  // A new announcement. One that outranks the announcement playing cuts in at once when the
  // timeline runs (`timed`); any other waits its turn, by priority then arrival. One that would
  // cut in but is no longer valid is dropped as expired.
  void play(std::shared_ptr<const PreparedPlay> play, bool timed);
  // Drops a waiting announcement (cancelled at once), and takes a playing one off (withdrawn,
  // fading out).
  void cancel(const std::string& id);
  // Drops a waiting announcement (expired at once), and ends a playing one at its next segment
  // boundary (expired): a stop name already started is heard to its end.
  void expire(const std::string& id);
  // Composes chunks until it is `lead` ahead of `now`, the position being put out now. An idle
  // output starts the first waiting announcement `start_lead` ahead of it.
  void fill(std::int64_t now);
  // Hands on the cues and results due at `rendered`, the position being heard at the steady time
  // `at`; a cue's rendered_at is the moment its own position was heard.
  void emit_due(std::int64_t rendered, std::chrono::steady_clock::time_point at);

  // Nothing playing or fading out.
  bool idle() const { return !current_ && fading_.empty(); }
  // Playing, fading out, or still to report what was heard.
  bool sounding() const { return !idle() || !events_.empty(); }
  // The position the clock must reach for the next chunk to be composed; unset while there is
  // nothing to compose or wait for.
  std::optional<std::int64_t> next_fill() const;
  // The position of the next cue or result; unset when none is due.
  std::optional<std::int64_t> next_event() const;
  // The next position it writes.
  std::int64_t write_position() const { return write_pos_; }

 private:
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
    bool stale = false;  // expire(): ends at the next segment boundary
  };
  using Event = std::variant<Cue, Result>;

  void compose_chunk();
  std::int64_t render_current(std::int64_t from);
  bool render_fading(Active& a);  // false when done
  bool start_next(std::int64_t at);
  void begin(std::shared_ptr<const PreparedPlay> play);
  void stop_current(Cue::Event why, Result::Outcome outcome);
  // Takes waiting announcement `id` out, reporting `outcome` at once.
  void drop_pending(const std::string& id, Result::Outcome outcome);
  void schedule_cue(const Active& a, std::size_t seg, Cue::Event ev, std::int64_t at,
                    std::int64_t start, std::int64_t end);
  void schedule_result(const Active& a, Result::Outcome o, std::int64_t at);

  const Output which_;
  const std::int64_t start_lead_;
  const std::int64_t lead_;
  const std::int64_t fade_;
  MixerSink& sink_;

  std::int64_t write_pos_ = 0;  // next timeline sample to write
  std::optional<Active> current_;
  std::vector<Active> fading_;
  std::vector<std::shared_ptr<const PreparedPlay>> pending_;  // by priority, then arrival
  std::multimap<std::int64_t, Event> events_;                 // by timeline position
  std::vector<std::int32_t> mix_;
  std::vector<std::int16_t> out_;
};

}  // namespace stopcall::media::detail
