// GPS traces for replay: gpsd JSON lines (what `gpspipe -w` prints) or NMEA 0183 text (as in
// gpsd's receiver logs), the latter decoded by gpsd's own decoder, `gpsdecode -j`. Either way every
// line goes through libgps (JsonDecoder), the same conversion the live daemon uses.
#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/gps/gpsd_fix.hpp"

namespace stopcall::gps {

struct TraceStats {
  long lines = 0;    // JSON lines read (after NMEA decoding)
  long reports = 0;  // TPV reports among them
  long fixes_with_position = 0;
  long undated = 0;   // TPVs without a time, given the time of the report before them
  long rejected = 0;  // lines that could not be decoded
  // The first few of them: line number in the file (after NMEA decoding: in gpsdecode's output)
  // and why.
  std::vector<std::pair<long, std::string>> rejected_examples;
  static constexpr std::size_t kMaxExamples = 5;
};

class TraceReader {
 public:
  // Throws std::runtime_error naming the file when it cannot be opened or decoded.
  explicit TraceReader(const std::string& path);
  ~TraceReader();
  TraceReader(const TraceReader&) = delete;
  TraceReader& operator=(const TraceReader&) = delete;

  // The next TPV report, in file order; nullopt at the end. Reports without a position (no fix)
  // are returned too: the tracker needs to see the GPS losing its fix.
  std::optional<tracking::Fix> next();
  const TraceStats& stats() const { return stats_; }
  bool nmea() const { return child_ > 0; }

 private:
  bool read_line(std::string& line);

  std::string path_;
  std::FILE* in_ = nullptr;
  int child_ = -1;  // gpsdecode's pid when decoding NMEA
  JsonDecoder decoder_;
  TraceStats stats_;
  tracking::Time last_time_{};
  std::string line_;
  long line_number_ = 0;
};

}  // namespace stopcall::gps
