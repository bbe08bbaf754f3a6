// Helpers for the media tests: a recorder for the engine's callbacks, scratch folders, test tones
// and measurements on the WAV files the engine writes.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <numbers>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "media/engine.hpp"
#include "media/wav.hpp"

namespace stopcall::media::test {

using namespace std::chrono_literals;

// A fresh folder under the build tree, removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::random_device rd;
    path_ =
        std::filesystem::path(STOPCALL_BINARY_DIR) / "media-test-scratch" /
        (std::string(info->test_suite_name()) + "." + info->name() + "." + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    if (!::testing::Test::HasFailure()) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Collects everything the engine reports; wait() blocks until a predicate over it holds.
class Recorder {
 public:
  Callbacks callbacks() {
    Callbacks cb;
    cb.on_cue = [this](Cue c) { add(cues_, std::move(c)); };
    cb.on_result = [this](Result r) { add(results_, std::move(r)); };
    cb.on_output = [this](OutputStatus s) { add(states_, std::move(s)); };
    cb.on_problem = [this](Problem p) { add(problems_, std::move(p)); };
    cb.on_ambient = [this](AmbientStatus s) { add(ambient_, std::move(s)); };
    return cb;
  }

  template <typename Pred>
  bool wait(Pred pred, std::chrono::milliseconds timeout = 20s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return pred(); });
  }
  bool wait_result(const std::string& id, Output out = Output::interior,
                   std::chrono::milliseconds timeout = 20s) {
    return wait([&] { return find_result(id, out).has_value(); }, timeout);
  }
  bool wait_cue(const std::string& id, std::size_t segment, Cue::Event ev = Cue::Event::start,
                std::chrono::milliseconds timeout = 20s) {
    return wait([&] { return find_cue(id, segment, ev).has_value(); }, timeout);
  }

  std::vector<Cue> cues() {
    std::lock_guard lock(mu_);
    return cues_;
  }
  std::vector<Cue> cues(const std::string& id, Output out = Output::interior) {
    std::lock_guard lock(mu_);
    std::vector<Cue> out_cues;
    for (const Cue& c : cues_) {
      if (c.announcement_id == id && c.output == out) out_cues.push_back(c);
    }
    return out_cues;
  }
  std::optional<Cue> cue(const std::string& id, std::size_t segment,
                         Cue::Event ev = Cue::Event::start, Output out = Output::interior) {
    std::lock_guard lock(mu_);
    return find_cue(id, segment, ev, out);
  }
  std::optional<Result> result(const std::string& id, Output out = Output::interior) {
    std::lock_guard lock(mu_);
    return find_result(id, out);
  }
  std::vector<OutputStatus> states() {
    std::lock_guard lock(mu_);
    return states_;
  }
  std::vector<Problem> problems() {
    std::lock_guard lock(mu_);
    return problems_;
  }
  std::vector<AmbientStatus> ambient() {
    std::lock_guard lock(mu_);
    return ambient_;
  }

 private:
  template <typename T>
  void add(std::vector<T>& v, T value) {
    {
      std::lock_guard lock(mu_);
      v.push_back(std::move(value));
    }
    cv_.notify_all();
  }
  std::optional<Cue> find_cue(const std::string& id, std::size_t segment, Cue::Event ev,
                              Output out = Output::interior) const {
    for (const Cue& c : cues_) {
      if (c.announcement_id == id && c.segment == segment && c.event == ev && c.output == out) {
        return c;
      }
    }
    return std::nullopt;
  }
  std::optional<Result> find_result(const std::string& id, Output out) const {
    for (const Result& r : results_) {
      if (r.announcement_id == id && r.output == out) return r;
    }
    return std::nullopt;
  }

  // Recursive: wait() predicates may call the accessors.
  std::recursive_mutex mu_;
  std::condition_variable_any cv_;
  std::vector<Cue> cues_;
  std::vector<Result> results_;
  std::vector<OutputStatus> states_;
  std::vector<Problem> problems_;
  std::vector<AmbientStatus> ambient_;
};

// Polls `pred` every 10 ms until it holds or the timeout passes.
template <typename Pred>
bool poll(Pred pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

inline std::string wav_sink(const std::filesystem::path& file) {
  return "wavenc ! filesink location=\"" + file.string() + "\"";
}

// An engine config whose interior output writes `file` (no exterior).
inline EngineConfig file_config(const std::filesystem::path& file) {
  ::unsetenv("GST_DEBUG");
  EngineConfig config;
  config.interior.sink = wav_sink(file);
  config.exterior.sink.clear();
  return config;
}

// A sine tone with 5 ms ramps, amplitude 0.3 (-13.5 dBFS RMS), written as a WAV clip.
inline std::filesystem::path write_tone(const std::filesystem::path& file, double freq,
                                        std::chrono::milliseconds length, int rate = kRate) {
  const auto n = static_cast<std::size_t>(length.count() * rate / 1000);
  const auto ramp = static_cast<std::size_t>(rate / 200);
  Samples pcm(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double env =
        std::min({1.0, static_cast<double>(i) / ramp, static_cast<double>(n - i) / ramp});
    pcm[i] = static_cast<std::int16_t>(
        std::lround(0.3 * 32767 * env * std::sin(2 * std::numbers::pi * freq * i / rate)));
  }
  write_wav(file, pcm, rate);
  return file;
}

inline double ms(std::chrono::nanoseconds ns) {
  return static_cast<double>(ns.count()) / 1e6;
}

// Measurements on a rendered WAV file, in milliseconds from its first sample.
class Analysis {
 public:
  static constexpr double kFrameMs = 5.0;
  static constexpr double kSound = -50.0;    // dBFS: a frame louder than this has sound
  static constexpr double kSilence = -70.0;  // dBFS: quieter than this is silence

  explicit Analysis(const std::filesystem::path& file) : wav_(read_wav(file)) {
    frame_ = static_cast<std::size_t>(wav_.rate * kFrameMs / 1000);
    rms_ = frame_rms_db(wav_.samples, wav_.rate, kFrameMs);
  }

  const Wav& wav() const { return wav_; }
  double length_ms() const { return 1000.0 * wav_.samples.size() / wav_.rate; }

  // Start of the first frame in [from, to) louder than `threshold`.
  std::optional<double> first_sound(double from, double to, double threshold = kSound) const {
    for (std::size_t k = index(from); k < rms_.size() && k * kFrameMs < to; ++k) {
      if (rms_[k] > threshold) return k * kFrameMs;
    }
    return std::nullopt;
  }
  // End of the last frame in [from, to) louder than `threshold`.
  std::optional<double> last_sound(double from, double to, double threshold = kSound) const {
    std::optional<double> last;
    for (std::size_t k = index(from); k < rms_.size() && k * kFrameMs < to; ++k) {
      if (rms_[k] > threshold) last = (k + 1) * kFrameMs;
    }
    return last;
  }
  // The loudest frame in [from, to), dBFS.
  double peak(double from, double to) const {
    double best = -120;
    for (std::size_t k = index(from); k < rms_.size() && k * kFrameMs < to; ++k) {
      best = std::max(best, rms_[k]);
    }
    return best;
  }
  // End of the last 20 ms window in [from, to) where the tone `freq` is above `threshold`.
  std::optional<double> last_tone(double freq, double from, double to,
                                  double threshold = -35.0) const {
    std::optional<double> last;
    const auto win = static_cast<std::size_t>(wav_.rate / 50);
    for (double t = std::max(0.0, from); t + 20 <= to; t += kFrameMs) {
      const auto first = static_cast<std::size_t>(t * wav_.rate / 1000);
      if (first + win > wav_.samples.size()) break;
      if (tone_level_db(wav_.samples, first, win, wav_.rate, freq) > threshold) last = t + 20;
    }
    return last;
  }
  std::optional<double> first_tone(double freq, double from, double to,
                                   double threshold = -35.0) const {
    const auto win = static_cast<std::size_t>(wav_.rate / 50);
    for (double t = std::max(0.0, from); t + 20 <= to; t += kFrameMs) {
      const auto first = static_cast<std::size_t>(t * wav_.rate / 1000);
      if (first + win > wav_.samples.size()) break;
      if (tone_level_db(wav_.samples, first, win, wav_.rate, freq) > threshold) return t;
    }
    return std::nullopt;
  }
  double tone_level(double freq, double from, double to) const {
    const auto first = static_cast<std::size_t>(from * wav_.rate / 1000);
    const auto count = static_cast<std::size_t>((to - from) * wav_.rate / 1000);
    return tone_level_db(wav_.samples, first, count, wav_.rate, freq);
  }

 private:
  std::size_t index(double at_ms) const {
    return static_cast<std::size_t>(std::max(0.0, std::ceil(at_ms / kFrameMs)));
  }
  Wav wav_;
  std::size_t frame_ = 0;
  std::vector<double> rms_;
};

}  // namespace stopcall::media::test
