// Value types of the media interface: what the daemon gives media (announcements, configuration)
// and what media reports back (cues, results, output states, problems). No GStreamer here.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stopcall::media {

// Higher interrupts lower. Equal or lower waits its turn.
enum class Priority : std::uint8_t { information = 0, stop = 1, accessibility = 2, safety = 3 };

enum class Output : std::uint8_t { interior = 0, exterior = 1 };

// A set of outputs.
struct Outputs {
  bool interior = true;
  bool exterior = false;

  static Outputs only(Output o) { return o == Output::interior ? Outputs{} : Outputs{false, true}; }
  static Outputs both() { return {true, true}; }
  bool has(Output o) const { return o == Output::interior ? interior : exterior; }
  friend bool operator==(const Outputs&, const Outputs&) = default;
};

enum class SegmentKind : std::uint8_t { chime, clip, speech, pause };

// One piece of an announcement. `text` is the caption (shown as the subtitle); for speech it is
// also what is spoken unless `spoken` is set (a pronunciation, e.g. a GTFS tts_stop_name).
struct Segment {
  SegmentKind kind = SegmentKind::speech;
  std::string text;
  std::string spoken;
  std::string lang;                    // BCP 47: "zh-Hans", "yue", "en", …
  std::filesystem::path clip;          // kind clip: a file any installed GStreamer decoder reads
  std::chrono::milliseconds pause{0};  // kind pause
  std::optional<Outputs> outputs;      // unset: the announcement's outputs

  static Segment chime(std::string caption = {});
  static Segment speech(std::string text, std::string lang);
  static Segment recorded(std::filesystem::path file, std::string text, std::string lang);
  static Segment silence(std::chrono::milliseconds ms);
};

struct Announcement {
  std::string id;  // unique among announcements in flight; cancel() uses it
  Priority priority = Priority::information;
  std::vector<Segment> segments;
  Outputs outputs;  // the default for segments without their own

  // A deadline: not started after it, and ended at the first segment boundary past it (expired),
  // never played late. Staleness that depends on where the bus is (the bus reached the stop) is
  // decided by the caller, which then calls Engine::expire.
  std::optional<std::chrono::steady_clock::time_point> valid_until;
};

// A subtitle event, reported when the sound it describes is really rendered on an output: the
// output pipeline's running time plus its latency has reached it. Times are on the output's
// timeline: nanoseconds since the output started (for a file output, since the file's first
// sample); continuous across sink fallbacks.
struct Cue {
  enum class Event : std::uint8_t {
    start,      // the segment's first sample is playing now; `end` is when it will end
    cut,        // interrupted by a higher priority; its sound fades out and is gone at `end`
    withdrawn,  // the announcement was cancelled or went stale: take the subtitle down
  };
  Event event = Event::start;
  std::string announcement_id;
  std::size_t segment = 0;  // index into Announcement::segments
  SegmentKind kind = SegmentKind::speech;
  std::string lang;
  std::string text;
  Output output = Output::interior;
  Priority priority = Priority::information;
  std::chrono::nanoseconds start{0};
  std::chrono::nanoseconds end{0};
  // The steady_clock moment the event's sound (start, or the cut point) was rendered.
  std::chrono::steady_clock::time_point rendered_at;

  bool withdrawn() const { return event == Event::withdrawn; }
};

// What became of an announcement on one output. Reported when it is decided (dropped before
// starting) or when its last sound has been rendered (finished, interrupted, cancelled).
struct Result {
  enum class Outcome : std::uint8_t {
    finished,     // every segment played
    interrupted,  // a higher priority took over; later segments were not played
    cancelled,    // cancel(id)
    expired,      // expire(id) or valid_until passed: dropped, never played late
    failed,       // nothing playable (every segment failed)
  };
  std::string announcement_id;
  Output output = Output::interior;
  Outcome outcome = Outcome::finished;
  std::chrono::nanoseconds end{0};  // on the output's timeline (0 when it never started)
};

enum class OutputState : std::uint8_t {
  ok,        // the configured sink is playing
  failed,    // it failed; a fakesink sync=true stands in so cues keep following the timeline
  retrying,  // trying the configured sink again
};

struct OutputStatus {
  Output output = Output::interior;
  OutputState state = OutputState::ok;
  std::string sink;                       // the configured sink description
  std::string error;                      // why it failed (failed / retrying)
  std::chrono::milliseconds retry_in{0};  // failed: when the next attempt is
};

// The automatic gain from the cabin microphone (EngineConfig::ambient).
struct AmbientStatus {
  // ok: level readings arrive; failed: none (a missing or failing source), the configured gains
  // apply and the source is retried; retrying: (re)starting the source, no reading yet.
  OutputState state = OutputState::retrying;
  std::string source;                     // the configured source description
  std::string error;                      // why it failed (failed / retrying)
  std::chrono::milliseconds retry_in{0};  // failed: when the next attempt is
  // The smoothed cabin noise at the microphone, dBFS RMS; unset before the first reading and
  // while the source is failed.
  std::optional<double> ambient_db;
  // The automatic adjustment, added to the configured gain of AmbientConfig::outputs (0 while
  // failed): clamp(ambient + target_above - speech_reference, floor, ceiling).
  double gain_db = 0;
  bool frozen = false;  // the speakers play (or just did): readings are ignored, the estimate held
};

// Something went wrong but media coped (never silent by failure).
struct Problem {
  enum class Kind : std::uint8_t {
    clip_fallback,   // a clip was missing or undecodable: its text was spoken instead
    speech_failed,   // synthesis failed (segment skipped)
    voice_fallback,  // no voice for the language: the default voice spoke it
    sink_failed,     // an output's sink failed (see OutputStatus too)
    late,            // media could not keep up and left a gap (overload)
    ambient_failed,  // the cabin microphone failed: the configured gains apply; it is retried
  };
  Kind kind = Kind::clip_fallback;
  std::string announcement_id;
  std::size_t segment = 0;
  std::optional<Output> output;
  std::string message;
};

// Quiet hours for an output (normally the exterior speaker): between start_hour and end_hour
// local time (wrapping midnight when start > end) the gain is capped at cap_db, or the output is
// muted when cap_db is unset. start_hour == end_hour disables it.
struct QuietHours {
  int start_hour = 22;
  int end_hour = 7;
  std::optional<double> cap_db = -12.0;

  bool active_at(int hour) const;
};

struct OutputConfig {
  // The sink part of a gst-launch description: "alsasink device=hw:1", "pulsesink",
  // "wavenc ! filesink location=x.wav", "fakesink sync=true". Empty: no such output.
  std::string sink;
  double gain_db = 0;
  std::optional<QuietHours> quiet_hours;
};

// Automatic gain from a cabin microphone: a GStreamer source, measured by a `level` element, gives
// a smoothed estimate of the cabin noise; announcements then play `target_above_db` above it. The
// microphone also hears the speakers: readings are ignored while any output plays and for
// `release` after, so the estimate holds. The adjustment changes only between announcements.
struct AmbientConfig {
  // The source part of a gst-launch description: "alsasrc device=hw:2", "pulsesrc",
  // "audiotestsrc wave=pink-noise volume=0.1 is-live=true". Empty: no automatic gain.
  std::string source;
  double target_above_db = 10;  // speech this far above the cabin noise
  // What the microphone reads (dBFS RMS) of announcement speech played at the configured gain:
  // calibrate once per bus model. The adjustment is ambient + target_above - speech_reference,
  // so a cabin at speech_reference - target_above (-40 dBFS by default) gets 0 dB.
  double speech_reference_db = -30;
  double floor_db = -10;  // the adjustment stays within [floor_db, ceiling_db]
  double ceiling_db = 12;
  // Time constant of the estimate. It averages dB, so one loud spike barely moves it.
  std::chrono::milliseconds smoothing{3000};
  std::chrono::milliseconds interval{100};  // one level reading per interval
  std::chrono::milliseconds release{500};   // readings still ignored this long after playing
  Outputs outputs;                          // where the adjustment applies (interior)
};

struct EngineConfig {
  OutputConfig interior{"autoaudiosink", 0, std::nullopt};
  OutputConfig exterior{};  // none by default

  // Language tag -> espeak-ng voice, over the defaults (zh, zh-Hans, zh-CN, cmn -> cmn-latn-pinyin;
  // yue, zh-HK, zh-Hant -> yue; en -> en). See voices.hpp for the lookup order.
  std::map<std::string, std::string> voices;
  std::string fallback_voice = "en";
  int speech_rate_wpm = 0;  // 0: espeak-ng's default (175)

  std::size_t cache_bytes = 32u << 20;  // rendered audio (speech and clips), LRU by bytes
  bool trim_silence = true;             // cut silence at both ends of speech and clips
  std::filesystem::path chime_clip;     // empty: the built-in two-tone chime

  // Trigger to first sample. An announcement on an idle output starts `start_lead` ahead of the
  // output's clock, and its first `lead` of audio is written at once. The mixer takes a 40 ms
  // block's input until the block has passed, so the first chunk has start_lead (up to
  // start_lead + 40 ms) to reach it: only the hand-over to GStreamer's threads. The first sample
  // is rendered start_lead + 40 ms (the mixer's block) + the sink's latency (none for fakesink,
  // whose processing deadline media sets to 0; `sink_buffer` for an audio device) after the
  // announcement is ready. Clamped to 0..lead.
  std::chrono::milliseconds start_lead{10};
  // How far ahead of the mixer media keeps writing while it plays (the margin against the feeder
  // waking late); bounds how late a preemption or cancel takes hold (lead + 20 ms).
  std::chrono::milliseconds lead{50};
  std::chrono::milliseconds fade{100};  // fade-out of an interrupted or cancelled announcement
  std::chrono::milliseconds retry_initial{1000};  // sink retry backoff, doubling up to retry_max
  std::chrono::milliseconds retry_max{30000};
  std::chrono::milliseconds clip_decode_timeout{5000};
  // Audio devices: buffer-time and latency-time of every sink built on GstAudioBaseSink
  // (alsasink, pulsesink, and the one autoaudiosink picks) unless the sink description sets
  // them. buffer-time is the sink's latency (GStreamer's default is 200 ms); the device may round
  // it to whole periods. 0: the sink's default.
  std::chrono::milliseconds sink_buffer{40};
  std::chrono::milliseconds sink_period{10};
  // SCHED_FIFO priority asked for the feeder threads and, while the output sounds, the output
  // pipelines' streaming threads (appsrc, mixer, an audio sink's ring buffer) (0: don't). Idle,
  // those put out silence at normal priority, which costs less. Granted with CAP_SYS_NICE or
  // systemd's LimitRTPRIO=; silently normal priority otherwise.
  int realtime_priority = 10;

  // Local hour 0-23 for quiet hours; unset: the system's local time.
  std::function<int()> local_hour;

  // Automatic gain from a cabin microphone; unset (or an empty source): none.
  std::optional<AmbientConfig> ambient;
};

// Called on the engine's one callback thread, in order, never concurrently with each other.
// Keep them short: post to your io_context and return. They may not call back into Engine's
// stop() or destructor (other Engine calls are fine).
struct Callbacks {
  std::function<void(Cue)> on_cue;
  std::function<void(Result)> on_result;
  std::function<void(OutputStatus)> on_output;
  std::function<void(Problem)> on_problem;
  // The automatic gain changed state, or its adjustment by 0.5 dB or more, or it froze/thawed.
  std::function<void(AmbientStatus)> on_ambient;
};

struct SpeechItem {
  std::string text;
  std::string lang;
};

std::string_view to_string(Priority p);
std::string_view to_string(Output o);
std::string_view to_string(SegmentKind k);
std::string_view to_string(Cue::Event e);
std::string_view to_string(Result::Outcome o);
std::string_view to_string(OutputState s);
std::string_view to_string(Problem::Kind k);
std::optional<Priority> priority_from_string(std::string_view s);  // also "ramp", "info"

}  // namespace stopcall::media
