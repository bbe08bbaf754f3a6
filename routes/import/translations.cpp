// translations.txt, in the current form and the older one (importer_state.hpp).
#include <set>

#include "routes/csv.hpp"
#include "routes/import/importer_state.hpp"

namespace stopcall::routes::gtfs_import {

// translations.txt in either form. The current form names table, field and record; the older
// form (trans_id, lang, translation) translates any field whose value equals trans_id.
void Importer::read_translations() {
  auto insert = db_.prepare(
      "INSERT INTO translations(table_name,field_name,language,translation,record_id,"
      "record_sub_id,field_value) VALUES(?,?,?,?,?,?,?)");
  if (!feed_->has("translations.txt")) return;
  const std::string file = "translations.txt";
  bool old_form = false;
  {
    auto stream = feed_->open_file(file);
    try {
      CsvReader probe(*stream, file, opt_.limits.max_record_bytes);
      old_form = probe.column("trans_id") >= 0 && probe.column("table_name") < 0;
    } catch (const CsvError&) {
      // each_row below reports it.
    }
  }
  if (old_form) {
    static const std::pair<const char*, const char*> kFields[] = {
        {"stops", "stop_name"},        {"stops", "tts_stop_name"}, {"routes", "route_short_name"},
        {"routes", "route_long_name"}, {"trips", "trip_headsign"}, {"agency", "agency_name"}};
    each_row(file, {"trans_id", "lang", "translation"}, {}, [&](TableReader& r) {
      auto id = r["trans_id"], lang = r["lang"], text = r["translation"];
      if (id.empty() || lang.empty() || text.empty()) {
        problems_.warning(file, r.line(), "translation", std::string(id),
                          "trans_id, lang and translation are all needed", "this row is ignored");
        return;
      }
      for (auto [table, field] : kFields) {
        insert.bind(1, table).bind(2, field).bind(3, lang).bind(4, text).bind(7, id).run();
      }
      languages_.insert(std::string(lang));
      ++counts_.translations;
    });
    return;
  }
  static const std::set<std::string, std::less<>> kTables = {
      "agency",          "stops",    "routes", "trips",          "stop_times",
      "feed_info",       "pathways", "levels", "attributions",   "calendar",
      "fare_attributes", "networks", "areas",  "location_groups"};
  each_row(file, {"table_name", "field_name", "language", "translation"},
           {"record_id", "record_sub_id", "field_value"}, [&](TableReader& r) {
             auto table = r["table_name"], field = r["field_name"];
             auto lang = r["language"], text = r["translation"];
             if (table.empty() || field.empty() || lang.empty() || text.empty()) {
               problems_.warning(file, r.line(), "translation", std::string(text),
                                 "table_name, field_name, language and translation are all "
                                 "needed",
                                 "this row is ignored");
               return;
             }
             if (!kTables.contains(table)) {
               problems_.warning(file, r.line(), "table_name", std::string(table),
                                 "not a GTFS table", "this row is ignored");
               return;
             }
             auto record = r["record_id"], value = r["field_value"];
             if (record.empty() == value.empty() && table != "feed_info") {
               problems_.warning(file, r.line(), "record_id", std::string(record),
                                 "give either record_id or field_value (exactly one): what "
                                 "this translates is unclear",
                                 "this row is ignored");
               return;
             }
             if (!record.empty() && !record_exists(table, record)) {
               problems_.warning(file, r.line(), "record_id", std::string(record),
                                 "no such record in " + std::string(table) + ".txt", "kept");
             }
             insert.bind(1, table).bind(2, field).bind(3, lang).bind(4, text);
             if (!record.empty()) insert.bind(5, record);
             auto sub = r["record_sub_id"];
             if (!sub.empty()) insert.bind(6, sub);
             if (!value.empty()) insert.bind(7, value);
             insert.run();
             languages_.insert(std::string(lang));
             ++counts_.translations;
           });
}

bool Importer::record_exists(std::string_view table, std::string_view id) const {
  std::string key(id);
  if (table == "stops") return stop_index_.contains(key);
  if (table == "routes") return routes_.contains(key);
  if (table == "trips" || table == "stop_times") return trip_index_.contains(key);
  if (table == "agency") return agencies_.contains(key);
  return true;
}

}  // namespace stopcall::routes::gtfs_import
