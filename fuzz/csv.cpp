// The GTFS CSV reader (routes/csv.hpp) and the row-shape policy over it (routes/table_reader.hpp),
// fed in chunks of every size so records straddle the reader's buffer the way they do in a file.
// Promises checked: every value is UTF-8 without NUL bytes; lines only go forward; nothing but
// CsvError is thrown.
#include <algorithm>
#include <cstring>

#include "fuzz/fuzz_support.hpp"
#include "routes/csv.hpp"
#include "routes/table_reader.hpp"

namespace {

using namespace stopcall;

void check_value(std::string_view v) {
  fuzz::check(v.find('\0') == std::string_view::npos, "a value holds a NUL byte");
  fuzz::check(!routes::first_invalid_utf8(v), "a value is not UTF-8");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks the chunk size (1 to 256 bytes a read); the rest is the file.
  std::size_t chunk = static_cast<std::size_t>(data[0]) + 1;
  std::string_view text = fuzz::as_text(data + 1, size - 1);

  {
    routes::MemoryStream stream(std::string(text), chunk);
    try {
      routes::CsvReader reader(stream, "stops.txt", 512);
      for (const auto& name : reader.header())
        check_value(name);
      std::uint64_t line = 0;
      while (reader.next()) {
        fuzz::check(reader.line() > line, "a record starts before the one before it");
        line = reader.line();
        for (std::size_t i = 0; i < reader.field_count(); ++i)
          check_value(reader.field(static_cast<int>(i)));
      }
    } catch (const routes::CsvError& e) {
      fuzz::check(e.line() >= 1, "an error without a line");
    }
  }
  {
    routes::MemoryStream stream(std::string(text), chunk);
    routes::Problems problems(50);
    try {
      routes::TableReader table(stream, "stops.txt", 512, problems);
      if (table.columns({"stop_id"}, {"stop_name", "stop_lat", "stop_lon"})) {
        while (table.next()) {
          check_value(table.need("stop_id"));
          check_value(table["stop_lat"]);
        }
        table.finish();
      }
    } catch (const routes::CsvError&) {
    }
    for (const auto& p : problems.kept())
      fuzz::check(!p.to_string().empty(), "an empty problem");
  }
  return 0;
}
