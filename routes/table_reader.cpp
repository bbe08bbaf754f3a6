#include "routes/table_reader.hpp"

namespace stopcall::routes {

namespace {

std::string cells(std::size_t n) {
  return std::to_string(n) + (n == 1 ? " cell" : " cells");
}

}  // namespace

TableReader::TableReader(ByteStream& stream, std::string file, std::size_t max_record_bytes,
                         Problems& problems)
    : csv_(stream, std::move(file), max_record_bytes), problems_(problems) {
  width_ = csv_.header().size();
  named_width_ = width_;
  // "a,b,c," gives the header a nameless last column: rows without that cell are not short.
  while (named_width_ > 0 && csv_.header()[named_width_ - 1].empty())
    --named_width_;
}

bool TableReader::columns(std::initializer_list<std::string_view> required,
                          std::initializer_list<std::string_view> optional) {
  bool ok = true;
  for (auto name : required) {
    int c = csv_.column(name);
    if (c < 0) {
      problems_.error(file(), 1, std::string(name), "",
                      "required column " + std::string(name) + " is missing from the header");
      ok = false;
    }
    columns_.emplace(std::string(name), c);
  }
  for (auto name : optional)
    columns_.emplace(std::string(name), csv_.column(name));
  return ok;
}

bool TableReader::next() {
  if (!csv_.next()) return false;
  check_cells();
  return true;
}

void TableReader::skip_rest() {
  while (csv_.next()) {
  }
}

void TableReader::check_cells() {
  const std::size_t n = csv_.field_count();
  if (n > width_) {
    Misfits& m = longer_;
    if (++m.count > m.named) {
      if (m.first_unnamed == 0) m.first_unnamed = line();
      m.last_line = line();
      return;
    }
    std::string ignored, first;
    std::size_t empty = 0;
    for (std::size_t i = width_; i < n; ++i) {
      auto v = csv_.field(static_cast<int>(i));
      if (v.empty()) {
        ++empty;
        continue;
      }
      std::string shown(v.substr(0, 40));
      if (v.size() > 40) shown += "...";
      ignored += (ignored.empty() ? "" : ", ") + std::string("cell ") + std::to_string(i + 1) +
                 " '" + shown + "'";
      if (first.empty()) first = shown;
    }
    std::string action;
    if (!ignored.empty()) action = "ignored: " + ignored;
    if (empty > 0) {
      action += (action.empty() ? "" : "; ") +
                (empty == 1
                     ? std::string("the empty cell past the header is dropped")
                     : "the " + std::to_string(empty) + " empty cells past the header are dropped");
    }
    problems_.warning(file(), line(), "", first,
                      "the row has " + cells(n) + ", the header " + std::to_string(width_), action);
  } else if (n < named_width_) {
    Misfits& m = shorter_;
    if (++m.count > m.named) {
      if (m.first_unnamed == 0) m.first_unnamed = line();
      m.last_line = line();
      return;
    }
    std::string missing;
    for (std::size_t i = n; i < named_width_; ++i) {
      if (csv_.header()[i].empty()) continue;
      missing += (missing.empty() ? "" : ", ") + csv_.header()[i];
    }
    problems_.warning(file(), line(), "", "",
                      "the row has " + cells(n) + ", the header " + std::to_string(width_),
                      "read as empty: " + missing);
  }
}

void TableReader::finish() {
  auto sum_up = [&](const Misfits& m, const char* what, const char* action) {
    if (m.count <= m.named) return;
    std::uint64_t more = m.count - m.named;
    problems_.warning(file(), m.first_unnamed, "", "",
                      std::to_string(more) + (more == 1 ? " more row has " : " more rows have ") +
                          what + " than the header, from this line to line " +
                          std::to_string(m.last_line),
                      action);
  };
  sum_up(longer_, "more cells", "read the same way: empty extra cells dropped, others ignored");
  sum_up(shorter_, "fewer cells", "read the same way: the missing cells read as empty");
}

std::string_view TableReader::operator[](std::string_view column) const {
  auto it = columns_.find(column);
  return it == columns_.end() ? std::string_view() : csv_.field(it->second);
}

std::string_view TableReader::need(std::string_view column) {
  auto v = (*this)[column];
  if (v.empty()) {
    auto it = columns_.find(column);
    int index = it == columns_.end() ? -1 : it->second;
    std::string why = "required value is empty";
    if (index >= 0 && static_cast<std::size_t>(index) >= csv_.field_count()) {
      why = "required value is missing: the row has " + cells(csv_.field_count()) +
            ", the header " + std::to_string(width_);
    }
    problems_.error(file(), line(), std::string(column), "", why);
  }
  return v;
}

}  // namespace stopcall::routes
