// The systemd protocol against a real datagram socket set as NOTIFY_SOCKET, as systemd does.
#include "daemon/service/notify.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <filesystem>
#include <thread>

#include "routes/importer.hpp"
#include "tests/routes/test_feed.hpp"

namespace stopcall::daemon {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// A bound AF_UNIX datagram socket standing in for systemd, exported as NOTIFY_SOCKET.
class FakeSystemd {
 public:
  FakeSystemd() {
    path_ = std::filesystem::path(::testing::TempDir()) /
            ("notify-" + std::to_string(::getpid()) + ".sock");
    std::filesystem::remove(path_);
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  }
  ~FakeSystemd() {
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
    ::close(fd_);
    std::filesystem::remove(path_);
  }
  // Every datagram received so far.
  std::vector<std::string> drain() {
    std::vector<std::string> out;
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd_, buf, sizeof buf, 0)) > 0)
      out.emplace_back(buf, static_cast<size_t>(n));
    return out;
  }
  // Waits up to `limit` for a datagram containing `text`.
  std::string wait_for(const std::string& text, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      for (auto& m : drain()) {
        if (m.find(text) != std::string::npos) return m;
      }
      std::this_thread::sleep_for(10ms);
    }
    return {};
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

long count(const std::vector<std::string>& messages, const std::string& text) {
  return std::count_if(messages.begin(), messages.end(),
                       [&](const std::string& m) { return m.find(text) != std::string::npos; });
}

TEST(ServiceNotifier, ReadyAndStatusReachSystemd) {
  FakeSystemd systemd;
  boost::asio::io_context io;
  ServiceNotifier notifier(io);
  notifier.ready("tracking trip T1");
  notifier.status("gpsd connected");
  auto got = systemd.drain();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_THAT(got[0], HasSubstr("READY=1"));
  EXPECT_THAT(got[0], HasSubstr("STATUS=tracking trip T1"));
  EXPECT_EQ(got[1], "STATUS=gpsd connected");
}

TEST(ServiceNotifier, WatchdogIsPettedOnlyWhileTheLoopRuns) {
  FakeSystemd systemd;
  ::setenv("WATCHDOG_USEC", "100000", 1);  // 100 ms: petted every 50 ms
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  boost::asio::io_context io;
  ServiceNotifier notifier(io);
  ASSERT_TRUE(notifier.start_watchdog());
  EXPECT_EQ(notifier.watchdog_interval(), 100ms);
  io.run_for(500ms);
  EXPECT_GE(count(systemd.drain(), "WATCHDOG=1"), 5);

  // A wedged loop: a handler that does not return for 400 ms. Nothing is petted meanwhile.
  io.restart();
  boost::asio::post(io, [&] {
    std::this_thread::sleep_for(400ms);
    io.stop();
  });
  io.run();
  EXPECT_EQ(count(systemd.drain(), "WATCHDOG=1"), 0) << "petted while the loop was stuck";

  io.restart();
  io.run_for(300ms);
  EXPECT_GE(count(systemd.drain(), "WATCHDOG=1"), 2) << "petting resumes with the loop";
}

TEST(ServiceNotifier, WithoutSystemdNothingHappens) {
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  boost::asio::io_context io;
  ServiceNotifier notifier(io);
  notifier.ready("x");
  EXPECT_FALSE(notifier.start_watchdog());
}

TEST(Stopcalld, TellsSystemdItIsReadyEvenWhileGpsdIsAway) {
  routes::testing::TempDir dir;
  const std::string demo_bundle = dir / "demo.db";
  ASSERT_TRUE(routes::testing::import_demo(demo_bundle));
  FakeSystemd systemd;
  ::setenv("WATCHDOG_USEC", "2000000", 1);
  ::unsetenv("WATCHDOG_PID");
  // Port 1 on loopback: nothing listens, so gpsd is "being retried".
  std::string cmd = std::string(STOPCALL_BINARY_DIR) + "/daemon/stopcalld run --routes " +
                    (dir / "demo.db") + " --gpsd 127.0.0.1:1 --exit-after 1.5 2>&1";
  auto started = std::chrono::steady_clock::now();
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string ready = systemd.wait_for("READY=1", 5s);
  auto ready_after = std::chrono::steady_clock::now() - started;
  std::string output;
  char buf[1024];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p))
    output.append(buf, n);
  EXPECT_EQ(::pclose(p), 0) << output;
  EXPECT_THAT(ready, HasSubstr("STATUS=detecting the trip"));
  EXPECT_THAT(output, HasSubstr("gpsd disconnected"));
  std::cout << "[          ] READY after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(ready_after).count()
            << " ms (demo bundle, sanitizer build)\n";
}

}  // namespace
}  // namespace stopcall::daemon
