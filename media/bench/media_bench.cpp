// media_bench: figures for the media engine, printed, never gated.
//
//   media_bench [--quick] [--keep DIR] [--figures FILE] [--announcements N]
//               [latency|accuracy|idle|memory ...]
//
//   1. trigger -> first sample rendered (submit() to the start cue's rendered moment), p50/p95,
//      for pre-rendered speech, clips (cold decode and cached) and uncached speech;
//   2. |cue start - measured onset| and inter-segment gap error, from WAV files the engine wrote;
//   3. idle CPU of an engine with two outputs (getrusage over 20 s), without and with a cabin
//      microphone (audiotestsrc standing in) for the automatic gain;
//   4. RSS after 10, half-way and after 10,000 announcements (memory should stay flat). Each one
//      is heard for real on a clocked output (about 100 ms: it is cancelled once it is heard), so
//      this takes about 17 minutes; --announcements N runs N instead.
// Headless: fakesink sync=true and wavenc ! filesink outputs. --quick: 1/10 of the latency and
// accuracy counts, 100 announcements.
// --figures FILE also writes every figure as a `name<TAB>value` line (for tools/bench).
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "media/engine.hpp"
#include "media/wav.hpp"

using namespace stopcall::media;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Everything the engine reports, with waits.
struct Sink {
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, std::vector<Cue>> cues;
  std::map<std::string, Result> results;

  Callbacks callbacks() {
    Callbacks cb;
    cb.on_cue = [this](Cue c) {
      std::lock_guard lock(mu);
      cues[c.announcement_id].push_back(std::move(c));
      cv.notify_all();
    };
    cb.on_result = [this](Result r) {
      std::lock_guard lock(mu);
      results[r.announcement_id] = r;
      cv.notify_all();
    };
    cb.on_problem = [](Problem p) {
      std::fprintf(stderr, "  (problem: %s: %s)\n", std::string(to_string(p.kind)).c_str(),
                   p.message.c_str());
    };
    return cb;
  }
  std::optional<Cue> wait_start(const std::string& id, std::chrono::milliseconds timeout = 20s) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, timeout, [&] { return cues.contains(id); });
    if (!cues.contains(id)) return std::nullopt;
    return cues[id].front();
  }
  bool wait_result(const std::string& id, std::chrono::milliseconds timeout = 20s) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [&] { return results.contains(id); });
  }
};

double ms_of(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

void print_stats(const char* what, const std::vector<double>& v, const char* unit = "ms") {
  std::printf("  %-44s n=%-4zu p50 %7.1f %s   p95 %7.1f %s   max %7.1f %s\n", what, v.size(),
              percentile(v, 50), unit, percentile(v, 95), unit,
              v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()), unit);
}

// name -> value, for --figures.
std::vector<std::pair<std::string, double>> figures;

void figure(const std::string& name, double value) {
  figures.emplace_back(name, value);
}

void stats_figures(const std::string& name, const std::vector<double>& v) {
  figure(name + ".n", static_cast<double>(v.size()));
  figure(name + ".p50", percentile(v, 50));
  figure(name + ".p95", percentile(v, 95));
  figure(name + ".max", v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()));
}

long rss_kib() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

long voluntary_switches() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_nvcsw;
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

EngineConfig fakesink_config() {
  EngineConfig config;
  config.interior.sink = "fakesink sync=true";
  config.exterior.sink.clear();
  return config;
}

// Plays one announcement, returns trigger -> first sample rendered; cancels it at its start.
std::optional<double> trigger_latency(Engine& engine, Sink& sink, Announcement a) {
  const std::string id = a.id;
  const auto t0 = Clock::now();
  engine.submit(std::move(a));
  const auto cue = sink.wait_start(id);
  if (!cue) return std::nullopt;
  engine.cancel(id);
  sink.wait_result(id);
  return ms_of(cue->rendered_at - t0);
}

void section_latency(const std::filesystem::path& dir, int n) {
  const EngineConfig defaults;
  std::printf(
      "\n1. trigger -> first sample rendered (fakesink sync=true, start_lead %lld ms, lead %lld "
      "ms)\n",
      static_cast<long long>(defaults.start_lead.count()),
      static_cast<long long>(defaults.lead.count()));
  Sink sink;
  Engine engine(fakesink_config(), sink.callbacks());
  // Warm up: the pipeline is running, the voices are loaded.
  std::vector<SpeechItem> warm;
  for (int i = 0; i < n; ++i)
    warm.push_back({"Next stop: station " + std::to_string(i), "en"});
  warm.push_back({"开始", "zh"});
  engine.prerender(warm);
  std::this_thread::sleep_for(1s);
  const std::filesystem::path clip =
      std::filesystem::path(STOPCALL_SOURCE_DIR) /
      "routes/demo/shenzhen-101-extra/clips/gangxia-name-zh-Hans.wav";
  std::vector<double> cached, clip_cold, clip_warm, uncached;
  for (int i = 0; i < n; ++i) {
    Announcement a;
    a.id = "cached-" + std::to_string(i);
    a.segments = {Segment::speech("Next stop: station " + std::to_string(i), "en")};
    if (auto v = trigger_latency(engine, sink, a)) cached.push_back(*v);

    const auto copy = dir / ("clip-" + std::to_string(i) + ".wav");
    std::filesystem::copy_file(clip, copy, std::filesystem::copy_options::overwrite_existing);
    a.id = "clip-cold-" + std::to_string(i);
    a.segments = {Segment::recorded(copy, "岗厦", "zh")};
    if (auto v = trigger_latency(engine, sink, a)) clip_cold.push_back(*v);
    a.id = "clip-warm-" + std::to_string(i);
    if (auto v = trigger_latency(engine, sink, a)) clip_warm.push_back(*v);

    a.id = "uncached-" + std::to_string(i);
    a.segments = {Segment::speech("Transfer to metro line " + std::to_string(100 + i), "en")};
    if (auto v = trigger_latency(engine, sink, a)) uncached.push_back(*v);
  }
  print_stats("pre-rendered speech (cache hit)", cached);
  print_stats("clip, cached", clip_warm);
  print_stats("clip, first play (GStreamer decode)", clip_cold);
  print_stats("uncached speech (espeak-ng synthesis)", uncached);
  stats_figures("latency.cached_speech", cached);
  stats_figures("latency.clip_cached", clip_warm);
  stats_figures("latency.clip_cold", clip_cold);
  stats_figures("latency.uncached_speech", uncached);
}

// Onset: first 5 ms frame over -50 dBFS at or after `from`; offset: end of the last such frame
// before `to`.
struct Frames {
  std::vector<double> db;
  static constexpr double kFrame = 5.0;
  std::optional<double> onset(double from, double to) const {
    for (auto k = static_cast<std::size_t>(std::max(0.0, from) / kFrame);
         k < db.size() && k * kFrame < to; ++k) {
      if (db[k] > -50) return k * kFrame;
    }
    return std::nullopt;
  }
  std::optional<double> offset(double from, double to) const {
    std::optional<double> last;
    for (auto k = static_cast<std::size_t>(std::max(0.0, from) / kFrame);
         k < db.size() && k * kFrame < to; ++k) {
      if (db[k] > -50) last = (k + 1) * kFrame;
    }
    return last;
  }
};

void section_accuracy(const std::filesystem::path& dir, int n) {
  std::printf("\n2. cue accuracy, measured in the WAV the engine wrote (5 ms frames, -50 dBFS)\n");
  const auto file = dir / "accuracy.wav";
  Sink sink;
  std::vector<int> pauses;
  {
    EngineConfig config = fakesink_config();
    config.interior.sink = "wavenc ! filesink location=\"" + file.string() + "\"";
    Engine engine(config, sink.callbacks());
    const char* words[][2] = {{"车公庙", "zh"},   {"車公廟", "yue"},      {"Chegongmiao", "en"},
                              {"会展中心", "zh"}, {"Civic Center", "en"}, {"科學館", "yue"}};
    for (int i = 0; i < n; ++i) {
      const int pause = 100 + 50 * (i % 8);
      pauses.push_back(pause);
      Announcement a;
      a.id = "acc-" + std::to_string(i);
      a.segments = {Segment::speech(words[i % 6][0], words[i % 6][1]),
                    Segment::silence(std::chrono::milliseconds{pause}),
                    Segment::speech(words[(i + 1) % 6][0], words[(i + 1) % 6][1]),
                    Segment::silence(200ms)};
      engine.submit(a);
      sink.wait_result(a.id);
    }
    std::this_thread::sleep_for(200ms);
    engine.stop();
  }
  const Wav wav = read_wav(file);
  Frames f{frame_rms_db(wav.samples, wav.rate, Frames::kFrame)};
  std::vector<double> onset_error, gap_error;
  for (int i = 0; i < n; ++i) {
    const auto& cues = sink.cues["acc-" + std::to_string(i)];
    if (cues.size() < 3) continue;
    const double s0 = ms_of(cues[0].start), s2 = ms_of(cues[2].start);
    if (auto on = f.onset(s0 - 40, ms_of(cues[0].end))) onset_error.push_back(std::abs(*on - s0));
    if (auto on = f.onset(ms_of(cues[1].start) + 5, ms_of(cues[2].end))) {
      onset_error.push_back(std::abs(*on - s2));
      if (auto off = f.offset(s0, ms_of(cues[1].start) + 5)) {
        gap_error.push_back(std::abs((*on - *off) - pauses[static_cast<std::size_t>(i)]));
      }
    }
  }
  if (std::getenv("MEDIA_BENCH_DEBUG")) {
    for (int i = 0; i < n; ++i) {
      for (const Cue& c : sink.cues["acc-" + std::to_string(i)]) {
        std::printf("    %s seg %zu %s %.1f..%.1f onset %.1f\n", c.announcement_id.c_str(),
                    c.segment, std::string(to_string(c.event)).c_str(), ms_of(c.start),
                    ms_of(c.end), f.onset(ms_of(c.start) - 100, ms_of(c.end)).value_or(-1));
      }
    }
  }
  print_stats("|cue start - measured onset|", onset_error);
  print_stats("|measured gap - configured pause|", gap_error);
  stats_figures("accuracy.onset", onset_error);
  stats_figures("accuracy.gap", gap_error);
}

// CPU of an idle engine with two outputs over 20 s, in % of one core (a few tens of milliseconds
// over 5 s swung by a third from run to run on this shared machine); also its wake-ups per second
// (voluntary context switches: less sensitive to a busy machine than CPU time).
double idle_cpu(const std::optional<std::string>& microphone, double* wakeups_per_s) {
  Sink sink;
  EngineConfig config = fakesink_config();
  config.exterior.sink = "fakesink sync=true";
  if (microphone) {
    config.ambient = AmbientConfig{};
    config.ambient->source = *microphone;
  }
  Engine engine(config, sink.callbacks());
  std::this_thread::sleep_for(1s);
  const double c0 = cpu_seconds();
  const long w0 = voluntary_switches();
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(20s);
  const double used = cpu_seconds() - c0;
  const double wall = ms_of(Clock::now() - t0) / 1000.0;
  *wakeups_per_s = static_cast<double>(voluntary_switches() - w0) / wall;
  std::printf("  %-44s %.3f s CPU in %.2f s: %.2f %% of one core, %.0f wake-ups/s\n",
              microphone ? "with a cabin microphone (audiotestsrc)" : "two outputs", used, wall,
              100.0 * used / wall, *wakeups_per_s);
  if (microphone) {
    if (const auto s = engine.ambient()) {
      std::printf("  %-44s %s, ambient %.1f dBFS, adjustment %+.1f dB\n", "automatic gain",
                  std::string(to_string(s->state)).c_str(), s->ambient_db.value_or(-120),
                  s->gain_db);
    }
  }
  return 100.0 * used / wall;
}

void section_idle_cpu() {
  std::printf("\n3. idle CPU (two outputs, fakesink sync=true, nothing playing)\n");
  double wakeups = 0;
  figure("idle.cpu_pct", idle_cpu(std::nullopt, &wakeups));
  figure("idle.wakeups_per_s", wakeups);
  figure("idle.cpu_pct_with_microphone",
         idle_cpu("audiotestsrc wave=pink-noise volume=0.05 is-live=true samplesperbuffer=2205",
                  &wakeups));
  figure("idle.wakeups_per_s_with_microphone", wakeups);
}

void section_memory(int total) {
  std::printf("\n4. memory over many announcements (unique speech each, 4 MiB cache bound)\n");
  Sink sink;
  EngineConfig config = fakesink_config();
  config.cache_bytes = 4u << 20;
  config.speech_rate_wpm = 300;
  Engine engine(config, sink.callbacks());
  long after10 = 0, half = 0;
  std::size_t cache_half = 0;
  const auto t0 = Clock::now();
  auto make = [](int i) {
    Announcement a;
    a.id = "m-" + std::to_string(i);
    a.priority = Priority::stop;
    a.segments = {Segment::chime(), Segment::speech("Stop " + std::to_string(i), "en")};
    return a;
  };
  // Pipelined: the next one is prepared and waiting while this one starts; this one is cancelled
  // as soon as it is heard, so the next starts at once (crossfading with its fade-out).
  engine.submit(make(0));
  for (int i = 0; i < total; ++i) {
    if (i + 1 < total) engine.submit(make(i + 1));
    const std::string id = "m-" + std::to_string(i);
    if (!sink.wait_start(id)) {
      std::printf("  announcement %d never started\n", i);
      return;
    }
    engine.cancel(id);
    if (i >= 2) {
      const std::string old = "m-" + std::to_string(i - 2);
      sink.wait_result(old);
      std::lock_guard lock(sink.mu);  // keep the bench's own records flat too
      sink.cues.erase(old);
      sink.results.erase(old);
    }
    if (i + 1 == 10) {
      after10 = rss_kib();
      std::printf("  RSS after 10: %ld KiB\n", after10);
    }
    if (i + 1 == total / 2) {
      half = rss_kib();
      cache_half = engine.cache_stats().bytes;
    }
    if ((i + 1) % std::max(1, total / 10) == 0 && i + 1 < total) {
      std::printf("  RSS after %d: %ld KiB\n", i + 1, rss_kib());
    }
  }
  const long after = rss_kib();
  const CacheStats cs = engine.cache_stats();
  std::printf("  RSS after %d: %ld KiB (%+ld KiB since 10); %.1f s\n", total, after,
              after - after10, ms_of(Clock::now() - t0) / 1000.0);
  std::printf("  cache: %zu entries, %zu KiB, %zu evictions\n", cs.entries, cs.bytes / 1024,
              cs.evictions);
  const double beyond_cache =
      static_cast<double>(after - half) -
      (static_cast<double>(cs.bytes) - static_cast<double>(cache_half)) / 1024.0;
  std::printf(
      "  RSS growth over the second half (%d -> %d): %+ld KiB, %+.0f KiB beyond the cache's\n",
      total / 2, total, after - half, beyond_cache);
  figure("memory.announcements", total);
  figure("memory.rss_after10_kib", static_cast<double>(after10));
  figure("memory.rss_growth_kib", static_cast<double>(after - after10));
  figure("memory.rss_growth_second_half_kib", static_cast<double>(after - half));
  figure("memory.rss_growth_second_half_beyond_cache_kib", beyond_cache);
  figure("memory.cache_kib", static_cast<double>(cs.bytes / 1024));
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  bool quick = false;
  int announcements = 10000;
  std::optional<std::filesystem::path> keep;
  std::optional<std::filesystem::path> figures_file;
  std::vector<std::string> sections;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else if (std::strcmp(argv[i], "--keep") == 0 && i + 1 < argc) {
      keep = argv[++i];
    } else if (std::strcmp(argv[i], "--figures") == 0 && i + 1 < argc) {
      figures_file = argv[++i];
    } else if (std::strcmp(argv[i], "--announcements") == 0 && i + 1 < argc) {
      announcements = std::max(20, std::atoi(argv[++i]));
    } else if (argv[i][0] != '-') {
      sections.emplace_back(argv[i]);
    } else {
      std::fprintf(stderr,
                   "usage: media_bench [--quick] [--keep DIR] [--figures FILE] "
                   "[--announcements N] [latency|accuracy|idle|memory ...]\n");
      return 2;
    }
  }
  const auto dir =
      keep ? *keep
           : std::filesystem::temp_directory_path() / ("media_bench." + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::printf("media_bench%s (figures only, no targets gate)\n", quick ? " --quick" : "");
  try {
    auto wanted = [&](const char* name) {
      return sections.empty() ||
             std::find(sections.begin(), sections.end(), name) != sections.end();
    };
    if (wanted("latency")) section_latency(dir, quick ? 5 : 30);
    if (wanted("accuracy")) section_accuracy(dir, quick ? 4 : 16);
    if (wanted("idle")) section_idle_cpu();
    if (wanted("memory")) section_memory(quick ? 100 : announcements);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  if (figures_file) {
    std::ofstream out(*figures_file);
    for (const auto& [name, value] : figures)
      out << name << '\t' << value << '\n';
    if (!out) {
      std::fprintf(stderr, "error: cannot write %s\n", figures_file->c_str());
      return 1;
    }
  }
  if (!keep) std::filesystem::remove_all(dir);
  return 0;
}
