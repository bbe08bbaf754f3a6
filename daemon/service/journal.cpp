#include "daemon/service/journal.hpp"

#include <syslog.h>
#include <systemd/sd-journal.h>

#include <unistd.h>

#include <cctype>

namespace stopcall::daemon {

LogRecord parse_log_line(std::string_view line) {
  LogRecord r;
  static constexpr std::pair<std::string_view, int> kLevels[] = {{"error: ", LOG_ERR},
                                                                 {"warning: ", LOG_WARNING},
                                                                 {"info: ", LOG_INFO},
                                                                 {"debug: ", LOG_DEBUG}};
  r.priority = LOG_INFO;
  for (const auto& [prefix, priority] : kLevels) {
    if (line.substr(0, prefix.size()) == prefix) {
      r.priority = priority;
      line.remove_prefix(prefix.size());
      break;
    }
  }
  r.message = std::string(line);
  // The component: a short first word (letters, digits, dots) before a colon or a space.
  std::size_t end = 0;
  while (end < line.size() && end < 24 &&
         (std::isalnum(static_cast<unsigned char>(line[end])) || line[end] == '.' ||
          line[end] == '_')) {
    ++end;
  }
  if (end > 0 && end < line.size() && (line[end] == ':' || line[end] == ' ')) {
    r.component = std::string(line.substr(0, end));
  }
  return r;
}

std::string RateLimiter::key(const LogRecord& record) {
  std::string k = std::to_string(record.priority) + "|";
  for (char c : record.message)
    k += std::isdigit(static_cast<unsigned char>(c)) ? '#' : c;
  return k;
}

RateLimiter::Verdict RateLimiter::check(const LogRecord& record, Clock::time_point now) {
  auto& w = windows_[key(record)];
  Verdict v;
  if (w.count == 0 || now - w.start >= interval_) {
    v.suppressed_before = w.suppressed;
    w = Window{now, 0, 0};
  }
  if (w.count < burst_) {
    ++w.count;
    return v;
  }
  ++w.suppressed;
  v.pass = false;
  if (windows_.size() > 1024) windows_.clear();  // bounded: many distinct messages reset it
  return v;
}

JournalBuf::JournalBuf(std::ostream& fallback, int burst, std::chrono::seconds interval)
    : fallback_(fallback),
      limiter_(burst, interval),
      // sd_journal_send succeeds silently when there is no journal: look for it ourselves.
      journal_(::access("/run/systemd/journal/socket", W_OK) == 0) {}

JournalBuf::~JournalBuf() {
  if (!line_.empty()) line_done();
}

JournalBuf::int_type JournalBuf::overflow(int_type c) {
  if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
  if (c == '\n') {
    line_done();
  } else {
    line_.push_back(static_cast<char>(c));
  }
  return c;
}

std::streamsize JournalBuf::xsputn(const char* s, std::streamsize n) {
  for (std::streamsize i = 0; i < n; ++i)
    overflow(traits_type::to_int_type(s[i]));
  return n;
}

void JournalBuf::line_done() {
  LogRecord record = parse_log_line(line_);
  line_.clear();
  auto verdict = limiter_.check(record, RateLimiter::Clock::now());
  if (verdict.suppressed_before > 0) {
    LogRecord note = record;
    note.message = std::to_string(verdict.suppressed_before) +
                   " more like this were suppressed: " + record.message;
    send(note);
  }
  if (!verdict.pass) {
    ++suppressed_;
    return;
  }
  send(record);
}

void JournalBuf::send(const LogRecord& r) {
  int rc = !journal_ ? -1
           : r.component.empty()
               ? sd_journal_send("MESSAGE=%s", r.message.c_str(), "PRIORITY=%d", r.priority,
                                 "SYSLOG_IDENTIFIER=stopcalld", nullptr)
               : sd_journal_send("MESSAGE=%s", r.message.c_str(), "PRIORITY=%d", r.priority,
                                 "SYSLOG_IDENTIFIER=stopcalld", "STOPCALL_COMPONENT=%s",
                                 r.component.c_str(), nullptr);
  if (rc >= 0) {
    ++sent_;
    return;
  }
  // No journal (a development machine, a container): the plain line, as before.
  static constexpr const char* kNames[] = {"emerg",   "alert",  "crit", "error",
                                           "warning", "notice", "info", "debug"};
  fallback_ << kNames[r.priority & 7] << ": " << r.message << '\n';
  fallback_.flush();
}

}  // namespace stopcall::daemon
