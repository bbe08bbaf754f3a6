// agency.txt and routes.txt (importer_state.hpp).
#include "routes/gtfs_values.hpp"
#include "routes/import/importer_state.hpp"

namespace stopcall::routes::gtfs_import {

using gtfs::parse_int;

void Importer::read_agency() {
  auto insert = db_.prepare(
      "INSERT INTO agency(agency_id,name,url,timezone,lang,src_line) VALUES(?,?,?,?,?,?)");
  each_row("agency.txt", {"agency_name", "agency_url", "agency_timezone"},
           {"agency_id", "agency_lang"}, [&](TableReader& r) {
             std::string id(r["agency_id"]);
             auto name = r.need("agency_name");
             r.need("agency_timezone");
             if (!agencies_.insert(id).second) {
               problems_.warning(
                   "agency.txt", r.line(), "agency_id", id,
                   id.empty() ? "several agencies without an agency_id" : "duplicate agency_id",
                   "this row is ignored");
               return;
             }
             if (feed_lang_.empty()) feed_lang_ = r["agency_lang"];
             insert.bind(1, id).bind(2, name).bind(3, r["agency_url"]);
             insert.bind(4, r["agency_timezone"]).bind(5, r["agency_lang"]);
             insert.bind(6, static_cast<std::int64_t>(r.line())).run();
             ++counts_.agencies;
           });
  if (counts_.agencies == 0 && !problems_.has_errors()) {
    problems_.error("agency.txt", 0, "", "", "no agency in the feed");
  }
}

void Importer::read_routes() {
  auto insert = db_.prepare(
      "INSERT INTO routes(route_id,agency_id,short_name,long_name,type,color,text_color,src_line)"
      " VALUES(?,?,?,?,?,?,?,?)");
  const std::string file = "routes.txt";
  each_row(file, {"route_id", "route_type"},
           {"agency_id", "route_short_name", "route_long_name", "route_color", "route_text_color"},
           [&](TableReader& r) {
             std::string id(r.need("route_id"));
             if (id.empty()) return;
             if (!routes_.insert(id).second) {
               if_used(Record::route, id,
                       {Severity::error, file, r.line(), "route_id", id,
                        "duplicate route_id: which of the two a trip runs is a guess"},
                       "no trip runs it; this row is ignored");
               return;
             }
             auto type_text = r["route_type"];
             auto type = parse_int(type_text);
             if (!type || *type < 0) {
               problems_.warning(file, r.line(), "route_type", std::string(type_text),
                                 "must be a GTFS route type number", "read as 3 (bus)");
               type = 3;
             }
             auto short_name = r["route_short_name"];
             auto long_name = r["route_long_name"];
             if (short_name.empty() && long_name.empty()) {
               if_used(Record::route, id,
                       {Severity::error, file, r.line(), "route_short_name", "",
                        "route " + id + " has neither a short nor a long name to announce"},
                       "no trip runs it; kept");
             }
             std::string agency(r["agency_id"]);
             if (!agency.empty() && !agencies_.contains(agency)) {
               // The agency is neither announced nor shown.
               problems_.warning(file, r.line(), "agency_id", agency,
                                 "not an agency_id in agency.txt", "link dropped");
               agency.clear();
             } else if (agency.empty() && agencies_.size() > 1) {
               problems_.warning(file, r.line(), "agency_id", "",
                                 "the feed has several agencies: route " + id + " names none",
                                 "kept without an agency");
             }
             if (!agency.empty()) agencies_named_.insert(agency);
             insert.bind(1, id).bind(2, agency).bind(3, short_name).bind(4, long_name);
             insert.bind(5, static_cast<std::int64_t>(*type)).bind(6, r["route_color"]);
             insert.bind(7, r["route_text_color"]);
             insert.bind(8, static_cast<std::int64_t>(r.line())).run();
             route_rows_.emplace_back(id, r.line());
             ++counts_.routes;
           });
}

}  // namespace stopcall::routes::gtfs_import
