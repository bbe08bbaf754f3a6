// The daemon's messages to the systemd journal (sd_journal_send): each "error: …", "warning: …",
// "info: …" line becomes one entry with its PRIORITY, SYSLOG_IDENTIFIER=stopcalld and
// STOPCALL_COMPONENT (the word before the next colon: "gpsd", "media", "gpio", …), and a fault
// that repeats (a sensor chattering, a speaker cable loose) is rate-limited: `burst` entries per
// `interval` for the same message (digits ignored), then one entry saying how many were
// suppressed. Without a journal the lines go to the fallback stream unchanged.
#pragma once

#include <chrono>
#include <map>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>

namespace stopcall::daemon {

struct LogRecord {
  int priority = 6;  // syslog: 3 error, 4 warning, 6 info, 7 debug
  std::string component;
  std::string message;  // the line without its level prefix
};

// "warning: media: clip missing" -> {4, "media", "media: clip missing"}.
LogRecord parse_log_line(std::string_view line);

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  RateLimiter(int burst, std::chrono::seconds interval) : burst_(burst), interval_(interval) {}

  struct Verdict {
    bool pass = true;
    long suppressed_before = 0;  // > 0: say first that this many like it were suppressed
  };
  Verdict check(const LogRecord& record, Clock::time_point now);

 private:
  struct Window {
    Clock::time_point start;
    int count = 0;
    long suppressed = 0;
  };
  static std::string key(const LogRecord& record);
  int burst_;
  std::chrono::seconds interval_;
  std::map<std::string, Window> windows_;
};

class JournalBuf : public std::streambuf {
 public:
  explicit JournalBuf(std::ostream& fallback, int burst = 5,
                      std::chrono::seconds interval = std::chrono::seconds(30));
  ~JournalBuf() override;
  long sent() const { return sent_; }
  long suppressed() const { return suppressed_; }

 protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;

 private:
  void line_done();
  void send(const LogRecord& record);

  std::ostream& fallback_;
  RateLimiter limiter_;
  std::string line_;
  bool journal_;
  long sent_ = 0;
  long suppressed_ = 0;
};

}  // namespace stopcall::daemon
