// The running daemon attacked over its real sockets, as one local client or a careless page could:
// whatever they do, the bus goes on answering its vehicle systems and the driver's console.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <fstream>
#include <map>
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

// The HTTP status of a WebSocket handshake with these Host and Origin headers (101: accepted).
int handshake(std::uint16_t port, const std::string& target, const std::string& host,
              const std::string& origin = {}) {
  auto s = RawSocket::tcp(port);
  if (!s.ok()) return -1;
  std::string request =
      "GET " + target + " HTTP/1.1\r\nHost: " + host +
      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
  if (!origin.empty()) request += "Origin: " + origin + "\r\n";
  request += "\r\n";
  if (!s.send_all(request)) return -1;
  const std::string response = s.read(15s);
  std::smatch status;
  if (!std::regex_search(response, status, std::regex(R"(^HTTP/1\.1 (\d+))"))) return -1;
  return std::stoi(status[1]);
}

TEST(Attack, SixtyFourDisplaysAndAnonymousConsolesDoNotLockTheDriverOut) {
  DaemonProcess daemon;
  const auto port = daemon.http_port();
  std::vector<std::unique_ptr<hmi::test::WsClient>> displays;
  for (int i = 0; i < 64; ++i)
    displays.push_back(std::make_unique<hmi::test::WsClient>(port, "/ws"));
  EXPECT_EQ(hmi::test::WsClient::handshake_status(port, "/ws"), 503) << "displays are capped";
  // Connections that say they are the console but never sign in.
  std::vector<std::unique_ptr<hmi::test::WsClient>> squatters;
  for (int i = 0; i < 12; ++i)
    squatters.push_back(std::make_unique<hmi::test::WsClient>(port, "/ws?role=driver"));

  // The real console still gets in, signs in and acts.
  std::unique_ptr<hmi::test::WsClient> console;
  ASSERT_NO_THROW(console = std::make_unique<hmi::test::WsClient>(port, "/ws?role=driver"));
  auto signed_in = console->request({{"type", "auth"}, {"id", "a1"}, {"token", daemon.token()}});
  ASSERT_TRUE(signed_in);
  EXPECT_EQ((*signed_in)["ok"], true) << signed_in->dump();
  auto volume = console->request(
      {{"type", "set_volume"}, {"id", "v1"}, {"output", "interior"}, {"level", 60}});
  ASSERT_TRUE(volume);
  EXPECT_EQ((*volume)["ok"], true) << volume->dump();
  // A console that does not sign in is closed after a few seconds: it holds no place.
  std::size_t closed = 0;
  for (auto& s : squatters) {
    while (s->read(20s)) {
    }
    ++closed;
  }
  EXPECT_EQ(closed, squatters.size());
  EXPECT_TRUE(console->request({{"type", "ping"}, {"id", "p1"}})) << "the console stays";
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

TEST(Attack, GuessingTheConsoleTokenIsSlowedDownAndTheConsoleIsTold) {
  DaemonProcess daemon;
  const auto port = daemon.http_port();
  hmi::test::WsClient console(port, "/ws?role=driver");
  ASSERT_EQ((*console.request({{"type", "auth"}, {"id", "a"}, {"token", daemon.token()}}))["ok"],
            true);
  // Each guess on a new connection, as a guesser reconnects to get five tries again.
  const auto started = Clock::now();
  const int guesses = 8;
  for (int i = 0; i < guesses; ++i) {
    hmi::test::WsClient guesser(port, "/ws?role=driver");
    auto reply = guesser.request({{"type", "auth"},
                                  {"id", "g" + std::to_string(i)},
                                  {"token", "guess-" + std::to_string(i)}},
                                 15s);
    ASSERT_TRUE(reply);
    EXPECT_EQ((*reply)["ok"], false);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  std::cout << "[          ] " << guesses << " wrong tokens took " << seconds << " s\n";
  EXPECT_GT(seconds, 4.0) << "guessing is not slowed down";
  // A token in the query is slowed down the same way.
  const auto query_started = Clock::now();
  EXPECT_EQ(hmi::test::WsClient::handshake_status(port, "/ws?role=driver&token=guess-q"), 401);
  EXPECT_GT(std::chrono::duration<double>(Clock::now() - query_started).count(), 1.0);
  // The right token is not locked out for more than a few seconds.
  const auto right_started = Clock::now();
  hmi::test::WsClient again(port, "/ws?role=driver");
  auto right = again.request({{"type", "auth"}, {"id", "r"}, {"token", daemon.token()}}, 15s);
  ASSERT_TRUE(right);
  EXPECT_EQ((*right)["ok"], true);
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - right_started).count(), 10.0);
  // The console shows that someone is guessing; the log says so for the depot.
  bool told = false;
  while (auto message = console.read(2s)) {
    if ((*message)["type"] == "status" && (*message)["name"] == "console_login") {
      told = (*message)["level"] == "warning" &&
             (*message)["text"].get<std::string>().find("wrong console token") != std::string::npos;
    }
  }
  EXPECT_TRUE(told) << "the console was not told";
  EXPECT_THAT(daemon.log(), HasSubstr("wrong console token from 127.0.0.1"));
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

TEST(Attack, APageElsewhereCannotOpenTheScreensSocket) {
  DaemonProcess::Options options;
  options.screens_extra = "allowed_hosts = [\"bus-1234.local\"]";
  DaemonProcess daemon(options);
  const auto port = daemon.http_port();
  const std::string self = "127.0.0.1:" + std::to_string(port);
  // DNS rebinding: a page on evil.example points its name at the bus; Origin and Host agree.
  EXPECT_EQ(handshake(port, "/ws", "evil.example", "http://evil.example"), 403);
  EXPECT_EQ(handshake(port, "/ws", "evil.example:" + std::to_string(port)), 403);
  // A page elsewhere, whatever the Host.
  EXPECT_EQ(handshake(port, "/ws", self, "http://evil.example"), 403);
  EXPECT_EQ(handshake(port, "/ws", self, "null"), 403);
  // The bus's own address and its configured name.
  EXPECT_EQ(handshake(port, "/ws", self, "http://" + self), 101);
  EXPECT_EQ(handshake(port, "/ws", self), 101);
  EXPECT_EQ(handshake(port, "/ws", "bus-1234.local", "http://bus-1234.local"), 101);
  EXPECT_EQ(handshake(port, "/ws", "BUS-1234.local.:8080", "https://bus-1234.local:8080"), 101);
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

TEST(Attack, BoardingRequestsAreCappedAndTheStateStaysSmall) {
  DaemonProcess daemon;
  auto request = [&](const std::string& stop) {
    return daemon.command(R"({"cmd":"request","kind":"blind","route_id":"101","stop_id":")" + stop +
                          "\"}");
  };
  int accepted = 0;
  std::string refusal;
  for (int i = 0; i < 200; ++i) {
    auto reply = request("CGM-E");
    if (reply.ok) {
      ++accepted;
    } else {
      refusal = reply.error + ": " + reply.message;
    }
  }
  EXPECT_EQ(accepted, 4) << "open requests for one stop";
  EXPECT_THAT(refusal, HasSubstr("too_many: already 4 open requests for CGM-E"));
  // Over every stop of the demo route: the bus takes a bounded number in all.
  std::ifstream stops(std::string(STOPCALL_SOURCE_DIR) + "/routes/demo/shenzhen-101/stops.txt");
  std::string line;
  std::getline(stops, line);
  while (std::getline(stops, line)) {
    for (int i = 0; i < 4; ++i)
      accepted += request(line.substr(0, line.find(','))).ok ? 1 : 0;
  }
  EXPECT_EQ(accepted, 32);
  auto state = daemon.command(R"({"cmd":"state"})");
  ASSERT_TRUE(state.ok);
  EXPECT_LT(state.data.size(), 16u << 10) << "the state reply stays small";
  // An id longer than any real one is refused, not kept.
  auto long_id = daemon.command(R"({"cmd":"request","kind":"blind","route_id":"101",)"
                                R"("stop_id":"XMH-E","request_id":")" +
                                std::string(3000, 'x') + "\"}");
  EXPECT_EQ(long_id.error, "bad_request");
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

// "key<TAB>value" lines, as tools/attack --figures writes them.
std::map<std::string, std::string> read_figures(const std::string& path) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    const auto tab = line.find('\t');
    if (tab != std::string::npos) out[line.substr(0, tab)] = line.substr(tab + 1);
  }
  return out;
}

// Every live interface abused at once while the daemon announces a trip in real time (the
// demo route's first four minutes at 8 times their pace, `stopcalld replay --realtime` with the
// screens, the control socket and a clocked null sink): refused lines on the control socket,
// malformed WebSocket frames and messages from a display and from the console with and without
// its token, 200 connections at once, headers sent a byte a second, clients that never read.
// tools/attack gives the dose (the CI's, a tenth of the bench's) and compares with the same replay
// without it; about a minute. When each announcement was heard, and the daemon's memory, are the
// bench's figures (tools/bench attack, a Release build: the sanitizers' quarantine holds freed
// memory here); this test holds what must be so on any build.
TEST(Attack, AbuseOfEveryInterfaceChangesNothingTheBusDoesAndEveryStopIsHeard) {
  routes::testing::TempDir dir;
  ASSERT_TRUE(routes::testing::import_demo(dir / "demo.db"));
  const std::string figures_path = dir / "figures.tsv";
  const std::string command =
      std::string(STOPCALL_SOURCE_DIR) + "/tools/attack --daemon " + STOPCALL_BINARY_DIR +
      "/daemon/stopcalld --bundle " + (dir / "demo.db") +
      " --dose ci --speed 8 --trip-seconds 240 --figures " + figures_path + " live 2>&1";
  std::string output;
  FILE* attack = ::popen(command.c_str(), "r");
  ASSERT_NE(attack, nullptr);
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, attack))
    output.append(buffer, n);
  const int status = ::pclose(attack);
  std::cout << output;
  ASSERT_EQ(status, 0) << "tools/attack failed";
  auto f = read_figures(figures_path);
  auto number = [&](const std::string& key) {
    return f.count(key) ? std::stod(f.at(key)) : 0.0;  // a count never reached is absent
  };
  // The bus ran the trip to its end, with and without the abuse.
  EXPECT_EQ(number("live.alive"), 1);
  // Every announcement heard without the abuse was heard with it, and none more.
  EXPECT_GE(number("live.announcements_heard_quiet"), 3);
  EXPECT_EQ(number("live.missing"), 0);
  EXPECT_EQ(number("live.extra"), 0);
  // No refused message changed what the bus does: its event log (what it decided, announced,
  // prompted, signalled and set) is line for line the one without the abuse, and none of the
  // abusive lines and messages was taken.
  EXPECT_EQ(number("live.changed"), 0);
  EXPECT_EQ(number("live.lost"), 0);
  EXPECT_EQ(number("live.accepted"), 0);
  // The whole control dose went in, and every line was answered with a refusal (an empty line
  // is ignored).
  EXPECT_EQ(number("live.control.lines"), 1000);
  EXPECT_EQ(number("live.control.unanswered"), 0) << "every control line is answered";
  EXPECT_EQ(number("live.control.refused") + number("live.control.empty"),
            number("live.control.lines"));
  // WebSocket messages go at the pace the daemon answers them: each refused, or its connection
  // closed (a console that does not sign in is let go after 5 s).
  EXPECT_GE(number("live.ws.messages"), 400);
  EXPECT_EQ(number("live.ws.refused") + number("live.ws.display.closed") +
                number("live.ws.anonymous.closed") + number("live.ws.console.closed"),
            number("live.ws.messages"));
  // Each frame that breaks the WebSocket protocol ends its connection.
  EXPECT_GE(number("live.ws.frames"), 50);
  EXPECT_EQ(number("live.ws.frames_closed"), number("live.ws.frames"));
  // 200 connections at once are all answered (pages 200, displays 101 or 503 when full).
  EXPECT_EQ(number("live.burst.status_none"), 0);
  EXPECT_EQ(number("live.burst.status_200"), number("live.burst.connections") / 2);
  // Headers a byte a second are cut off after the HTTP timeout (15 s), not held.
  EXPECT_GE(number("live.slow.closed"), 5);
  EXPECT_LT(number("live.slow.longest_held_s"), 25);
  // A client that never reads is let go.
  EXPECT_GE(number("live.never_reading.control_cut_off"), 1);
  EXPECT_GE(number("live.never_reading.page_closed"), 1);
  EXPECT_LT(number("live.never_reading.page_longest_held_s"), 25);
}

}  // namespace
}  // namespace stopcall::testing
