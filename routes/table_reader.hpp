// One table of a feed (a GTFS file, or one of our --extra CSVs) read row by row under the import
// policy for the shape of its rows (routes/README.md, "Import policy"):
//   - a column the file requires missing from the header is an error;
//   - a row with more cells than the header is read with its empty extra cells dropped and the
//     others ignored, a warning naming the file and line and listing what was ignored;
//   - a row with fewer cells reads the missing trailing cells as empty, with a warning; an error
//     follows only where a required value is then missing (need()).
// Only the first rows of each kind are warned about one by one (ten with extra cells, as those may
// hold data that is lost; one short row, as feeds often leave trailing empty cells out
// throughout); finish() sums up the rest with the lines they span.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "routes/csv.hpp"
#include "routes/problem.hpp"

namespace stopcall::routes {

class TableReader {
 public:
  // Reads the header at once; throws CsvError as CsvReader does.
  TableReader(ByteStream& stream, std::string file, std::size_t max_record_bytes,
              Problems& problems);

  // No header at all (an empty file).
  bool empty() const { return csv_.header().empty(); }
  // Looks up the columns; each `required` one missing from the header is an error. False then.
  bool columns(std::initializer_list<std::string_view> required,
               std::initializer_list<std::string_view> optional = {});

  // The next row, its cell count checked (warnings as above); false at the end. Throws CsvError.
  bool next();
  // Reads to the end without looking at the rows, for the bytes only (CsvError).
  void skip_rest();
  // Warns about the rows of each kind beyond the ones already named.
  void finish();

  // The value in `column` of this row; empty when the column is absent or the row is short.
  std::string_view operator[](std::string_view column) const;
  // Like operator[], but an empty value is an error naming the file, line and column (and that
  // the row was short, when it was).
  std::string_view need(std::string_view column);

  // The header's names, for files whose columns are not fixed (text_<lang> in messages.csv), and
  // this row's cell under one of them by its index; empty when the row is short.
  const std::vector<std::string>& header() const { return csv_.header(); }
  std::string_view cell(std::size_t index) const { return csv_.field(static_cast<int>(index)); }

  std::uint64_t line() const { return csv_.line(); }
  const std::string& file() const { return csv_.file_name(); }

 private:
  struct Misfits {
    std::uint64_t named;      // rows of this kind warned about one by one
    std::uint64_t count = 0;  // rows of this kind
    std::uint64_t first_unnamed = 0, last_line = 0;
  };
  void check_cells();

  CsvReader csv_;
  Problems& problems_;
  std::map<std::string, int, std::less<>> columns_;
  std::size_t width_;        // header cells
  std::size_t named_width_;  // header cells up to the last one with a name
  Misfits longer_{10}, shorter_{1};
};

}  // namespace stopcall::routes
