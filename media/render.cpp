#include "media/render.hpp"

#include <CLI/CLI.hpp>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "media/announcement_json.hpp"
#include "media/engine.hpp"
#include "media/gst_util.hpp"

namespace stopcall::media {

int render_main(int argc, char** argv) {
  CLI::App app{"Renders one announcement (JSON, see media/README.md) to a WAV file with its cues."};
  std::string announcement_path, out_path, cues_path;
  std::vector<std::string> voice_args;
  int rate_wpm = 0;
  double gain_db = 0;
  app.add_option("--announcement", announcement_path, "the announcement, a JSON file")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--out", out_path, "the WAV file to write (16-bit mono, 22050 Hz)")->required();
  app.add_option("--cues", cues_path, "the cues, one JSON object per line")->required();
  app.add_option("--voice", voice_args, "LANG=VOICE, an espeak-ng voice for a language tag");
  app.add_option("--rate", rate_wpm, "speech rate in words per minute (0: espeak-ng's default)");
  app.add_option("--gain", gain_db, "gain in dB");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  Announcement announcement;
  try {
    std::ifstream in(announcement_path);
    std::stringstream text;
    text << in.rdbuf();
    announcement = announcement_from_json(
        text.str(), std::filesystem::absolute(announcement_path).parent_path());
  } catch (const std::exception& e) {
    std::cerr << "error: " << announcement_path << ": " << e.what() << "\n";
    return 1;
  }
  // One output, the file: every segment goes to it.
  announcement.outputs = Outputs{};
  for (Segment& s : announcement.segments)
    s.outputs.reset();

  EngineConfig config;
  config.interior.sink = "wavenc ! filesink location=" + detail::launch_quote(out_path);
  config.interior.gain_db = gain_db;
  config.exterior.sink.clear();
  config.speech_rate_wpm = rate_wpm;
  for (const std::string& v : voice_args) {
    const auto eq = v.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == v.size()) {
      std::cerr << "error: --voice wants LANG=VOICE, got '" << v << "'\n";
      return 2;
    }
    config.voices[v.substr(0, eq)] = v.substr(eq + 1);
  }

  std::mutex mu;
  std::condition_variable cv;
  std::vector<Cue> cues;
  std::optional<Result> result;
  std::optional<std::string> sink_error;
  Callbacks callbacks;
  callbacks.on_cue = [&](Cue c) {
    std::lock_guard lock(mu);
    cues.push_back(std::move(c));
  };
  callbacks.on_result = [&](Result r) {
    std::lock_guard lock(mu);
    result = std::move(r);
    cv.notify_all();
  };
  callbacks.on_output = [&](OutputStatus s) {
    if (s.state == OutputState::ok) return;
    std::lock_guard lock(mu);
    sink_error = s.error;
    cv.notify_all();
  };
  callbacks.on_problem = [&](Problem p) {
    std::lock_guard lock(mu);
    std::cerr << "warning: " << to_string(p.kind) << ": " << p.message << "\n";
  };

  try {
    Engine engine(config, callbacks);
    engine.submit(announcement);
    std::chrono::milliseconds budget{30000};
    for (const Segment& s : announcement.segments)
      budget += s.pause;
    {
      std::unique_lock lock(mu);
      const bool done = cv.wait_for(lock, budget, [&] { return result || sink_error; });
      if (!done) {
        std::cerr << "error: rendering timed out\n";
        return 1;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{200});  // a little silence at the end
    engine.stop();
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  if (sink_error) {
    std::cerr << "error: cannot write " << out_path << ": " << *sink_error << "\n";
    return 1;
  }
  if (result->outcome != Result::Outcome::finished) {
    std::cerr << "error: the announcement was " << to_string(result->outcome) << "\n";
    return 1;
  }
  std::ofstream out(cues_path);
  for (const Cue& c : cues)
    out << cue_to_json_line(c) << "\n";
  out.close();
  if (!out) {
    std::cerr << "error: cannot write " << cues_path << "\n";
    return 1;
  }
  return 0;
}

}  // namespace stopcall::media
