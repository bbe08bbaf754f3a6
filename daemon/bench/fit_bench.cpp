// fit_bench: do stop announcements fit the stretch? Replays traces fast through the real
// pipeline (libgps decoding, time filter, ticks, tracker), hands every stop event to the announcer
// as the daemon does, and plays the announcements on a simulated interior timeline with the media
// engine's rules: stop announcements one after the other (equal priority waits its turn), an
// announcement checked for staleness before it starts and at every segment boundary (the daemon
// drops "next stop X" once the bus has reached X, "arriving at X" once it has left X), each
// segment as long as the audio the engine's synthesis path really renders (espeak-ng, trimmed),
// no real-time playback.
// Three announcers side by side: always the full form (before), the form chosen on estimated
// lengths only (an engine whose cache knows nothing), and on the rendered lengths (the daemon,
// which renders every form's words at trip start). Prints figures; never gates.
//
//   fit_bench RUNS.tsv [--list]
//       RUNS.tsv: one run a line: label, bundle, trace (NMEA or gpsd JSON), trip id
//       --list: print each overlap and each stop where a language never heard the name, with the
//       predicted and the actual time to the stop (for the two announcers that choose a form)
//
// Figures per announcer: stop names cut off (a language's name not heard because the announcement
// went stale before it: the bus had reached or left the stop), announcements dropped whole (stale
// before they started), announcements overlapping the next (still playing when the next stop
// announcement was due, which then waits; "then: B", said right after "next stop: A" by design,
// is not due on its own), stops where a language never heard the name, and how often each form
// was used.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/announcer/announcer.hpp"
#include "daemon/gps/trace.hpp"
#include "daemon/pipeline.hpp"
#include "media/pcm.hpp"
#include "media/tts.hpp"
#include "media/voices.hpp"
#include "routes/bundle.hpp"

namespace {

using namespace stopcall;
using daemon::Form;
using std::chrono::milliseconds;
using Type = tracking::StopEvent::Type;

// Lengths of the audio the engine would play: espeak-ng through media's Synthesizer, the engine's
// voice choice and trimming, each distinct text rendered once.
class Renderer {
 public:
  milliseconds operator()(const media::Segment& s) {
    switch (s.kind) {
      case media::SegmentKind::pause:
        return std::max(s.pause, milliseconds{0});
      case media::SegmentKind::chime:
        return ms(static_cast<std::int64_t>(chime_.size()));
      case media::SegmentKind::speech:
      case media::SegmentKind::clip:
        break;
    }
    const std::string& text = s.spoken.empty() ? s.text : s.spoken;
    const std::string voice = voices_.voice_for(s.lang).value_or("en");
    const std::string key = voice + '\x1f' + text;
    if (auto it = done_.find(key); it != done_.end()) return it->second;
    media::Samples pcm;
    try {
      pcm = synth_.speak(text, voice);
    } catch (const std::exception&) {
      pcm = synth_.speak(text, voice == "cmn-latn-pinyin" ? "cmn" : "en");
    }
    media::trim_silence(pcm);
    return done_[key] = ms(static_cast<std::int64_t>(pcm.size()));
  }
  std::size_t rendered() const { return done_.size(); }

 private:
  static milliseconds ms(std::int64_t samples) {
    return std::chrono::duration_cast<milliseconds>(media::samples_to_ns(samples));
  }
  media::Synthesizer synth_;
  media::VoiceMap voices_;
  media::Samples chime_ = media::make_chime();
  std::map<std::string, milliseconds> done_;
};

struct Said {
  std::string trip;
  int stop = 0;
  tracking::Time at{};
  std::string run;  // the run's label
  Type type = Type::next_stop;
  Form form = Form::full;
  std::optional<milliseconds> predicted;  // the time it had (Pipeline::time_to_say)
  bool with_previous = false;             // "then: B", said right after the stop before
  std::string motion;                     // the tracker's speed, acceleration and distance left
  std::vector<milliseconds> lengths;      // per segment, rendered
  std::vector<bool> name;                 // per segment: says the stop name (speech)
  std::vector<std::string> lang;
};

struct Figures {
  std::map<Form, long> forms;
  std::vector<Said> said;
  long announcements = 0, cut_names = 0, dropped = 0, overlaps = 0, stops_missing = 0, stops = 0;
  long overlap_ms_max = 0;
};

struct Run {
  std::string label, bundle, trace, trip;
};

std::vector<Run> read_runs(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<Run> runs;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream f(line);
    Run r;
    if (!std::getline(f, r.label, '\t') || !std::getline(f, r.bundle, '\t') ||
        !std::getline(f, r.trace, '\t') || !std::getline(f, r.trip)) {
      throw std::runtime_error(path + ": expected label, bundle, trace, trip: " + line);
    }
    runs.push_back(std::move(r));
  }
  return runs;
}

using Stops = std::map<std::string, std::map<int, tracking::Time>>;  // per trip and stop: when

// The simulated interior output for one announcer's announcements of one run. `reached`: per trip
// and stop, when the bus reached it (arrived or passed); `left`: when it left it (departed or
// passed). From the bus reaching X (or a stop after it) "next stop X" is stale, from leaving it
// "arriving at X". `list`: print each overlap and each stop where a language never heard the name.
void play(Figures& fig, std::size_t from, const Stops& reached, const Stops& left,
          const std::vector<std::string>& languages, const char* list) {
  // The first time in `times` (per trip and stop) for stop `from` or one after it.
  auto first_from = [](const Stops& times, const std::string& trip_id,
                       int from) -> std::optional<tracking::Time> {
    const auto trip = times.find(trip_id);
    if (trip == times.end()) return std::nullopt;
    std::optional<tracking::Time> first;
    for (auto j = trip->second.lower_bound(from); j != trip->second.end(); ++j)
      first = std::min(first.value_or(j->second), j->second);
    return first;
  };
  // "Next stop X": stale once the bus has reached X. "Arriving at X": once it has left X
  // (departed, passed, or reached a stop after X).
  auto reached_at = [&](const Said& s) -> std::optional<tracking::Time> {
    auto first = first_from(reached, s.trip, s.stop);
    if (s.type != Type::approaching) return first;
    first = first_from(reached, s.trip, s.stop + 1);
    if (const auto gone = first_from(left, s.trip, s.stop); gone && (!first || *gone < *first))
      first = gone;
    return first;
  };
  auto stale = [&](const Said& s, tracking::Time t) {
    const auto first = reached_at(s);
    return first && t >= *first;
  };
  auto ms = [](auto d) {
    return static_cast<long>(std::chrono::duration_cast<milliseconds>(d).count());
  };
  auto describe = [&](const Said& s, tracking::Time start, tracking::Time end) {
    const auto first = reached_at(s);
    std::printf(
        "  %-s %s stop %d %s %s at %s: predicted %ld ms, actual %ld ms, starts +%ld ms, "
        "ends +%ld ms %s\n",
        list, s.run.c_str(), s.stop, std::string(tracking::type_name(s.type)).c_str(),
        std::string(daemon::form_name(s.form)).c_str(), tracking::format_time(s.at).c_str(),
        s.predicted ? s.predicted->count() : -1L, first ? ms(*first - s.at) : -1L, ms(start - s.at),
        ms(end - s.at), s.motion.c_str());
  };
  std::map<std::pair<std::string, int>, std::vector<std::string>> heard;
  tracking::Time busy{};
  for (std::size_t i = from; i < fig.said.size(); ++i) {
    const Said& s = fig.said[i];
    heard[{s.trip, s.stop}];
    ++fig.announcements;
    tracking::Time t = std::max(s.at, busy);
    bool started = false;
    for (std::size_t k = 0; k < s.lengths.size(); ++k) {
      if (stale(s, t)) {
        const long lost = std::count(s.name.begin() + static_cast<long>(k), s.name.end(), true);
        if (started)
          fig.cut_names += lost;
        else
          ++fig.dropped;
        break;
      }
      started = true;
      t += s.lengths[k];
      if (s.name[k]) heard[{s.trip, s.stop}].push_back(s.lang[k]);
    }
    const tracking::Time start = std::max(s.at, busy);
    busy = t;
    // ("Then: B" is not due on its own: it follows "next stop: A" by design.)
    const bool then = i + 1 < fig.said.size() && fig.said[i + 1].with_previous &&
                      fig.said[i + 1].type == Type::next_stop && fig.said[i + 1].at == s.at;
    if (i + 1 < fig.said.size() && fig.said[i + 1].at < t && started && !then) {
      ++fig.overlaps;
      if (list) {
        std::printf("%s overlap:\n", list);
        describe(s, start, t);
        const Said& n = fig.said[i + 1];
        describe(n, n.at, n.at);
      }
      fig.overlap_ms_max =
          std::max(fig.overlap_ms_max, static_cast<long>((t - fig.said[i + 1].at).count()));
    }
  }
  for (const auto& entry : heard) {
    const auto& stop = entry.first;
    const auto& langs =
        entry.second;  // (a lambda may not capture a structured binding in Clang 14)
    ++fig.stops;
    const bool all = std::all_of(languages.begin(), languages.end(), [&](const std::string& l) {
      return std::find(langs.begin(), langs.end(), l) != langs.end();
    });
    if (!all) {
      ++fig.stops_missing;
      if (list) {
        std::printf("%s missing %s stop %d heard:", list, stop.first.c_str(), stop.second);
        for (const auto& l : langs)
          std::printf(" %s", l.c_str());
        std::printf("\n");
        for (std::size_t i = from; i < fig.said.size(); ++i) {
          const Said& s = fig.said[i];
          if (s.trip == stop.first && s.stop == stop.second) describe(s, s.at, s.at);
        }
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bool list = argc == 3 && std::string(argv[2]) == "--list";
  if (argc != 2 && !list) {
    std::fprintf(stderr,
                 "usage: fit_bench RUNS.tsv [--list] (label, bundle, trace, trip per line)\n");
    return 2;
  }
  try {
    const auto runs = read_runs(argv[1]);
    daemon::AnnouncerConfig config;  // the demo's languages: zh-Hans, yue, en
    Renderer render;
    const daemon::SegmentLength rendered = [&](const media::Segment& s) {
      return std::optional<milliseconds>(render(s));
    };
    const daemon::SegmentLength unknown = [](const media::Segment&) {
      return std::optional<milliseconds>{};
    };
    const char* names[] = {"always full", "fit, estimated", "fit, rendered"};
    Figures figures[3];
    long fixes = 0, events = 0;
    for (const auto& run : runs) {
      const auto bundle = routes::Bundle::open(run.bundle);
      daemon::PipelineOptions options;
      options.trip_id = run.trip;
      daemon::Pipeline pipeline(bundle, options);
      gps::TraceReader trace(run.trace);
      daemon::Announcer announcers[3] = {daemon::Announcer(config), daemon::Announcer(config),
                                         daemon::Announcer(config)};
      std::size_t from[3];
      for (int v = 0; v < 3; ++v)
        from[v] = figures[v].said.size();
      Stops reached, left;
      std::vector<tracking::StopEvent> out;
      auto handle = [&] {
        events += static_cast<long>(out.size());
        for (const auto& e : out) {
          const routes::Trip* trip = pipeline.trip();
          if (!trip || e.trip_id != trip->id || !e.stop_index) continue;
          if (e.type == Type::arrived || e.type == Type::passed) {
            reached[e.trip_id].emplace(*e.stop_index, e.time);
          }
          if (e.type == Type::departed || e.type == Type::passed) {
            left[e.trip_id].emplace(*e.stop_index, e.time);
          }
          if (e.type != Type::next_stop && e.type != Type::approaching) continue;
          for (int v = 0; v < 3; ++v) {
            daemon::Fitted f;
            if (v == 0) {
              f.announcements = announcers[v].on_event(*trip, e);
            } else {
              f = announcers[v].on_event(*trip, e, pipeline.time_to_say(e),
                                         v == 1 ? unknown : rendered);
            }
            ++figures[v].forms[f.form];
            for (const auto& a : f.announcements) {
              Said s{trip->id,
                     *e.stop_index,
                     e.time,
                     run.label,
                     e.type,
                     f.form,
                     pipeline.time_to_stop(e),
                     e.with_previous,
                     {},
                     {},
                     {},
                     {}};
              for (const auto& seg : a.segments) {
                s.lengths.push_back(render(seg));
                s.name.push_back(seg.kind == media::SegmentKind::speech);
                s.lang.push_back(seg.lang);
              }
              if (const auto* tr = pipeline.tracker()) {
                char buf[128];
                std::snprintf(buf, sizeof buf, "v=%.1f a=%.2f r=%.0f", tr->speed_mps(),
                              tr->acceleration_mps2(),
                              tr->stop_distances_m()[static_cast<std::size_t>(*e.stop_index)] -
                                  tr->progress_m());
                s.motion = buf;
              }
              figures[v].said.push_back(std::move(s));
            }
          }
        }
        out.clear();
      };
      tracking::Time last{};
      while (auto fix = trace.next()) {
        ++fixes;
        tracking::Time at{};
        if (pipeline.time_filter().peek(*fix, at)) {
          if (last != tracking::Time{} && at > last) {
            for (auto t = last + std::chrono::seconds(1); t < at; t += std::chrono::seconds(1)) {
              pipeline.on_tick(t, out);
              handle();
            }
          }
          if (at > last) last = at;
        }
        pipeline.on_fix(*fix, out);
        handle();
      }
      for (int v = 0; v < 3; ++v)
        play(figures[v], from[v], reached, left, config.languages,
             list && v > 0 ? names[v] : nullptr);
    }
    std::printf(
        "%zu runs, %ld fixes, %ld stop events; %zu distinct texts rendered with espeak-ng\n",
        runs.size(), fixes, events, render.rendered());
    std::printf("%-44s %14s %16s %16s\n", "", names[0], names[1], names[2]);
    auto row = [&](const char* what, auto get) {
      std::printf("%-44s %14ld %16ld %16ld\n", what, get(figures[0]), get(figures[1]),
                  get(figures[2]));
    };
    row("stop announcements played or dropped", [](const Figures& f) { return f.announcements; });
    row("stop names cut off (target 0)", [](const Figures& f) { return f.cut_names; });
    row("announcements overlapping the next (target 0)",
        [](const Figures& f) { return f.overlaps; });
    row("  longest overlap, ms", [](const Figures& f) { return f.overlap_ms_max; });
    row("announcements dropped whole (stop reached)", [](const Figures& f) { return f.dropped; });
    row("stops announced", [](const Figures& f) { return f.stops; });
    row("  of them a language never heard the name",
        [](const Figures& f) { return f.stops_missing; });
    for (Form form : {Form::full, Form::no_transfer, Form::no_chime, Form::brief,
                      Form::fewer_languages, Form::skipped}) {
      const std::string label = "form " + std::string(daemon::form_name(form));
      row(label.c_str(), [&](const Figures& f) {
        const auto it = f.forms.find(form);
        return it == f.forms.end() ? 0L : it->second;
      });
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fit_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
