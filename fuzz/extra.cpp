// Our own announcement data (`import --extra DIR`, routes/extra_data.hpp) read into a bundle's
// tables: the input's "--- NAME" sections (fuzz_support.hpp) are the folder's files, the four
// CSVs (messages.csv too) and any clips they name. The feed beside it knows stops SA, SB and
// routes R1. Promises checked: problems go to the report, never out as exceptions; every row
// stored names a stop or route of the feed; every message stored has a known kind, an id of at
// most 64 bytes and a text, and every message text belongs to a stored message.
#include "fuzz/fuzz_support.hpp"
#include "routes/extra_data.hpp"
#include "routes/schema.hpp"
#include "routes/sqlite.hpp"

namespace {

using namespace stopcall;
namespace fs = std::filesystem;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::clear_scratch();
  const fs::path dir = fuzz::scratch_dir() / "extra";
  fs::create_directories(dir);
  for (const auto& s : fuzz::split_sections(fuzz::as_text(data, size)))
    fuzz::write_file(dir / s.name, s.content);

  routes::sql::Db db(":memory:", routes::sql::Db::Mode::create);
  db.exec(std::string(routes::kSchemaTables));
  routes::ExtraData extra;
  extra.dir = dir.string();
  extra.limits.max_file_bytes = 1 << 20;
  extra.limits.max_record_bytes = 4096;
  extra.stop_exists = [](std::string_view id) { return id == "SA" || id == "SB"; };
  extra.route_exists = [](std::string_view id) { return id == "R1"; };
  routes::Problems problems;
  try {
    routes::read_extra_data(extra, db, problems);
  } catch (const routes::RouteError& e) {
    fuzz::broken(std::string("reading --extra threw: ") + e.what());
  }
  for (const char* sql : {"SELECT count(*) FROM stop_phrases WHERE stop_id NOT IN ('SA','SB')",
                          "SELECT count(*) FROM stop_clips WHERE stop_id NOT IN ('SA','SB')",
                          "SELECT count(*) FROM route_exterior WHERE route_id <> 'R1'",
                          "SELECT count(*) FROM message_presets WHERE kind NOT IN "
                          "('emergency','service') OR message_id = '' OR length(CAST(message_id "
                          "AS BLOB)) > 64",
                          "SELECT count(*) FROM message_presets p WHERE NOT EXISTS (SELECT 1 FROM "
                          "message_texts t WHERE t.message_id = p.message_id AND "
                          "t.purpose = 'text')",
                          "SELECT count(*) FROM message_texts WHERE message_id NOT IN (SELECT "
                          "message_id FROM message_presets) OR text = ''"}) {
    auto q = db.prepare(sql);
    q.step();
    fuzz::check(q.integer(0) == 0, std::string("a row the import should not have stored: ") + sql);
  }
  return 0;
}
