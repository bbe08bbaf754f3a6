// A streaming reader for GTFS CSV files (RFC 4180 with the feeds' real-world quirks): a UTF-8 BOM
// is skipped, CR, LF and CRLF all end a record, quoted fields may hold commas, quotes and line
// breaks, fields are trimmed of surrounding spaces. Every record is checked: a NUL byte or text
// that is not UTF-8 is an error naming the file and line, because it would be spoken and shown.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "routes/feed_source.hpp"
#include "routes/utf8.hpp"

namespace stopcall::routes {

// A file-level error; what() is the bare reason, line() where it is.
class CsvError : public std::runtime_error {
 public:
  CsvError(std::uint64_t line, const std::string& what) : std::runtime_error(what), line_(line) {}
  std::uint64_t line() const { return line_; }

 private:
  std::uint64_t line_;
};

class CsvReader {
 public:
  // Reads the header at once. An empty file has no header: header().empty().
  CsvReader(ByteStream& stream, std::string file_name, std::size_t max_record_bytes);

  const std::vector<std::string>& header() const { return header_; }
  // Column index of a header name, or -1.
  int column(std::string_view name) const;

  // Reads the next record; false at the end. Throws CsvError (bad byte, NUL, record too long,
  // unterminated quote) — the file cannot be trusted past such an error.
  bool next();
  // The current record's fields; a missing trailing field reads as empty.
  std::string_view field(int column) const;
  std::size_t field_count() const { return offsets_.empty() ? 0 : offsets_.size() - 1; }
  // 1-based line where the current record starts (the header is line 1).
  std::uint64_t line() const { return record_line_; }
  const std::string& file_name() const { return file_name_; }

 private:
  bool read_record();
  bool fill();
  [[noreturn]] void fail(const std::string& message) const;

  ByteStream& stream_;
  std::string file_name_;
  std::size_t max_record_bytes_;
  std::vector<std::string> header_;
  std::unordered_map<std::string, int> columns_;

  std::vector<char> buffer_;
  std::size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  bool first_chunk_ = true;
  std::uint64_t line_ = 1;            // physical line of the next byte
  std::uint64_t record_line_ = 0;     // line where the current record started
  std::string data_;                  // current record's field bytes, back to back
  std::vector<std::size_t> offsets_;  // field i = data_[offsets_[i], offsets_[i+1])
};

}  // namespace stopcall::routes
