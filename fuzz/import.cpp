// The importer, as `stopcall-routes import` runs it, on a feed folder or zip written from the
// input: "--- NAME" sections (fuzz_support.hpp) become the feed's files, in a folder, or in a zip
// when the first section is "--- zip" (an empty marker); an input that is a zip already ("PK\3\4")
// is the feed as it is. Promises checked: problems go to the report, never out as exceptions;
// a bundle is written only without errors, and then it passes the bundle check and every trip
// loads with its stops in order along its shape.
#include <zip.h>

#include "fuzz/fuzz_support.hpp"
#include "routes/bundle.hpp"
#include "routes/bundle_check.hpp"
#include "routes/importer.hpp"
#include "routes/sqlite.hpp"

namespace {

using namespace stopcall;
namespace fs = std::filesystem;

bool write_zip(const fs::path& path, const std::vector<fuzz::Section>& sections) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  if (!z) return false;
  for (const auto& s : sections) {
    if (s.name == "zip") continue;
    zip_source_t* src = zip_source_buffer(z, s.content.data(), s.content.size(), 0);
    if (!src || zip_file_add(z, s.name.c_str(), src, ZIP_FL_OVERWRITE) < 0) {
      zip_source_free(src);
      zip_discard(z);
      return false;
    }
  }
  return zip_close(z) == 0;
}

std::string messages(const routes::Problems& problems) {
  std::string out;
  for (const auto& p : problems.kept())
    out += p.to_string() + "\n";
  return out;
}

void check_bundle_written(const std::string& path) {
  auto problems = routes::check_bundle(path);
  fuzz::check(!problems.has_errors(),
              "a written bundle fails the bundle check:\n" + messages(problems));
  auto bundle = routes::Bundle::open(path);
  routes::sql::Db db(path, routes::sql::Db::Mode::read_only);
  auto trips = db.prepare("SELECT trip_id FROM trips");
  while (trips.step()) {
    auto trip = bundle.load_trip(trips.text(0));
    fuzz::check(trip.stops.size() >= 2, "trip " + trip.id + " has fewer than two stops");
    for (std::size_t i = 1; i < trip.stops.size(); ++i) {
      fuzz::check(trip.stops[i].distance_m >= trip.stops[i - 1].distance_m,
                  "trip " + trip.id + ": stops out of order along the shape");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::clear_scratch();
  const auto& dir = fuzz::scratch_dir();
  std::string_view input = fuzz::as_text(data, size);
  routes::ImportOptions options;
  options.output = (dir / "out.db").string();
  options.limits.max_file_bytes = 1 << 20;
  options.limits.max_total_bytes = 4 << 20;
  options.limits.max_record_bytes = 4096;
  options.limits.zip_ratio_from_bytes = 1 << 20;
  if (input.starts_with("PK\x03\x04")) {
    options.feed = (dir / "feed.zip").string();
    fuzz::write_file(options.feed, input);
  } else {
    auto sections = fuzz::split_sections(input);
    if (!sections.empty() && sections.front().name == "zip") {
      options.feed = (dir / "feed.zip").string();
      if (!write_zip(options.feed, sections)) return 0;
    } else {
      options.feed = (dir / "feed").string();
      fs::create_directories(options.feed);
      for (const auto& s : sections)
        fuzz::write_file(fs::path(options.feed) / s.name, s.content);
    }
  }
  routes::ImportReport report;
  try {
    report = routes::import_feed(options);
  } catch (const routes::RouteError& e) {
    // Only when the output cannot be written: never for what is in the feed.
    fuzz::broken(std::string("import threw for a feed: ") + e.what());
  }
  fuzz::check(report.written == !report.problems.has_errors(),
              "written and errors disagree:\n" + messages(report.problems));
  fuzz::check(report.written == fs::exists(options.output),
              "the output file and the report "
              "disagree");
  if (report.written) check_bundle_written(options.output);
  return 0;
}
