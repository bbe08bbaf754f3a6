// The boundary between libgps and the rest of stopcall: what gpsd reports becomes a tracking::Fix
// with validity explicit. Live input (GpsdClient) and replay (TraceReader) share this conversion.
#pragma once

#include <memory>
#include <optional>
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

}  // namespace stopcall::gps
