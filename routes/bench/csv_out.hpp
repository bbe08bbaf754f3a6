// Buffered CSV output for the synthetic feed: one file, fields quoted only where they must be,
// GTFS times past midnight.
#pragma once

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace stopcall::routes::bench {

namespace fs = std::filesystem;

class CsvOut {
 public:
  CsvOut(const fs::path& path, std::string_view header)
      : path_(path), file_(std::fopen(path.c_str(), "wb")) {
    if (!file_) throw std::runtime_error(path.string() + ": " + std::strerror(errno));
    buf_.reserve(kFlushAt + 4096);
    buf_.append(header);
    buf_ += '\n';
  }
  CsvOut(const CsvOut&) = delete;
  CsvOut& operator=(const CsvOut&) = delete;
  ~CsvOut() {
    if (file_) std::fclose(file_);
  }

  CsvOut& str(std::string_view s) {
    sep();
    if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
      buf_.append(s);
      return *this;
    }
    buf_ += '"';
    for (char c : s) {
      if (c == '"') buf_ += '"';
      buf_ += c;
    }
    buf_ += '"';
    return *this;
  }
  CsvOut& num(long long v) {
    sep();
    char tmp[24];
    auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
    buf_.append(tmp, static_cast<std::size_t>(r.ptr - tmp));
    return *this;
  }
  CsvOut& fixed(double v, int precision) {
    sep();
    char tmp[64];
    auto r = std::to_chars(tmp, tmp + sizeof tmp, v, std::chars_format::fixed, precision);
    buf_.append(tmp, static_cast<std::size_t>(r.ptr - tmp));
    return *this;
  }
  // GTFS time H:MM:SS, hours two digits at least and past 24 after midnight.
  CsvOut& time(int s) {
    sep();
    char tmp[16];
    int h = s / 3600, m = s / 60 % 60, sec = s % 60;
    char* p = tmp;
    if (h < 10) *p++ = '0';
    p = std::to_chars(p, tmp + 8, h).ptr;
    *p++ = ':';
    *p++ = static_cast<char>('0' + m / 10);
    *p++ = static_cast<char>('0' + m % 10);
    *p++ = ':';
    *p++ = static_cast<char>('0' + sec / 10);
    *p++ = static_cast<char>('0' + sec % 10);
    buf_.append(tmp, static_cast<std::size_t>(p - tmp));
    return *this;
  }
  CsvOut& none() {
    sep();
    return *this;
  }
  void end_row() {
    buf_ += '\n';
    first_ = true;
    ++rows_;
    if (buf_.size() >= kFlushAt) flush();
  }
  void close() {
    flush();
    int rc = std::fclose(file_);
    file_ = nullptr;
    if (rc != 0) throw std::runtime_error(path_.string() + ": " + std::strerror(errno));
  }
  long rows() const { return rows_; }
  const fs::path& path() const { return path_; }

 private:
  static constexpr std::size_t kFlushAt = 1 << 20;
  void sep() {
    if (!first_) buf_ += ',';
    first_ = false;
  }
  void flush() {
    if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), file_) != buf_.size()) {
      throw std::runtime_error(path_.string() + ": " + std::strerror(errno));
    }
    buf_.clear();
  }
  fs::path path_;
  std::FILE* file_;
  std::string buf_;
  bool first_ = true;
  long rows_ = 0;
};

}  // namespace stopcall::routes::bench
