#include "daemon/gps/trace.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace stopcall::gps {

namespace {

// The first meaningful byte of the file: '{' for gpsd JSON, '$' or '!' for NMEA.
char first_content_byte(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error(path + ": " + std::strerror(errno));
  int c;
  bool comment = false;
  while ((c = std::fgetc(f)) != EOF) {
    if (comment) {
      comment = c != '\n';
      continue;
    }
    if (c == '#') {
      comment = true;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    break;
  }
  std::fclose(f);
  return c == EOF ? '\0' : static_cast<char>(c);
}

}  // namespace

TraceReader::TraceReader(const std::string& path) : path_(path) {
  char first = first_content_byte(path);
  if (first == '{' || first == '\0') {
    in_ = std::fopen(path.c_str(), "rb");
    if (!in_) throw std::runtime_error(path + ": " + std::strerror(errno));
    return;
  }
  // NMEA: gpsd's own decoder turns it into the same JSON gpsd would send.
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe: " + std::string(std::strerror(errno)));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  const char* argv[] = {"gpsdecode", "-j", nullptr};
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, "gpsdecode", &actions, nullptr, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (rc != 0) {
    ::close(pipe_fds[0]);
    throw std::runtime_error(
        path + ": NMEA needs gpsdecode (Debian package gpsd-clients): " + std::strerror(rc));
  }
  child_ = pid;
  in_ = ::fdopen(pipe_fds[0], "rb");
}

TraceReader::~TraceReader() {
  if (in_) std::fclose(in_);
  if (child_ > 0) {
    ::kill(child_, SIGTERM);
    int status;
    ::waitpid(child_, &status, 0);
  }
}

bool TraceReader::read_line(std::string& line) {
  line.clear();
  char buf[4096];
  while (std::fgets(buf, sizeof buf, in_)) {
    line += buf;
    if (!line.empty() && line.back() == '\n') return true;
  }
  return !line.empty();
}

std::optional<tracking::Fix> TraceReader::next() {
  while (read_line(line_)) {
    ++line_number_;
    if (line_.empty() || line_[0] == '#' || line_[0] == '\n') continue;  // comments, blank lines
    ++stats_.lines;
    auto fix = decoder_.decode(line_);
    if (decoder_.rejected() > stats_.rejected) {
      stats_.rejected = decoder_.rejected();
      if (stats_.rejected_examples.size() < TraceStats::kMaxExamples)
        stats_.rejected_examples.emplace_back(line_number_, decoder_.last_error());
    }
    if (!fix) continue;
    ++stats_.reports;
    if (fix->position) ++stats_.fixes_with_position;
    if (fix->time == tracking::Time{}) {
      // Some receivers report a position before they know the date: keep the fix, on the
      // timeline of the report before it.
      ++stats_.undated;
      fix->time = last_time_;
    } else {
      last_time_ = fix->time;
    }
    return fix;
  }
  return std::nullopt;
}

}  // namespace stopcall::gps
