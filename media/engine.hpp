// The media engine: plays announcements on the interior and exterior outputs and reports, as each
// segment is really rendered, a Cue for the subtitles. The one header the daemon needs (with
// types.hpp); GStreamer and espeak-ng stay behind it.
//
// Threads (all media's own): one preparation thread (espeak-ng synthesis, clip decoding, the
// audio cache), one feeder thread per output (mixing, timing, its GStreamer pipeline), one
// callback thread (every Callbacks function runs there, in order). No Engine call blocks for long:
// submit/cancel/prerender/set_gain only queue work. The constructor starts the pipelines
// asynchronously; stop() waits for the outputs to end their streams (at most ~2 s).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "media/audio_cache.hpp"
#include "media/types.hpp"

namespace stopcall::media {

class Engine {
 public:
  // Throws std::runtime_error when GStreamer cannot initialise. Nothing else throws: a sink that
  // fails reports failed/retrying and keeps its timeline on a fakesink; if espeak-ng cannot
  // initialise, speech segments report speech_failed (chimes and clips still play).
  Engine(EngineConfig config, Callbacks callbacks);
  ~Engine();  // stop()
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Prepares (synthesis, decoding) on the preparation thread, then plays on each output some
  // segment targets: a higher priority interrupts a lower one (fade), an equal or lower one waits.
  void submit(Announcement announcement);
  // Drops it wherever it is: being prepared, waiting, or playing (fades out, cue withdrawn).
  void cancel(const std::string& id);
  // It is no longer true (the bus reached the stop it names): dropped if it has not started
  // (expired), and a playing one ends at its next segment boundary, so a stop name already
  // started is heard to its end. The caller decides staleness, on its own thread.
  void expire(const std::string& id);
  // Warms the speech cache (e.g. every stop name of the trip at trip start), behind announcements.
  void prerender(std::vector<SpeechItem> items);
  void set_gain(Output output, double gain_db);  // quiet hours still cap it

  OutputState state(Output output) const;  // an output without a sink reads `failed`
  // The automatic gain from the cabin microphone; unset when EngineConfig::ambient is not set.
  std::optional<AmbientStatus> ambient() const;
  CacheStats cache_stats() const;
  // How long `segment` will sound, when media knows without rendering anything (non-blocking): a
  // pause its length; the chime once loaded; speech already rendered (prerender(), or said
  // before), its audio after trimming. nullopt otherwise (not rendered yet, evicted, a clip).
  std::optional<std::chrono::milliseconds> length(const Segment& segment) const;

  // Ends every output's stream (a file sink gets its EOS and a valid header), joins the threads,
  // then delivers the callbacks still queued. Idempotent. Not from inside a callback.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stopcall::media
