// The boundary between libgps and the rest of stopcall: what gpsd reports becomes a tracking::Fix
// with validity explicit. Live input (GpsdClient) and replay (TraceReader) share this conversion.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/tracking/fix.hpp"

struct gps_data_t;

namespace stopcall::gps {

// A fix from a libgps report; nullopt when the report was not a position/time report (TPV), e.g.
// SKY, VERSION, DEVICE. Fields are kept only when gpsd marked them set and they are finite; a TPV
// without a time keeps time = {} (the caller decides what to do with it).
std::optional<tracking::Fix> fix_from_gpsd(const gps_data_t& data);

// Decodes gpsd JSON lines (what `gpspipe -w` and `gpsdecode -j` print) with libgps's gps_unpack.
// gpsd's own parser takes only the compact layout gpsd writes; a line in any other valid JSON
// layout (spaces after the colons, pretty-printed by a tool) is first normalised into that form
// with the JSON library (nlohmann-json), never by hand.
class JsonDecoder {
 public:
  JsonDecoder();
  ~JsonDecoder();
  JsonDecoder(const JsonDecoder&) = delete;
  JsonDecoder& operator=(const JsonDecoder&) = delete;

  // nullopt for lines that are not TPV reports or that cannot be parsed.
  std::optional<tracking::Fix> decode(std::string_view line);
  // Lines that could not be parsed (not JSON, or JSON libgps refuses); counted, never fatal.
  long rejected() const { return rejected_; }
  // Why the last line was rejected (empty when it was not).
  const std::string& last_error() const { return last_error_; }

 private:
  std::unique_ptr<gps_data_t> data_;
  bool unpack(std::string_view line);

  std::string buffer_;
  long rejected_ = 0;
  std::string last_error_;
};

// gpsd's stream as the live client reads it from the socket: bytes in pieces of any size, cut
// into lines, each line through a JsonDecoder. A line longer than max_line (gpsd's longest, a SKY
// with every satellite, is a few KiB) is dropped to its end and counted, so a peer that never
// sends a newline cannot grow it.
class JsonLineReader {
 public:
  explicit JsonLineReader(std::size_t max_line = 64 * 1024) : max_line_(max_line) {}

  // Calls on_fix for each position/time report in `bytes`, in order.
  void feed(std::string_view bytes, const std::function<void(const tracking::Fix&)>& on_fix);
  // Forgets a partial line (a new connection starts clean).
  void reset();

  long lines() const { return lines_; }
  long rejected() const { return decoder_.rejected(); }
  long overlong() const { return overlong_; }

 private:
  JsonDecoder decoder_;
  std::size_t max_line_;
  std::string partial_;
  bool skipping_ = false;  // in a line that was too long, until its newline
  long lines_ = 0;
  long overlong_ = 0;
};

}  // namespace stopcall::gps
