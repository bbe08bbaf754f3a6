// trigger_bench: from a trigger to the first sound on the interior and the exterior output,
// through the real path: the control socket of a running `stopcalld run`, the workflows or the
// message board, the media engine, its output pipelines. Prints figures; never gates.
//
//   trigger_bench --stopcalld PATH --routes BUNDLE [--trigger T] [--presses N] [--sink SINK]
//
// Triggers: `ramp` (the driver's ramp-assist press, "ramp deploying"), `message` (an emergency
// preset sent through the socket, its attention tone), `signal` (the emergency input becoming
// active, the same). Each emergency cuts into a long service message playing on both outputs;
// then the bench cancels both and waits for the silence.
//
// The press is timed when the client sends it; the sound when media reports the first sample
// rendered (the daemon's "sound" log line, CLOCK_MONOTONIC like ours). The outputs are
// `fakesink sync=true` by default: clocked like a sound card, on a machine without one.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "daemon/vehicle/control.hpp"
#include "daemon/vehicle/control_socket.hpp"

extern char** environ;

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

// The value of "key":... in a JSON line (enough for the daemon's flat log lines).
std::string field(const std::string& line, const std::string& key) {
  auto at = line.find("\"" + key + "\":");
  if (at == std::string::npos) return {};
  at += key.size() + 3;
  if (line[at] == '"') {
    auto end = line.find('"', at + 1);
    return line.substr(at + 1, end - at - 1);
  }
  auto end = line.find_first_of(",}", at);
  return line.substr(at, end - at);
}

}  // namespace

int main(int argc, char** argv) {
  std::string stopcalld, routes, sink = "fakesink sync=true", trigger = "ramp";
  int presses = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--stopcalld") stopcalld = argv[i + 1];
    if (a == "--routes") routes = argv[i + 1];
    if (a == "--presses") presses = std::max(2, std::atoi(argv[i + 1]));
    if (a == "--sink") sink = argv[i + 1];
    if (a == "--trigger") trigger = argv[i + 1];
  }
  if (trigger != "ramp" && trigger != "message" && trigger != "signal") {
    std::fprintf(stderr, "trigger_bench: --trigger is ramp, message or signal\n");
    return 2;
  }
  // What is sent, the id its announcements start with, and how an emergency is ended again.
  const std::string command = trigger == "ramp" ? R"({"cmd":"button","button":"ramp-assist"})"
                              : trigger == "message"
                                  ? R"({"cmd":"message","preset":"evacuate","message_id":"bench"})"
                                  : R"({"cmd":"signal","signal":"emergency","state":"active"})";
  const std::string prefix = trigger == "ramp" ? "ramp:" : "msg:";
  const std::string cancel = trigger == "message" ? R"({"cmd":"message","cancel":"bench"})"
                             : trigger == "signal"
                                 ? R"({"cmd":"message","cancel":"evacuate-signal"})"
                                 : "";
  if (stopcalld.empty() || routes.empty()) {
    std::fprintf(stderr,
                 "usage: trigger_bench --stopcalld PATH --routes BUNDLE [--trigger ramp|message|"
                 "signal] [--presses N]\n");
    return 2;
  }
  const fs::path dir = fs::temp_directory_path() / ("trigger_bench." + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string socket = dir / "control.sock", events = dir / "events.jsonl";
  {
    std::ofstream config(dir / "stopcall.toml");
    config << "[routes]\nbundle = \"" << routes << "\"\n[audio]\ninterior = \"" << sink
           << "\"\nexterior = \"" << sink << "\"\n[vehicle]\ncontrol_socket = \"" << socket
           << "\"\nramp_repeat_guard_ms = 0\ndebounce_ms = 0\n[gps]\nport = 1\n";
  }
  std::vector<std::string> args{stopcalld, "--config", dir / "stopcall.toml",
                                "run",     "--events", events};
  std::vector<char*> argp;
  for (auto& a : args)
    argp.push_back(a.data());
  argp.push_back(nullptr);
  pid_t pid = 0;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, (dir / "daemon.log").c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (posix_spawn(&pid, stopcalld.c_str(), &actions, nullptr, argp.data(), environ) != 0) {
    std::perror("posix_spawn");
    return 1;
  }
  for (int i = 0; i < 400 && !fs::exists(socket); ++i)
    std::this_thread::sleep_for(25ms);
  std::this_thread::sleep_for(500ms);  // the outputs' pipelines reach PLAYING

  std::vector<double> interior, exterior, both;
  std::streamoff offset = 0;
  // The event log's lines written since the last call (a line still being written waits).
  const auto fresh_lines = [&] {
    std::vector<std::string> lines;
    std::ifstream in(events);
    in.seekg(offset);
    std::string line;
    while (std::getline(in, line) && !in.eof()) {
      offset += static_cast<std::streamoff>(line.size() + 1);
      lines.push_back(std::move(line));
    }
    return lines;
  };
  int failures = 0;
  // An emergency must cut into whatever is playing: before each one a long service message plays.
  const std::string busy =
      R"({"cmd":"message","message_id":"busy","kind":"service","outputs":"both","text":)"
      R"({"en":"Please note: this is a long service message that is still playing when the )"
      R"(emergency comes, so that the emergency has to cut into it on both speakers."}})";
  for (int press = 0; press < presses; ++press) {
    if (!cancel.empty()) {
      stopcall::daemon::vehicle::send_command(socket, R"({"cmd":"message","cancel":"busy"})");
      stopcall::daemon::vehicle::send_command(socket, busy);
      // Until it sounds on both outputs.
      int sounding = 0;
      const auto until = std::chrono::steady_clock::now() + 10s;
      while (sounding < 2 && std::chrono::steady_clock::now() < until) {
        for (const auto& line : fresh_lines()) {
          if (field(line, "type") == "sound" && field(line, "id").rfind("msg:busy:", 0) == 0) {
            ++sounding;
          }
        }
        std::this_thread::sleep_for(5ms);
      }
      std::this_thread::sleep_for(300ms);  // well into it
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto reply = stopcall::daemon::vehicle::send_command(socket, command);
    if (!reply.ok) {
      std::fprintf(stderr, "press %d refused: %s\n", press, reply.message.c_str());
      ++failures;
      continue;
    }
    // The "sound" lines of this press's announcement, then its end on both outputs.
    std::map<std::string, double> heard;
    int finished = 0;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while ((heard.size() < 2 || finished < 2) && std::chrono::steady_clock::now() < deadline) {
      for (const auto& line : fresh_lines()) {
        if (field(line, "id").rfind(prefix, 0) != 0) continue;
        if (field(line, "id").rfind("msg:busy:", 0) == 0) continue;
        if (field(line, "type") == "sound") {
          double mono = std::stod(field(line, "mono_ns"));
          heard.emplace(  // the first sound on each output (an emergency's tone)
              field(line, "output"),
              (mono - static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                              t0.time_since_epoch())
                                              .count())) /
                  1e6);
        }
        if (field(line, "type") == "announcement_result") ++finished;
      }
      std::this_thread::sleep_for(5ms);
      if (!cancel.empty() && heard.size() == 2) break;  // heard: now end it
    }
    if (!cancel.empty()) {
      stopcall::daemon::vehicle::send_command(socket, cancel);
      std::this_thread::sleep_for(500ms);  // its fade and results
    }
    if (heard.size() < 2) {
      ++failures;
      continue;
    }
    interior.push_back(heard["interior"]);
    exterior.push_back(heard["exterior"]);
    both.push_back(std::max(heard["interior"], heard["exterior"]));
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  fs::remove_all(dir);

  std::printf("%s -> first sound (control socket -> daemon -> media), %zu triggers, outputs '%s'\n",
              trigger == "ramp"      ? "ramp-assist press"
              : trigger == "message" ? "emergency message"
                                     : "emergency signal",
              both.size(), sink.c_str());
  std::printf("  %-10s %8s %8s %8s %8s\n", "output", "first", "p50", "p95", "max");
  auto row = [](const char* name, const std::vector<double>& v) {
    if (v.empty()) return;
    std::printf("  %-10s %6.1fms %6.1fms %6.1fms %6.1fms\n", name, v.front(), percentile(v, 0.5),
                percentile(v, 0.95), *std::max_element(v.begin(), v.end()));
  };
  row("interior", interior);
  row("exterior", exterior);
  row("both", both);
  std::printf("RESULT %s_first_sound_p95_ms=%.1f failures=%d\n", trigger.c_str(),
              percentile(both, 0.95), failures);
  return failures == 0 ? 0 : 1;
}
