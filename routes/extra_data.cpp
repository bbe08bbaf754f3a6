#include "routes/extra_data.hpp"

#include <sodium.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "routes/message_presets.hpp"
#include "routes/table_reader.hpp"

namespace stopcall::routes {

namespace fs = std::filesystem;

namespace {

class ExtraReader {
 public:
  ExtraReader(const ExtraData& extra, sql::Db& db, Problems& problems)
      : extra_(extra),
        db_(db),
        problems_(problems),
        source_(FeedSource::open(extra.dir, extra.limits)) {}

  ExtraCounts read() {
    read_stop_phrases();
    read_route_exterior();
    read_stop_clips();
    read_messages();
    return counts_;
  }

 private:
  void rows(const std::string& file, std::initializer_list<std::string_view> required,
            const std::function<void(TableReader&)>& row) {
    if (!source_->has(file)) return;
    auto stream = source_->open_file(file);
    try {
      TableReader table(*stream, file, extra_.limits.max_record_bytes, problems_);
      if (!table.columns(required)) return;
      while (table.next())
        row(table);
      table.finish();
    } catch (const CsvError& e) {
      problems_.error(file, e.line(), "", "", e.what());
    }
  }

  bool check_stop_row(const TableReader& r, std::string_view stop, std::string_view lang,
                      std::string_view text) {
    if (!extra_.stop_exists(stop)) {
      problems_.error(r.file(), r.line(), "stop_id", std::string(stop),
                      "not a stop_id in stops.txt");
      return false;
    }
    if (lang.empty() || text.empty()) {
      problems_.error(r.file(), r.line(), "text", "", "language and text are required");
      return false;
    }
    return true;
  }

  void read_stop_phrases() {
    auto insert =
        db_.prepare("INSERT OR REPLACE INTO stop_phrases(stop_id,language,text) VALUES(?,?,?)");
    rows("stop_phrases.csv", {"stop_id", "language", "text"}, [&](TableReader& r) {
      auto stop = r["stop_id"], lang = r["language"], text = r["text"];
      if (!check_stop_row(r, stop, lang, text)) return;
      insert.bind(1, stop).bind(2, lang).bind(3, text).run();
      ++counts_.stop_phrases;
    });
  }

  void read_route_exterior() {
    auto insert =
        db_.prepare("INSERT OR REPLACE INTO route_exterior(route_id,language,text) VALUES(?,?,?)");
    rows("route_exterior.csv", {"route_id", "language", "text"}, [&](TableReader& r) {
      auto route = r["route_id"], lang = r["language"], text = r["text"];
      if (!extra_.route_exists(route)) {
        problems_.error(r.file(), r.line(), "route_id", std::string(route),
                        "not a route_id in routes.txt");
        return;
      }
      if (lang.empty() || text.empty()) {
        problems_.error(r.file(), r.line(), "text", "", "language and text are required");
        return;
      }
      insert.bind(1, route).bind(2, lang).bind(3, text).run();
    });
  }

  void read_stop_clips() {
    auto insert_clip = db_.prepare("INSERT OR IGNORE INTO clips(sha256,format,data) VALUES(?,?,?)");
    auto insert_stop_clip = db_.prepare(
        "INSERT OR REPLACE INTO stop_clips(stop_id,language,purpose,sha256,text) "
        "VALUES(?,?,?,?,?)");
    rows("stop_clips.csv", {"stop_id", "language", "purpose", "file", "text"}, [&](TableReader& r) {
      auto stop = r["stop_id"], lang = r["language"], text = r["text"];
      auto purpose = r["purpose"], file = r["file"];
      if (!check_stop_row(r, stop, lang, text)) return;
      if (purpose != "name" && purpose != "phrase") {
        problems_.error(r.file(), r.line(), "purpose", std::string(purpose),
                        "must be 'name' or 'phrase'");
        return;
      }
      fs::path path = fs::path(extra_.dir) / std::string(file);
      std::string ext = path.extension().string();
      if (!ext.empty()) ext.erase(0, 1);
      static const std::set<std::string> kFormats = {"wav", "ogg", "opus", "mp3", "flac"};
      if (!kFormats.contains(ext)) {
        problems_.error(r.file(), r.line(), "file", std::string(file),
                        "clips must be .wav, .ogg, .opus, .mp3 or .flac");
        return;
      }
      std::ifstream in(path, std::ios::binary);
      std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (!in.good() && !in.eof()) data.clear();
      if (data.empty()) {
        problems_.error(r.file(), r.line(), "file", std::string(file),
                        "clip file is missing or empty");
        return;
      }
      unsigned char digest[crypto_hash_sha256_BYTES];
      crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
      char hex[crypto_hash_sha256_BYTES * 2 + 1];
      sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
      insert_clip.bind(1, std::string_view(hex)).bind(2, ext);
      insert_clip.bind_blob(3, data.data(), data.size()).run();
      if (sqlite3_changes(db_.handle()) > 0) ++counts_.clips;  // stored once per content
      insert_stop_clip.bind(1, stop).bind(2, lang).bind(3, purpose);
      insert_stop_clip.bind(4, std::string_view(hex)).bind(5, text).run();
    });
  }

  void read_messages() {
    const std::string file(kMessagesFile);
    if (!source_->has(file)) return;
    auto stream = source_->open_file(file);
    try {
      TableReader table(*stream, file, extra_.limits.max_record_bytes, problems_);
      counts_.message_presets = read_message_presets(table, db_, problems_);
    } catch (const CsvError& e) {
      problems_.error(file, e.line(), "", "", e.what());
    }
  }

  const ExtraData& extra_;
  sql::Db& db_;
  Problems& problems_;
  std::unique_ptr<FeedSource> source_;
  ExtraCounts counts_;
};

}  // namespace

ExtraCounts read_extra_data(const ExtraData& extra, sql::Db& db, Problems& problems) {
  return ExtraReader(extra, db, problems).read();
}

}  // namespace stopcall::routes
