// The daemon's messages in the journal: priorities, the component field, and a repeating fault
// rate-limited. The real sd_journal_send is checked against a journal socket of our own, in a
// private mount namespace (root and unshare needed; skipped with the reason otherwise).
#include "daemon/service/journal.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <sstream>

namespace stopcall::daemon {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

TEST(Journal, LevelsAndComponentsFromTheLine) {
  auto w = parse_log_line("warning: media: clip missing, spoke the text instead");
  EXPECT_EQ(w.priority, 4);
  EXPECT_EQ(w.component, "media");
  EXPECT_EQ(w.message, "media: clip missing, spoke the text instead");
  auto e = parse_log_line("error: gpio gpiochip9 line 3 (door): cannot open the chip");
  EXPECT_EQ(e.priority, 3);
  EXPECT_EQ(e.component, "gpio");
  auto i = parse_log_line("info: audio.interior ok");
  EXPECT_EQ(i.priority, 6);
  EXPECT_EQ(i.component, "audio.interior");
  EXPECT_EQ(parse_log_line("plain words").priority, 6);
}

TEST(Journal, ARepeatingFaultIsRateLimitedThenCounted) {
  RateLimiter limiter(3, 10s);
  const auto t0 = RateLimiter::Clock::now();
  auto record = parse_log_line("warning: door 2 sensor: open at 41 km/h?");
  int passed = 0;
  for (int i = 0; i < 10; ++i) {
    // The speed differs each time: the same message all the same.
    record.message = "door 2 sensor: open at " + std::to_string(40 + i) + " km/h?";
    passed += limiter.check(record, t0 + std::chrono::milliseconds(100 * i)).pass;
  }
  EXPECT_EQ(passed, 3);
  auto other = limiter.check(parse_log_line("warning: gpsd disconnected"), t0 + 2s);
  EXPECT_TRUE(other.pass) << "another message has its own budget";
  auto later = limiter.check(record, t0 + 11s);
  EXPECT_TRUE(later.pass);
  EXPECT_EQ(later.suppressed_before, 7);
}

TEST(Journal, WithoutAJournalTheLinesGoToTheFallback) {
  if (::access("/run/systemd/journal/socket", F_OK) == 0) GTEST_SKIP() << "a journal runs here";
  std::ostringstream fallback;
  {
    JournalBuf buf(fallback);
    std::ostream log(&buf);
    log << "warning: gpsd disconnected: retrying\n";
  }
  EXPECT_EQ(fallback.str(), "warning: gpsd disconnected: retrying\n");
}

// In a child with its own mount namespace: a journal socket of ours where sd_journal_send looks,
// the entries it receives written to `out` one per line ("PRIORITY|COMPONENT|MESSAGE").
int journal_child(int out) {
  if (::unshare(CLONE_NEWNS) != 0) return 77;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return 77;
  if (::mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") != 0) return 77;
  ::mkdir("/run/systemd", 0755);
  ::mkdir("/run/systemd/journal", 0755);
  int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strcpy(a.sun_path, "/run/systemd/journal/socket");
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return 78;
  std::ostringstream fallback;
  {
    JournalBuf buf(fallback, 5, 30s);
    std::ostream log(&buf);
    for (int i = 0; i < 8; ++i)
      log << "warning: media: speaker failed, retrying in " << i << " s\n";
    log << "info: gpsd connected\n";
  }
  if (!fallback.str().empty()) return 79;
  std::string report;
  char buffer[8192];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT)) > 0;) {
    std::string entry(buffer, static_cast<std::size_t>(n)), priority, component, message;
    std::istringstream fields(entry);
    for (std::string field; std::getline(fields, field);) {
      if (field.rfind("PRIORITY=", 0) == 0) priority = field.substr(9);
      if (field.rfind("STOPCALL_COMPONENT=", 0) == 0) component = field.substr(19);
      if (field.rfind("MESSAGE=", 0) == 0) message = field.substr(8);
      if (field == "SYSLOG_IDENTIFIER=stopcalld") message += " [stopcalld]";
    }
    report += priority + "|" + component + "|" + message + "\n";
  }
  return ::write(out, report.data(), report.size()) == static_cast<ssize_t>(report.size()) ? 0 : 80;
}

TEST(Journal, EntriesReachTheJournalWithTheirFields) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    ::_exit(journal_child(fds[1]));
  }
  ::close(fds[1]);
  std::string report;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;)
    report.append(buffer, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
    GTEST_SKIP() << "no private mount namespace here (needs root and unshare): the journal "
                    "socket could not be stood in for";
  }
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  std::vector<std::string> entries;
  std::istringstream lines(report);
  for (std::string line; std::getline(lines, line);)
    entries.push_back(line);
  ASSERT_EQ(entries.size(), 6u) << report;  // 5 of the 8 warnings, then the info
  EXPECT_EQ(entries[0], "4|media|media: speaker failed, retrying in 0 s [stopcalld]");
  EXPECT_EQ(entries[4], "4|media|media: speaker failed, retrying in 4 s [stopcalld]");
  EXPECT_EQ(entries[5], "6|gpsd|gpsd connected [stopcalld]");
}

}  // namespace
}  // namespace stopcall::daemon
