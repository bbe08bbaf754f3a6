// The live client against a gpsd that sends what libgps cannot take: a fake gpsd on a local
// socket writes a line libgps 3.22's parser would loop on for ever, then a good report. The client
// reads the socket itself (JsonLineReader), so the good fix still arrives and the loop goes on.
#include "daemon/gps/gpsd_client.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "gpsfake.hpp"

namespace stopcall::gps {
namespace {

// Accepts one client on 127.0.0.1:port, reads its watch request, sends `lines`, then holds the
// connection open until destroyed.
class FakeGpsd {
 public:
  FakeGpsd(int port, std::string lines) : lines_(std::move(lines)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int yes = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bound_ = ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
             ::listen(listener_, 1) == 0;
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeGpsd() {
    done_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    if (client_ >= 0) ::shutdown(client_, SHUT_RDWR);
    thread_.join();
    if (client_ >= 0) ::close(client_);
    ::close(listener_);
  }
  bool bound() const { return bound_; }

 private:
  void serve() {
    int fd = ::accept(listener_, nullptr, nullptr);
    if (fd < 0) return;
    client_ = fd;
    char buf[512];
    if (::read(fd, buf, sizeof buf) <= 0) return;  // ?WATCH={...}
    (void)!::write(fd, lines_.data(), lines_.size());
    while (!done_ && ::read(fd, buf, sizeof buf) > 0) {
    }
  }

  std::string lines_;
  int listener_ = -1;
  std::atomic<int> client_{-1};
  std::atomic<bool> done_{false};
  bool bound_ = false;
  std::thread thread_;
};

TEST(GpsdClient, ALineLibgpsWouldLoopOnDoesNotStopTheFixesAfterIt) {
  int port = stopcall::testing::test_port(77);
  FakeGpsd gpsd(port,
                "{\"class\":\"VERSION\",\"release\":\"3.22\",\"proto_major\":3}\r\n"
                "{x\"class\":\"TPV\"}\r\n"
                "{\"class\":\"TPV\",\"mode\":3,\"time\":\"2026-03-02T07:30:00.000Z\","
                "\"lat\":22.54,\"lon\":114.05,\"speed\":8.0}\r\n");
  ASSERT_TRUE(gpsd.bound());
  boost::asio::io_context io;
  std::vector<tracking::Fix> fixes;
  GpsdOptions options;
  options.port = std::to_string(port);
  GpsdClient client(
      io, options, [&](const tracking::Fix& f) { fixes.push_back(f); },
      [](GpsdState, const std::string&) {});
  // A loop in libgps would never return from run_for: the watchdog then ends the test process as
  // a failure, instead of leaving it hanging.
  std::atomic<bool> finished{false};
  std::thread watchdog([&] {
    for (int i = 0; i < 1200 && !finished; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!finished) {
      std::fprintf(stderr, "the client is stuck in a line from gpsd\n");
      std::_Exit(1);
    }
  });
  client.start();
  for (int i = 0; i < 300 && fixes.empty(); ++i)
    io.run_for(std::chrono::milliseconds(100));
  finished = true;
  watchdog.join();
  ASSERT_EQ(fixes.size(), 1u);
  EXPECT_TRUE(fixes[0].usable());
  EXPECT_NEAR(fixes[0].position->lat, 22.54, 1e-9);
  EXPECT_EQ(client.state(), GpsdState::connected);
  client.stop();
}

}  // namespace
}  // namespace stopcall::gps
