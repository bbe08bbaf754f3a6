#include "routes/csv.hpp"

#include "routes/problem.hpp"

namespace stopcall::routes {

CsvReader::CsvReader(ByteStream& stream, std::string file_name, std::size_t max_record_bytes)
    : stream_(stream),
      file_name_(std::move(file_name)),
      max_record_bytes_(max_record_bytes),
      buffer_(1 << 16) {
  if (!read_record()) return;
  for (std::size_t i = 0; i + 1 < offsets_.size(); ++i) {
    std::string name(field(static_cast<int>(i)));
    header_.push_back(name);
    columns_.emplace(name, static_cast<int>(i));  // the first of duplicate names wins
  }
}

int CsvReader::column(std::string_view name) const {
  auto it = columns_.find(std::string(name));
  return it == columns_.end() ? -1 : it->second;
}

std::string_view CsvReader::field(int column) const {
  if (column < 0 || static_cast<std::size_t>(column) + 1 >= offsets_.size()) return {};
  return std::string_view(data_).substr(offsets_[column], offsets_[column + 1] - offsets_[column]);
}

void CsvReader::fail(const std::string& message) const {
  throw CsvError(record_line_, message);
}

bool CsvReader::fill() {
  if (eof_) return false;
  end_ = stream_.read(buffer_.data(), buffer_.size());
  pos_ = 0;
  if (first_chunk_) {
    first_chunk_ = false;
    if (end_ >= 3 && static_cast<unsigned char>(buffer_[0]) == 0xEF &&
        static_cast<unsigned char>(buffer_[1]) == 0xBB &&
        static_cast<unsigned char>(buffer_[2]) == 0xBF) {
      pos_ = 3;
    }
  }
  if (end_ == 0) eof_ = true;
  return end_ > 0;
}

bool CsvReader::next() {
  while (read_record()) {
    // Blank lines between records carry nothing; skip them.
    if (offsets_.size() == 2 && offsets_[1] == 0) continue;
    return true;
  }
  return false;
}

// One record: a state machine over bytes, fields appended to data_ with their start offsets.
bool CsvReader::read_record() {
  data_.clear();
  offsets_.clear();
  offsets_.push_back(0);
  record_line_ = line_;

  enum class State { field_start, unquoted, quoted, quote_in_quoted, after_cr };
  State state = State::field_start;
  bool any = false;
  std::size_t field_begin = 0;
  std::uint64_t quote_line = 0;

  auto end_field = [&] {
    // Trim surrounding spaces of unquoted content; quoted content keeps inner spaces.
    std::size_t b = field_begin, e = data_.size();
    while (e > b && (data_[e - 1] == ' ' || data_[e - 1] == '\t'))
      --e;
    data_.resize(e);
    offsets_.push_back(data_.size());
    field_begin = data_.size();
  };

  for (;;) {
    if (pos_ == end_ && !fill()) break;
    char c = buffer_[pos_];
    if (state == State::after_cr) {
      // CRLF is one line end; a lone CR is a line end too (old Mac files, mixed feeds).
      if (c == '\n') ++pos_;
      break;
    }
    ++pos_;
    any = true;
    if (c == '\0') fail("NUL byte in the file (damaged or not a text file)");
    if (data_.size() > max_record_bytes_) {
      fail("record longer than " + std::to_string(max_record_bytes_) +
           " bytes (damaged file or missing line ends)");
    }
    switch (state) {
      case State::field_start:
        if (c == ' ' || c == '\t') break;  // leading spaces are not part of the value
        if (c == '"') {
          state = State::quoted;
          quote_line = line_;
          break;
        }
        state = State::unquoted;
        [[fallthrough]];  // the byte starts an unquoted field
      case State::unquoted:
        if (c == ',') {
          end_field();
          state = State::field_start;
        } else if (c == '\n') {
          ++line_;
          end_field();
          goto done;
        } else if (c == '\r') {
          ++line_;
          end_field();
          state = State::after_cr;
        } else {
          data_.push_back(c);
        }
        break;
      case State::quoted:
        if (c == '"') {
          state = State::quote_in_quoted;
        } else {
          if (c == '\n') ++line_;
          data_.push_back(c);
        }
        break;
      case State::quote_in_quoted:
        if (c == '"') {  // "" inside quotes is one quote
          data_.push_back('"');
          state = State::quoted;
        } else if (c == ',') {
          offsets_.push_back(data_.size());
          field_begin = data_.size();
          state = State::field_start;
        } else if (c == '\n') {
          ++line_;
          offsets_.push_back(data_.size());
          goto done;
        } else if (c == '\r') {
          ++line_;
          offsets_.push_back(data_.size());
          state = State::after_cr;
        } else {
          // Text after a closing quote: keep it (lenient, as most GTFS consumers are).
          data_.push_back(c);
          state = State::unquoted;
        }
        break;
      case State::after_cr:
        break;
    }
  }
  if (state == State::quoted) {
    record_line_ = quote_line;
    fail("a quoted field is never closed");
  }
  if (!any) return false;
  // The input ended without a line end: close the last field.
  if (state == State::field_start || state == State::unquoted) {
    end_field();
  } else if (state == State::quote_in_quoted) {
    offsets_.push_back(data_.size());
  }
done:
  // Each field on its own: the fields lie back to back in data_, and a character broken by a
  // comma ("caf\xC3,\xA9") would read as whole across them.
  std::optional<std::size_t> bad;
  std::size_t field = 0;
  for (; field + 1 < offsets_.size(); ++field) {
    std::string_view value(data_.data() + offsets_[field], offsets_[field + 1] - offsets_[field]);
    if (auto at = first_invalid_utf8(value)) {
      bad = offsets_[field] + *at;
      break;
    }
  }
  if (bad) {
    // Point at the physical line of the bad byte (a quoted field may span lines) and its column.
    for (std::size_t i = 0; i < *bad; ++i)
      record_line_ += data_[i] == '\n';
    std::string column =
        field < header_.size() ? header_[field] : "column " + std::to_string(field + 1);
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(data_[*bad]));
    fail(std::string("text is not UTF-8 (byte ") + byte + " in " + column +
         "); it would be spoken and shown garbled: save the file as UTF-8");
  }
  return true;
}

}  // namespace stopcall::routes
