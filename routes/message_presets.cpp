#include "routes/message_presets.hpp"

#include <charconv>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace stopcall::routes {

namespace {

// The columns with a fixed name; their index in the header, or -1.
struct FixedColumns {
  int message_id = -1, kind = -1, outputs = -1, repeat_interval_s = -1, repeat_count = -1,
      expires_after_min = -1;
};

// A per-language column: title_<lang>, text_<lang> or spoken_<lang>.
struct LanguageColumn {
  std::string purpose;  // "title", "text", "spoken" (as stored in message_texts)
  std::string language;
  std::size_t index = 0;
};

constexpr std::string_view kPurposes[] = {"title", "text", "spoken"};

// A BCP 47 tag as column names carry it: subtags of 1 to 8 ASCII letters or digits joined by '-',
// the first of letters only ("zh-Hans", "yue", "en", "pt-BR"). Catches "text_zh_Hans" and
// "text_ en", which would otherwise become languages no voice speaks.
bool is_language_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > 35) return false;
  bool first = true;
  for (std::size_t start = 0;;) {
    auto dash = tag.find('-', start);
    auto sub = tag.substr(start, dash == std::string_view::npos ? dash : dash - start);
    if (sub.empty() || sub.size() > 8) return false;
    for (char c : sub) {
      bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      bool digit = c >= '0' && c <= '9';
      if (!letter && !(digit && !first)) return false;
    }
    if (dash == std::string_view::npos) return true;
    first = false;
    start = dash + 1;
  }
}

// A whole number, 0 or more, that fits an int; nothing otherwise ("-1", "2.5", "30s", "1e3").
std::optional<int> whole_number(std::string_view v) {
  int n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n < 0) return std::nullopt;
  return n;
}

bool has_control_character(std::string_view v) {
  for (unsigned char c : v) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

std::string join(const std::set<std::string>& items) {
  std::string out;
  for (const auto& s : items)
    out += (out.empty() ? "" : ", ") + s;
  return out;
}

class MessagesReader {
 public:
  MessagesReader(TableReader& table, sql::Db& db, Problems& problems)
      : table_(table),
        problems_(problems),
        insert_preset_(db.prepare(
            "INSERT INTO message_presets(message_id,kind,interior,exterior,repeat_interval_s,"
            "repeat_count,expires_after_min,src_line) VALUES(?,?,?,?,?,?,?,?)")),
        insert_text_(db.prepare(
            "INSERT INTO message_texts(message_id,purpose,language,text) VALUES(?,?,?,?)")) {}

  long read() {
    if (!header()) {
      table_.skip_rest();  // the bytes are still checked, so a bad one is reported too
      return 0;
    }
    while (table_.next())
      row();
    table_.finish();
    warn_missing_languages();
    return static_cast<long>(stored_.size());
  }

 private:
  struct Stored {
    std::string id;
    std::uint64_t line;
    std::set<std::string> languages;  // of its texts
  };

  void header_error(const std::string& column, const std::string& message) {
    problems_.error(table_.file(), 1, column, "", message);
  }

  // Finds the columns; false (with errors) when the file cannot be read as messages.
  bool header() {
    const auto& names = table_.header();
    const std::map<std::string_view, int*> fixed = {
        {"message_id", &fixed_.message_id},     {"kind", &fixed_.kind},
        {"outputs", &fixed_.outputs},           {"repeat_interval_s", &fixed_.repeat_interval_s},
        {"repeat_count", &fixed_.repeat_count}, {"expires_after_min", &fixed_.expires_after_min},
    };
    bool ok = true;
    std::set<std::string_view> seen;
    for (std::size_t i = 0; i < names.size(); ++i) {
      const std::string& name = names[i];
      if (name.empty()) continue;  // "a,b," : a trailing comma, no column
      if (!seen.insert(name).second) {
        header_error(name, "column " + name + " appears twice in the header");
        ok = false;
        continue;
      }
      if (auto it = fixed.find(name); it != fixed.end()) {
        *it->second = static_cast<int>(i);
        continue;
      }
      bool per_language = false;
      for (auto purpose : kPurposes) {
        std::string prefix = std::string(purpose) + "_";
        if (!name.starts_with(prefix)) continue;
        per_language = true;
        std::string lang = name.substr(prefix.size());
        if (!is_language_tag(lang)) {
          header_error(name, "'" + lang + "' is not a BCP 47 language tag (write " + prefix +
                                 "zh-Hans, " + prefix + "yue, " + prefix + "en)");
          ok = false;
        } else {
          languages_.push_back({std::string(purpose), lang, i});
        }
      }
      if (!per_language) {
        problems_.warning(table_.file(), 1, name, "", "not a messages.csv column", "ignored");
      }
    }
    for (auto [name, index] :
         {std::pair<const char*, int>{"message_id", fixed_.message_id}, {"kind", fixed_.kind}}) {
      if (index < 0) {
        header_error(name, std::string("required column ") + name + " is missing from the header");
        ok = false;
      }
    }
    bool any_text = false;
    for (const auto& c : languages_)
      any_text = any_text || c.purpose == "text";
    if (!any_text) {
      header_error("text_<lang>",
                   "no text_<lang> column: every message needs its text in at least one language");
      ok = false;
    }
    return ok;
  }

  std::string_view cell(int index) const {
    return index < 0 ? std::string_view() : table_.cell(static_cast<std::size_t>(index));
  }

  void error(std::string_view field, std::string_view value, const std::string& message) {
    problems_.error(table_.file(), table_.line(), std::string(field), std::string(value), message);
    row_ok_ = false;
  }

  // An optional count: empty is 0 (the daemon's default).
  int number(const char* column, int index) {
    auto v = cell(index);
    if (v.empty()) return 0;
    auto n = whole_number(v);
    if (!n) error(column, v, "must be a whole number, 0 or more (empty: the default)");
    return n.value_or(0);
  }

  void row() {
    row_ok_ = true;
    const std::string id(cell(fixed_.message_id));
    if (id.empty()) {
      error("message_id", "", "every message needs a message_id");
    } else if (id.size() > kMaxMessageIdBytes) {
      error("message_id", id,
            "longer than " + std::to_string(kMaxMessageIdBytes) + " bytes; use a short name");
    } else if (has_control_character(id)) {
      // Not echoed: a line break in it would break the one-line message.
      error("message_id", "", "contains a control character (a line break or a tab)");
    } else if (auto [it, fresh] = lines_.emplace(id, table_.line()); !fresh) {
      error("message_id", id, "already used on line " + std::to_string(it->second));
    }

    const auto kind = cell(fixed_.kind);
    const bool emergency = kind == "emergency";
    if (!emergency && kind != "service") error("kind", kind, "must be 'emergency' or 'service'");

    const auto outputs = cell(fixed_.outputs);
    bool interior = true, exterior = emergency;  // the defaults: emergency both, service interior
    if (outputs == "interior") {
      exterior = false;
    } else if (outputs == "exterior") {
      interior = false;
      exterior = true;
    } else if (outputs == "both") {
      exterior = true;
    } else if (!outputs.empty()) {
      error(
          "outputs", outputs,
          "must be 'interior', 'exterior' or 'both' (empty: both for an emergency, interior for a "
          "service message)");
    }

    const int repeat_interval_s = number("repeat_interval_s", fixed_.repeat_interval_s);
    const int repeat_count = number("repeat_count", fixed_.repeat_count);
    const int expires_after_min = number("expires_after_min", fixed_.expires_after_min);

    std::set<std::string> texts;
    for (const auto& c : languages_) {
      if (c.purpose == "text" && !table_.cell(c.index).empty()) texts.insert(c.language);
    }
    for (const auto& c : languages_) {
      if (c.purpose == "spoken" && !table_.cell(c.index).empty() && !texts.contains(c.language)) {
        error("spoken_" + c.language, "",
              "a spoken form without a text_" + c.language +
                  ": the screens would show nothing while it is said");
      }
    }
    if (texts.empty()) error("text", id, "the message has no text in any language");
    if (!row_ok_) return;

    insert_preset_.bind(1, id).bind(2, kind).bind(3, interior ? 1 : 0).bind(4, exterior ? 1 : 0);
    insert_preset_.bind(5, repeat_interval_s).bind(6, repeat_count).bind(7, expires_after_min);
    insert_preset_.bind(8, static_cast<std::int64_t>(table_.line())).run();
    for (const auto& c : languages_) {
      auto text = table_.cell(c.index);
      if (text.empty()) continue;
      insert_text_.bind(1, id).bind(2, c.purpose).bind(3, c.language).bind(4, text).run();
    }
    stored_.push_back({id, table_.line(), std::move(texts)});
  }

  // A message lacking a language the others have is said and shown in the ones it has.
  void warn_missing_languages() {
    std::set<std::string> all;
    for (const auto& m : stored_)
      all.insert(m.languages.begin(), m.languages.end());
    for (const auto& m : stored_) {
      std::set<std::string> missing;
      for (const auto& lang : all) {
        if (!m.languages.contains(lang)) missing.insert(lang);
      }
      if (missing.empty()) continue;
      problems_.warning(table_.file(), m.line, "message_id", m.id,
                        "no text in " + join(missing) + ", which other messages have",
                        "said and shown in " + join(m.languages) + " only");
    }
  }

  TableReader& table_;
  Problems& problems_;
  sql::Stmt insert_preset_, insert_text_;
  FixedColumns fixed_;
  std::vector<LanguageColumn> languages_;
  std::map<std::string, std::uint64_t> lines_;  // message_id -> the line it was first used on
  std::vector<Stored> stored_;
  bool row_ok_ = true;
};

}  // namespace

long read_message_presets(TableReader& table, sql::Db& db, Problems& problems) {
  return MessagesReader(table, db, problems).read();
}

}  // namespace stopcall::routes
