// gpsd's JSON as stopcall takes it (daemon/gps): each line through JsonDecoder (libgps's
// gps_unpack, then fix_from_gpsd); the input as the live client reads it from gpsd's socket
// (JsonLineReader), in pieces of several sizes; and the input as a trace file through TraceReader
// (its line framing, comments, undated reports). NMEA itself is decoded by gpsd's own gpsdecode,
// a separate program: not fuzzed here. Promises checked: a fix with a position has a finite one in
// range; speeds and errors are finite; the live client's framing gives the same fixes whatever
// pieces the socket hands it; nothing throws or hangs.
#include <cmath>
#include <string>
#include <vector>

#include "daemon/gps/gpsd_fix.hpp"
#include "daemon/gps/trace.hpp"
#include "fuzz/fuzz_support.hpp"

namespace {

using namespace stopcall;

void check_fix(const tracking::Fix& fix) {
  if (fix.position) {
    fuzz::check(std::isfinite(fix.position->lat) && std::isfinite(fix.position->lon) &&
                    std::abs(fix.position->lat) <= 90 && std::abs(fix.position->lon) <= 180,
                "a position out of range");
  }
  for (const auto& v : {fix.speed_mps, fix.track_deg, fix.eph_m, fix.epx_m, fix.epy_m}) {
    fuzz::check(!v || std::isfinite(*v), "a value that is not finite");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input = fuzz::as_text(data, size);
  gps::JsonDecoder decoder;
  std::vector<tracking::Time> times;
  for (auto line : fuzz::split_lines(input)) {
    if (auto fix = decoder.decode(line)) {
      check_fix(*fix);
      times.push_back(fix->time);
    }
  }

  // The live client: the socket hands over pieces of any size; the last line ends with the
  // stream's next newline.
  std::string stream = std::string(input) + "\n";
  for (std::size_t piece : {std::size_t{7}, std::size_t{4096}}) {
    gps::JsonLineReader reader;
    std::vector<tracking::Time> live;
    for (std::size_t i = 0; i < stream.size(); i += piece) {
      reader.feed(std::string_view(stream).substr(i, piece), [&](const tracking::Fix& fix) {
        check_fix(fix);
        live.push_back(fix.time);
      });
    }
    fuzz::check(live == times, "the live framing gives other fixes in pieces of " +
                                   std::to_string(piece) + " bytes");
  }

  // A trace file. It starts with an object so that it is read as JSON: anything else is NMEA,
  // for gpsdecode.
  fuzz::clear_scratch();
  auto path = fuzz::scratch_dir() / "trace.json";
  fuzz::write_file(path, "{\"class\":\"VERSION\"}\n" + std::string(input));
  try {
    gps::TraceReader trace(path.string());
    fuzz::check(!trace.nmea(), "a JSON trace read as NMEA");
    long fixes = 0;
    while (auto fix = trace.next()) {
      check_fix(*fix);
      fuzz::check(++fixes <= static_cast<long>(size) + 1, "more fixes than lines");
    }
  } catch (const std::runtime_error& e) {
    fuzz::broken(std::string("a JSON trace threw: ") + e.what());
  }
  return 0;
}
