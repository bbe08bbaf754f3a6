// calendar.txt and calendar_dates.txt (importer_state.hpp).
#include "routes/gtfs_values.hpp"
#include "routes/import/importer_state.hpp"

namespace stopcall::routes::gtfs_import {

using gtfs::valid_date;

void Importer::read_calendars() {
  auto insert =
      db_.prepare("INSERT INTO calendar(service_id,days,start_date,end_date) VALUES(?,?,?,?)");
  static const char* const kDays[] = {"monday", "tuesday",  "wednesday", "thursday",
                                      "friday", "saturday", "sunday"};
  const std::string file = "calendar.txt";
  each_row(file,
           {"service_id", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
            "sunday", "start_date", "end_date"},
           {}, [&](TableReader& r) {
             std::string id(r.need("service_id"));
             if (id.empty()) return;
             // A bad row still names its service: trips of it are not also "of no service".
             if (!services_.insert(id).second) {
               if_used(Record::service, id,
                       {Severity::error, file, r.line(), "service_id", id,
                        "duplicate service_id: on which days its trips run is a guess"},
                       "no trip runs on it; this row is ignored");
               return;
             }
             const std::string unused = "no trip runs on service " + id + "; this row is ignored";
             int days = 0;
             for (int d = 0; d < 7; ++d) {
               auto v = r[kDays[d]];
               if (v == "1") {
                 days |= 1 << d;
               } else if (v != "0") {
                 if_used(
                     Record::service, id,
                     {Severity::error, file, r.line(), kDays[d], std::string(v), "must be 0 or 1"},
                     unused);
                 return;
               }
             }
             auto start = r["start_date"], end = r["end_date"];
             for (auto [name, v] : {std::pair{"start_date", start}, std::pair{"end_date", end}}) {
               if (!valid_date(v)) {
                 if_used(Record::service, id,
                         {Severity::error, file, r.line(), name, std::string(v),
                          "must be a date as YYYYMMDD"},
                         unused);
                 return;
               }
             }
             insert.bind(1, id).bind(2, days).bind(3, start).bind(4, end).run();
           });
  auto insert_date = db_.prepare(
      "INSERT OR REPLACE INTO calendar_dates(service_id,date,exception_type) VALUES(?,?,?)");
  each_row("calendar_dates.txt", {"service_id", "date", "exception_type"}, {}, [&](TableReader& r) {
    const std::string file = "calendar_dates.txt";
    std::string id(r.need("service_id"));
    if (id.empty()) return;
    services_.insert(id);
    auto date = r["date"];
    auto type = r["exception_type"];
    const std::string unused = "no trip runs on service " + id + "; this row is ignored";
    if (!valid_date(date)) {
      if_used(Record::service, id,
              {Severity::error, file, r.line(), "date", std::string(date),
               "must be a date as YYYYMMDD"},
              unused);
      return;
    }
    if (type != "1" && type != "2") {
      if_used(Record::service, id,
              {Severity::error, file, r.line(), "exception_type", std::string(type),
               "must be 1 (added) or 2 (removed)"},
              unused);
      return;
    }
    insert_date.bind(1, id).bind(2, date).bind(3, type == "1" ? 1 : 2).run();
  });
}

}  // namespace stopcall::routes::gtfs_import
