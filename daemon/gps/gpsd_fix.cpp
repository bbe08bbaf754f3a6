#include "daemon/gps/gpsd_fix.hpp"

#include <gps.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>

namespace stopcall::gps {

namespace {

std::optional<double> finite(double v) {
  return std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
}

tracking::Fix::Status status_of(int status) {
  using S = tracking::Fix::Status;
  switch (status) {
    case STATUS_FIX:
      return S::normal;
    case STATUS_DGPS_FIX:
      return S::dgps;
    case STATUS_RTK_FIX:
      return S::rtk_fix;
    case STATUS_RTK_FLT:
      return S::rtk_float;
    case STATUS_DR:
      return S::dead_reckoning;
    case STATUS_GNSSDR:
      return S::gnss_dr;
    case STATUS_TIME:
      return S::time_only;
    default:
      return S::unknown;  // no fix, simulated, PPS and anything newer
  }
}

}  // namespace

std::optional<tracking::Fix> fix_from_gpsd(const gps_data_t& data) {
  // A TPV always carries its mode; other reports (SKY, DEVICE, ...) do not set it.
  if (!(data.set & MODE_SET)) return std::nullopt;
  const gps_fix_t& f = data.fix;
  tracking::Fix fix;
  switch (f.mode) {
    case MODE_2D:
      fix.mode = tracking::Fix::Mode::fix_2d;
      break;
    case MODE_3D:
      fix.mode = tracking::Fix::Mode::fix_3d;
      break;
    default:
      fix.mode = tracking::Fix::Mode::no_fix;
      break;
  }
  if (data.set & STATUS_SET) {
    fix.status = status_of(f.status);
  } else if (fix.mode != tracking::Fix::Mode::no_fix) {
    fix.status = tracking::Fix::Status::normal;
  }
  if ((data.set & TIME_SET) && (f.time.tv_sec != 0 || f.time.tv_nsec != 0)) {
    fix.time = tracking::Time(std::chrono::milliseconds(
        static_cast<long long>(f.time.tv_sec) * 1000 + f.time.tv_nsec / 1'000'000));
  }
  if (fix.mode != tracking::Fix::Mode::no_fix && (data.set & LATLON_SET)) {
    auto lat = finite(f.latitude), lon = finite(f.longitude);
    if (lat && lon && std::abs(*lat) <= 90 && std::abs(*lon) <= 180) {
      fix.position = routes::LatLon{*lat, *lon};
    }
  }
  if (data.set & SPEED_SET) fix.speed_mps = finite(f.speed);
  if (data.set & TRACK_SET) fix.track_deg = finite(f.track);
  // libgps fills the error estimates it has and leaves NaN in the others.
  fix.eph_m = finite(f.eph);
  fix.epx_m = finite(f.epx);
  fix.epy_m = finite(f.epy);
  return fix;
}

JsonDecoder::JsonDecoder() : data_(std::make_unique<gps_data_t>()) {
  std::memset(data_.get(), 0, sizeof(gps_data_t));
}

JsonDecoder::~JsonDecoder() = default;

bool JsonDecoder::unpack(std::string_view line) {
  // gps_unpack reads a NUL-terminated, writable buffer, and keeps fields from earlier reports:
  // start each report from a clean fix so nothing leaks from one TPV into the next.
  buffer_.assign(line);
  data_->set = 0;
  gps_clear_fix(&data_->fix);
  return gps_unpack(buffer_.data(), data_.get()) >= 0;
}

std::optional<tracking::Fix> JsonDecoder::decode(std::string_view line) {
  last_error_.clear();
  // gpsd writes one complete object a line; a cut-off line would half-parse.
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' ')) {
    line.remove_suffix(1);
  }
  if (line.size() < 2 || line.front() != '{' || line.back() != '}') {
    ++rejected_;
    last_error_ = "not a JSON object";
    return std::nullopt;
  }
  // gpsd writes every report as {"class":"...",...}: such a line goes to its parser as it is,
  // once the JSON library has found it well-formed. libgps 3.22's parser never returns on some
  // malformed objects ({x"class":"TPV"} loops for ever), and a NUL byte would cut the C string
  // it reads.
  const bool compact = line.substr(0, 10) == R"({"class":")";
  if (compact && nlohmann::json::accept(line) && unpack(line)) return fix_from_gpsd(*data_);
  // Another layout (gpsd's parser would read nothing of it), or not JSON: the JSON library
  // decides which, and writes the compact form gpsd's parser reads.
  auto json = nlohmann::json::parse(line, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    ++rejected_;
    last_error_ = "not valid JSON";
    return std::nullopt;
  }
  if (!unpack(json.dump())) {
    ++rejected_;
    last_error_ = "JSON that gpsd's parser refuses";
    return std::nullopt;
  }
  return fix_from_gpsd(*data_);
}

void JsonLineReader::feed(std::string_view bytes,
                          const std::function<void(const tracking::Fix&)>& on_fix) {
  while (!bytes.empty()) {
    auto newline = bytes.find('\n');
    std::string_view piece = bytes.substr(0, newline);
    bytes.remove_prefix(newline == std::string_view::npos ? bytes.size() : newline + 1);
    if (!skipping_) {
      if (partial_.size() + piece.size() > max_line_) {
        partial_.clear();
        skipping_ = true;
        ++overlong_;
      } else {
        partial_.append(piece);
      }
    }
    if (newline == std::string_view::npos) break;  // the line goes on in the next piece
    if (!skipping_) {
      ++lines_;
      if (auto fix = decoder_.decode(partial_)) on_fix(*fix);
    }
    partial_.clear();
    skipping_ = false;
  }
}

void JsonLineReader::reset() {
  partial_.clear();
  skipping_ = false;
}

}  // namespace stopcall::gps
