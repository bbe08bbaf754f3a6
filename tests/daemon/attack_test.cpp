// The running daemon attacked over its real sockets, as one local client or a careless page could:
// whatever they do, the bus goes on answering its vehicle systems and the driver's console.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "tests/daemon/daemon_process.hpp"
#include "tests/hmi/test_client.hpp"

namespace stopcall::testing {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// What the shipped unit allows the service (LimitNOFILE=), which the daemon is tested at.
long unit_limit(const std::string& key) {
  std::ifstream unit(std::string(STOPCALL_SOURCE_DIR) + "/systemd/stopcall.service");
  std::string line;
  while (std::getline(unit, line)) {
    if (line.rfind(key + "=", 0) == 0) return std::stol(line.substr(key.size() + 1));
  }
  return -1;
}

// The test process opens more connections than the daemon may have descriptors.
void raise_own_file_limit(long wanted) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < static_cast<rlim_t>(wanted)) {
    limit.rlim_cur = std::min<rlim_t>(static_cast<rlim_t>(wanted), limit.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

TEST(Attack, AControlClientThatNeverReadsIsCutOffAndOthersAreStillAnswered) {
  DaemonProcess daemon;
  const long rss_before = daemon.rss_kb();
  auto writer = RawSocket::unix_stream(daemon.control_socket());
  ASSERT_TRUE(writer.ok());
  // Lines the daemon must answer, written as fast as it takes them; the answers are never read.
  std::string chunk;
  for (int i = 0; i < 32768; ++i)
    chunk += "x\n";
  std::size_t written = 0;
  bool cut_off = false;
  const auto deadline = Clock::now() + 60s;
  while (!cut_off && written < (2u << 20) && Clock::now() < deadline) {
    pollfd p{writer.fd(), POLLOUT, 0};
    if (::poll(&p, 1, 1000) <= 0) continue;
    if (p.revents & (POLLERR | POLLHUP)) {
      cut_off = true;
      break;
    }
    auto n = ::send(writer.fd(), chunk.data(), chunk.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) cut_off = true;
    if (n > 0) written += static_cast<std::size_t>(n);
  }
  EXPECT_TRUE(cut_off) << "the daemon still took lines from a client that never reads, after "
                       << written << " bytes";
  // Others are still answered, and the depot can see what happened.
  EXPECT_TRUE(daemon.command(R"({"cmd":"state"})").ok);
  EXPECT_TRUE(daemon.wait_log("does not read its answers")) << daemon.log();
  std::cout << "[          ] RSS " << rss_before << " KiB before, " << daemon.rss_kb()
            << " KiB after " << written << " bytes from a client that never reads"
            << " (sanitizer build)\n";
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

TEST(Attack, ControlConnectionsAreCappedAndIdleOnesClosed) {
  DaemonProcess::Options options;
  options.vehicle_extra = "control_idle_timeout_s = 2\n";
  DaemonProcess daemon(options);
  std::vector<RawSocket> held;
  for (int i = 0; i < 32; ++i) {
    held.push_back(RawSocket::unix_stream(daemon.control_socket()));
    ASSERT_TRUE(held.back().ok());
    ASSERT_TRUE(held.back().send_all("{\"cmd\":\"state\"}\n"));
    ASSERT_THAT(held.back().read(10s), HasSubstr("\"ok\":true")) << "connection " << i;
  }
  // One more is told why and closed; a vehicle system tries again later.
  auto extra = RawSocket::unix_stream(daemon.control_socket());
  ASSERT_TRUE(extra.ok());
  const std::string refusal = extra.read(10s);
  EXPECT_THAT(refusal, HasSubstr("\"error\":\"busy\"")) << refusal;
  EXPECT_TRUE(extra.closed_by_peer(10s));
  // Connections that send nothing are closed after the idle timeout, so they hold no place.
  for (auto& s : held)
    EXPECT_TRUE(s.closed_by_peer(20s));
  EXPECT_TRUE(daemon.command(R"({"cmd":"state"})").ok);
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

TEST(Attack, OutOfFileDescriptorsTheDaemonWaitsInsteadOfSpinning) {
  const long limit = unit_limit("LimitNOFILE");
  ASSERT_GT(limit, 64) << "systemd/stopcall.service sets no LimitNOFILE";
  raise_own_file_limit(limit + 512);
  DaemonProcess::Options options;
  options.max_files = limit;
  DaemonProcess daemon(options);
  // Idle connections to the screens' port until the daemon has no descriptor left.
  std::vector<RawSocket> hogs;
  for (int round = 0; round < 100 && daemon.open_files() < limit; ++round) {
    for (int i = 0; i < 64; ++i) {
      hogs.push_back(RawSocket::tcp(daemon.http_port()));
      ASSERT_TRUE(hogs.back().ok());
    }
    std::this_thread::sleep_for(50ms);
  }
  std::this_thread::sleep_for(500ms);
  ASSERT_GE(daemon.open_files(), limit) << "the daemon's descriptors are not used up";
  // A vehicle system connects meanwhile: its connection waits in the backlog.
  auto late = RawSocket::unix_stream(daemon.control_socket());
  ASSERT_TRUE(late.ok());
  ASSERT_TRUE(late.send_all("{\"cmd\":\"state\"}\n"));
  const double cpu_before = daemon.cpu_s();
  const auto wall_before = Clock::now();
  std::this_thread::sleep_for(3s);
  const double cpu = daemon.cpu_s() - cpu_before;
  const double wall = std::chrono::duration<double>(Clock::now() - wall_before).count();
  std::cout << "[          ] out of descriptors: " << cpu << " s CPU in " << wall
            << " s (sanitizer build)\n";
  EXPECT_LT(cpu, 0.25 * wall) << "the daemon spins while it cannot accept";
  // Descriptors free again: the waiting connection is served, and the screens too.
  hogs.clear();
  EXPECT_THAT(late.read(20s), HasSubstr("\"ok\":true")) << daemon.log();
  auto page = hmi::test::http_request(daemon.http_port(), hmi::test::http::verb::get, "/");
  EXPECT_EQ(page.result_int(), 200);
  EXPECT_TRUE(daemon.wait_log("accept failed")) << "the operator is told";
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

}  // namespace
}  // namespace stopcall::testing
