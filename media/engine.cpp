#include "media/engine.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "media/ambient.hpp"
#include "media/decode.hpp"
#include "media/dispatcher.hpp"
#include "media/gst_util.hpp"
#include "media/output.hpp"
#include "media/tts.hpp"
#include "media/voices.hpp"

namespace stopcall::media {

using detail::OutputPlayer;
using detail::PreparedPlay;
using detail::PreparedSegment;

namespace {

constexpr Output kOutputs[] = {Output::interior, Output::exterior};
constexpr std::size_t index_of(Output o) {
  return o == Output::interior ? 0 : 1;
}
constexpr char kSep = '\x1f';

}  // namespace

struct Engine::Impl {
  Impl(EngineConfig config, Callbacks callbacks)
      : cfg(std::move(config)),
        cb(std::move(callbacks)),
        reporter(dispatcher, cb),
        cache(cfg.cache_bytes),
        voices(cfg.voices) {}

  struct Job {
    bool prerender = false;
    Announcement announcement;
    SpeechItem item;
    std::uint64_t seq = 0;
  };

  void run();
  void prepare(Announcement& a, std::uint64_t seq);
  PcmPtr speech(const std::string& text, const std::string& lang, const std::string& id,
                std::size_t seg);
  PcmPtr clip(const Segment& s, const std::string& id, std::size_t seg);
  // The cache key of `text` spoken by `voice`.
  std::string speech_key(const std::string& text, const std::string& voice) const;
  std::vector<Output> targets(const Announcement& a) const;
  void report_all(const Announcement& a, Result::Outcome o);
  // Takes announcement `id` out of the queue, not yet prepared, reporting `o` (mu held).
  void drop_waiting(const std::string& id, Result::Outcome o);

  EngineConfig cfg;
  Callbacks cb;
  detail::Dispatcher dispatcher;
  detail::Reporter reporter;
  AudioCache cache;
  VoiceMap voices;
  std::unique_ptr<OutputPlayer> players[2];
  std::unique_ptr<detail::AmbientMonitor> ambient;  // after the players: destroyed before them

  std::mutex mu;
  std::condition_variable cv;
  std::vector<Job> jobs;
  std::optional<std::string> preparing;
  bool preparing_cancelled = false;
  bool preparing_expired = false;
  bool stopping = false;
  bool stopped = false;
  std::uint64_t next_seq = 1;
  std::thread worker;

  // the preparation thread's own
  std::optional<Synthesizer> synth;
  std::string synth_error;
  PcmPtr chime;
  std::atomic<std::int64_t> chime_samples{-1};  // its length, for length() (-1: not yet loaded)
};

Engine::Engine(EngineConfig config, Callbacks callbacks)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(callbacks))) {
  detail::ensure_gst();
  Impl& m = *impl_;
  detail::PlayerSettings settings;
  settings.start_lead = m.cfg.start_lead;
  settings.lead = m.cfg.lead;
  settings.fade = m.cfg.fade;
  settings.retry_initial = m.cfg.retry_initial;
  settings.retry_max = m.cfg.retry_max;
  settings.local_hour = m.cfg.local_hour;
  settings.realtime_priority = m.cfg.realtime_priority;
  settings.sink_buffer = m.cfg.sink_buffer;
  settings.sink_period = m.cfg.sink_period;
  if (!m.cfg.interior.sink.empty()) {
    m.players[0] =
        std::make_unique<OutputPlayer>(Output::interior, m.cfg.interior, settings, m.reporter);
  }
  if (!m.cfg.exterior.sink.empty()) {
    m.players[1] =
        std::make_unique<OutputPlayer>(Output::exterior, m.cfg.exterior, settings, m.reporter);
  }
  if (m.cfg.ambient && !m.cfg.ambient->source.empty()) {
    std::vector<OutputPlayer*> targets;
    std::vector<const OutputPlayer*> speakers;
    for (Output o : kOutputs) {
      if (OutputPlayer* p = m.players[index_of(o)].get()) {
        speakers.push_back(p);  // the microphone may hear any of them
        if (m.cfg.ambient->outputs.has(o)) targets.push_back(p);
      }
    }
    m.ambient = std::make_unique<detail::AmbientMonitor>(*m.cfg.ambient, m.cfg.retry_initial,
                                                         m.cfg.retry_max, m.reporter,
                                                         std::move(targets), std::move(speakers));
  }
  m.worker = std::thread([&m] { m.run(); });
}

Engine::~Engine() {
  stop();
}

void Engine::submit(Announcement announcement) {
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.mu);
    if (m.stopping) return;
    m.jobs.push_back({false, std::move(announcement), {}, m.next_seq++});
  }
  m.cv.notify_one();
}

void Engine::cancel(const std::string& id) {
  Impl& m = *impl_;
  std::lock_guard lock(m.mu);  // held while forwarding: orders this against the dispatch
  m.drop_waiting(id, Result::Outcome::cancelled);
  if (m.preparing == id) m.preparing_cancelled = true;
  for (auto& p : m.players) {
    if (p) p->cancel(id);
  }
}

void Engine::expire(const std::string& id) {
  Impl& m = *impl_;
  std::lock_guard lock(m.mu);  // as cancel(): ordered against the dispatch
  m.drop_waiting(id, Result::Outcome::expired);
  if (m.preparing == id) m.preparing_expired = true;
  for (auto& p : m.players) {
    if (p) p->expire(id);
  }
}

void Engine::prerender(std::vector<SpeechItem> items) {
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.mu);
    if (m.stopping) return;
    for (SpeechItem& item : items)
      m.jobs.push_back({true, {}, std::move(item), m.next_seq++});
  }
  m.cv.notify_one();
}

void Engine::set_gain(Output output, double gain_db) {
  if (auto& p = impl_->players[index_of(output)]) p->set_gain_db(gain_db);
}

OutputState Engine::state(Output output) const {
  const auto& p = impl_->players[index_of(output)];
  return p ? p->state() : OutputState::failed;
}

std::optional<AmbientStatus> Engine::ambient() const {
  if (!impl_->ambient) return std::nullopt;
  return impl_->ambient->status();
}

CacheStats Engine::cache_stats() const {
  return impl_->cache.stats();
}

std::optional<std::chrono::milliseconds> Engine::length(const Segment& segment) const {
  using std::chrono::milliseconds;
  const Impl& m = *impl_;
  auto ms = [](std::int64_t samples) {
    return std::chrono::duration_cast<milliseconds>(samples_to_ns(samples));
  };
  switch (segment.kind) {
    case SegmentKind::pause:
      return std::max(segment.pause, milliseconds{0});
    case SegmentKind::chime:
      if (const auto n = m.chime_samples.load(); n >= 0) return ms(n);
      return std::nullopt;
    case SegmentKind::speech: {
      const std::string& text = segment.spoken.empty() ? segment.text : segment.spoken;
      if (text.empty()) return milliseconds{0};
      const std::string voice = m.voices.voice_for(segment.lang).value_or(m.cfg.fallback_voice);
      if (PcmPtr pcm = m.cache.peek(m.speech_key(text, voice))) {
        return ms(static_cast<std::int64_t>(pcm->size()));
      }
      return std::nullopt;
    }
    case SegmentKind::clip:
      return std::nullopt;
  }
  return std::nullopt;
}

void Engine::stop() {
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.mu);
    if (m.stopped) return;
    m.stopped = true;
    m.stopping = true;
  }
  m.cv.notify_one();
  if (m.worker.joinable()) m.worker.join();
  if (m.ambient) m.ambient->stop();  // sends to the players no more
  for (auto& p : m.players) {
    if (p) p->stop();
  }
  m.dispatcher.stop();
}

// ---------------------------------------------------------------- the preparation thread

void Engine::Impl::run() {
  try {
    synth.emplace();
  } catch (const std::exception& e) {
    synth_error = e.what();
  }
  if (!cfg.chime_clip.empty()) {
    try {
      Samples pcm = decode_clip(cfg.chime_clip, cfg.clip_decode_timeout);
      if (cfg.trim_silence) trim_silence(pcm);
      chime = std::make_shared<const Samples>(std::move(pcm));
    } catch (const std::exception& e) {
      reporter.problem({Problem::Kind::clip_fallback,
                        {},
                        0,
                        std::nullopt,
                        std::string(e.what()) + "; using the built-in chime"});
    }
  }
  if (!chime) chime = std::make_shared<const Samples>(make_chime());
  chime_samples.store(static_cast<std::int64_t>(chime->size()));

  std::unique_lock lock(mu);
  for (;;) {
    cv.wait(lock, [&] { return stopping || !jobs.empty(); });
    if (stopping) return;
    // Announcements first, highest priority, oldest first; prerendering when nothing else waits.
    const auto best = std::min_element(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) {
      if (a.prerender != b.prerender) return !a.prerender;
      if (!a.prerender && a.announcement.priority != b.announcement.priority) {
        return a.announcement.priority > b.announcement.priority;
      }
      return a.seq < b.seq;
    });
    Job job = std::move(*best);
    jobs.erase(best);
    if (job.prerender) {
      lock.unlock();
      speech(job.item.text, job.item.lang, {}, 0);
      lock.lock();
      continue;
    }
    preparing = job.announcement.id;
    preparing_cancelled = false;
    preparing_expired = false;
    lock.unlock();
    prepare(job.announcement, job.seq);
    lock.lock();
    preparing.reset();
  }
}

std::vector<Output> Engine::Impl::targets(const Announcement& a) const {
  std::vector<Output> out;
  for (Output o : kOutputs) {
    if (!players[index_of(o)]) continue;
    const bool any = std::any_of(a.segments.begin(), a.segments.end(), [&](const Segment& s) {
      return s.outputs.value_or(a.outputs).has(o);
    });
    if (any) out.push_back(o);
  }
  return out;
}

void Engine::Impl::drop_waiting(const std::string& id, Result::Outcome o) {
  for (auto it = jobs.begin(); it != jobs.end();) {
    if (!it->prerender && it->announcement.id == id) {
      report_all(it->announcement, o);
      it = jobs.erase(it);
    } else {
      ++it;
    }
  }
}

void Engine::Impl::report_all(const Announcement& a, Result::Outcome o) {
  for (Output out : targets(a))
    reporter.result({a.id, out, o, {}});
}

void Engine::Impl::prepare(Announcement& a, std::uint64_t seq) {
  // (preparing_expired and preparing_cancelled are read under mu.)
  auto still_valid = [&] {
    if (a.valid_until && std::chrono::steady_clock::now() >= *a.valid_until) return false;
    return !preparing_expired;
  };
  {
    std::lock_guard lock(mu);
    if (preparing_cancelled || !still_valid()) {
      report_all(a, preparing_cancelled ? Result::Outcome::cancelled : Result::Outcome::expired);
      return;
    }
  }
  const std::vector<Output> outs = targets(a);
  std::vector<PreparedSegment> prepared;
  for (std::size_t i = 0; i < a.segments.size(); ++i) {
    const Segment& s = a.segments[i];
    const bool wanted = std::any_of(outs.begin(), outs.end(),
                                    [&](Output o) { return s.outputs.value_or(a.outputs).has(o); });
    if (!wanted) {
      prepared.push_back({});
      continue;
    }
    PreparedSegment p{i, s.kind, s.text, s.lang, nullptr, 0};
    switch (s.kind) {
      case SegmentKind::chime:
        p.pcm = chime;
        break;
      case SegmentKind::pause:
        p.length = ms_to_samples(std::max(s.pause, std::chrono::milliseconds{0}));
        break;
      case SegmentKind::speech:
        p.pcm = speech(s.spoken.empty() ? s.text : s.spoken, s.lang, a.id, i);
        break;
      case SegmentKind::clip:
        p.pcm = clip(s, a.id, i);
        break;
    }
    if (p.pcm) p.length = static_cast<std::int64_t>(p.pcm->size());
    prepared.push_back(std::move(p));
  }

  std::lock_guard lock(mu);
  if (preparing_cancelled) {
    report_all(a, Result::Outcome::cancelled);
    return;
  }
  if (!still_valid()) {
    report_all(a, Result::Outcome::expired);
    return;
  }
  for (Output o : outs) {
    auto play = std::make_shared<PreparedPlay>();
    play->id = a.id;
    play->priority = a.priority;
    play->valid_until = a.valid_until;
    play->seq = seq;
    for (std::size_t i = 0; i < a.segments.size(); ++i) {
      if (a.segments[i].outputs.value_or(a.outputs).has(o)) play->segments.push_back(prepared[i]);
    }
    const bool audible = std::any_of(play->segments.begin(), play->segments.end(),
                                     [](const PreparedSegment& s) { return s.pcm != nullptr; });
    const bool timed = std::any_of(play->segments.begin(), play->segments.end(),
                                   [](const PreparedSegment& s) { return s.length > 0; });
    if (!audible && !timed) {
      reporter.result({a.id, o, Result::Outcome::failed, {}});
      continue;
    }
    players[index_of(o)]->play(std::move(play));
  }
}

PcmPtr Engine::Impl::speech(const std::string& text, const std::string& lang, const std::string& id,
                            std::size_t seg) {
  if (text.empty()) return nullptr;
  std::string voice;
  if (auto v = voices.voice_for(lang)) {
    voice = *v;
  } else {
    voice = cfg.fallback_voice;
    reporter.problem({Problem::Kind::voice_fallback, id, seg, std::nullopt,
                      "no voice for language '" + lang + "'; speaking with '" + voice + "'"});
  }
  const std::string key = speech_key(text, voice);
  if (PcmPtr hit = cache.get(key)) return hit;
  if (!synth) {
    reporter.problem({Problem::Kind::speech_failed, id, seg, std::nullopt, synth_error});
    return nullptr;
  }
  Samples pcm;
  try {
    pcm = synth->speak(text, voice, cfg.speech_rate_wpm);
  } catch (const std::exception& e) {
    // espeak-ng before 1.51 has no cmn-latn-pinyin; anything else: the fallback voice.
    const std::string second = voice == "cmn-latn-pinyin" ? "cmn" : cfg.fallback_voice;
    try {
      pcm = synth->speak(text, second, cfg.speech_rate_wpm);
      reporter.problem({Problem::Kind::voice_fallback, id, seg, std::nullopt,
                        std::string(e.what()) + "; spoke with '" + second + "'"});
    } catch (const std::exception& e2) {
      reporter.problem({Problem::Kind::speech_failed, id, seg, std::nullopt, e2.what()});
      return nullptr;
    }
  }
  if (cfg.trim_silence) trim_silence(pcm);
  auto ptr = std::make_shared<const Samples>(std::move(pcm));
  cache.put(key, ptr);
  return ptr;
}

std::string Engine::Impl::speech_key(const std::string& text, const std::string& voice) const {
  return std::string("tts") + kSep + voice + kSep + std::to_string(cfg.speech_rate_wpm) + kSep +
         text;
}

PcmPtr Engine::Impl::clip(const Segment& s, const std::string& id, std::size_t seg) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(s.clip, ec);
  const auto mtime = std::filesystem::last_write_time(s.clip, ec);
  const std::string key = std::string("clip") + kSep + s.clip.string() + kSep +
                          std::to_string(size) + kSep +
                          std::to_string(mtime.time_since_epoch().count());
  if (!ec) {
    if (PcmPtr hit = cache.get(key)) return hit;
  }
  try {
    Samples pcm = decode_clip(s.clip, cfg.clip_decode_timeout);
    if (cfg.trim_silence) trim_silence(pcm);
    auto ptr = std::make_shared<const Samples>(std::move(pcm));
    cache.put(key, ptr);
    return ptr;
  } catch (const std::exception& e) {
    const std::string& text = s.spoken.empty() ? s.text : s.spoken;
    reporter.problem({Problem::Kind::clip_fallback, id, seg, std::nullopt,
                      std::string(e.what()) + (text.empty() ? "; no text to speak instead"
                                                            : "; spoke its text instead")});
    return speech(text, s.lang, id, seg);
  }
}

}  // namespace stopcall::media
