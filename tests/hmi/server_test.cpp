// The screens' server over real sockets on 127.0.0.1 (ephemeral ports), with Beast's own HTTP and
// WebSocket clients, and one raw TCP client that stops reading.
#include "hmi/server.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "test_client.hpp"

namespace stopcall::hmi::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

State sample_state() {
  State state;
  state.utc_offset_min = 480;
  state.trip =
      TripView{"101-WD-E-0630",
               {"101", {{"en", "Window of the World – Grand Theater"}}, "0057A8", "FFFFFF"},
               {{"zh-Hans", "大剧院"}, {"yue", "大劇院"}, {"en", "Grand Theater"}},
               0,
               "101-WD-01"};
  state.next_stop = StopView{"HQC-E", {{"zh-Hans", "华侨城"}, {"yue", "華僑城"}, {"en", "OCT"}},
                             {},      2,
                             1,       Wheelchair::accessible};
  state.coming.push_back(
      StopView{"QCD-E", {{"en", "Qiaocheng East"}}, {}, 3, 2, Wheelchair::accessible});
  state.statuses.push_back({"gps", Level::ok, "3D fix"});
  return state;
}

Status numbered_status(int i, std::size_t bytes = 0) {
  Status status{"test", Level::ok, "message " + std::to_string(i) + " "};
  if (status.text.size() < bytes) status.text.append(bytes - status.text.size(), 'x');
  return status;
}

int status_number(const json& message) {
  const std::string text = message["text"];
  return std::stoi(text.substr(8));
}

class HmiServerTest : public ::testing::Test {
 protected:
  void start(HmiConfig config) {
    server_ = std::make_unique<ServerThread>(std::move(config));
    server_->server().on_driver_action([this](const DriverAction& action) {
      std::lock_guard lock(mutex_);
      actions_.push_back(action);
      return Reply::success("done");
    });
    server_->server().publish_state(sample_state());
    server_->start();
  }
  void start() { start(local_config(web_dir())); }

  std::size_t action_count() {
    std::lock_guard lock(mutex_);
    return actions_.size();
  }

  std::uint16_t port(std::size_t listener = 0) { return server_->port(listener); }

  std::unique_ptr<ServerThread> server_;
  std::mutex mutex_;
  std::vector<DriverAction> actions_;
};

// ---- HTTP ---------------------------------------------------------------------------------------

TEST_F(HmiServerTest, ServesThePagesWithTheirContentTypes) {
  start();
  struct Page {
    const char* target;
    const char* type;
    const char* contains;
  };
  for (const Page& page : {Page{"/", "text/html; charset=utf-8", "<html"},
                           Page{"/index.html", "text/html; charset=utf-8", "aria-live"},
                           Page{"/driver.html", "text/html; charset=utf-8", "ramp"},
                           Page{"/display.css", "text/css; charset=utf-8", "Noto Sans CJK"},
                           Page{"/display.js", "text/javascript; charset=utf-8", "subtitle"},
                           Page{"/driver.js", "text/javascript; charset=utf-8", "ramp_assist"},
                           Page{"/hmi.js", "text/javascript; charset=utf-8", "WebSocket"}}) {
    auto response = http_request(port(), http::verb::get, page.target);
    EXPECT_EQ(response.result_int(), 200u) << page.target;
    EXPECT_EQ(response[http::field::content_type], page.type) << page.target;
    EXPECT_EQ(response["X-Content-Type-Options"], "nosniff");
    EXPECT_THAT(response.body(), HasSubstr(page.contains)) << page.target;
  }
  auto head = http_request(port(), http::verb::head, "/");
  EXPECT_EQ(head.result_int(), 200u);
  EXPECT_NE(head[http::field::content_length], "0");
  EXPECT_TRUE(head.body().empty());
  EXPECT_THAT(std::string(head["Content-Security-Policy"]), HasSubstr("default-src 'self'"));

  EXPECT_EQ(http_request(port(), http::verb::post, "/").result_int(), 405u);
  EXPECT_EQ(http_request(port(), http::verb::get, "/missing.html").result_int(), 404u);
  EXPECT_EQ(http_request(port(), http::verb::get, "/ws").result_int(), 426u);
}

TEST_F(HmiServerTest, RefusesPathTraversal) {
  std::random_device random;
  const fs::path base = fs::temp_directory_path() / ("hmi-traversal-" + std::to_string(random()));
  fs::create_directories(base / "web" / "css");
  std::ofstream(base / "web" / "index.html") << "<html>";
  std::ofstream(base / "secret.txt") << "TOP-SECRET";
  fs::create_symlink(base / "secret.txt", base / "web" / "link.txt");
  start(local_config(base / "web"));

  for (const char* target :
       {"/../secret.txt", "/css/../../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt", "/%252e%252e/secret.txt", "//secret.txt", "/..\\secret.txt",
        "/%5c..%5csecret.txt", "/link.txt", "/index.html%00", "/.%2e/secret.txt",
        "/css/%2e%2e/%2e%2e/secret.txt"}) {
    auto response = http_request(port(), http::verb::get, target);
    EXPECT_THAT(response.result_int(), ::testing::AnyOf(400u, 404u)) << target;
    EXPECT_THAT(response.body(), ::testing::Not(HasSubstr("TOP-SECRET"))) << target;
  }
  server_->shutdown();
  fs::remove_all(base);
}

// ---- WebSocket: state and broadcast -------------------------------------------------------------

TEST_F(HmiServerTest, ANewScreenGetsHelloThenTheWholeState) {
  start();
  WsClient screen(port());
  auto hello = screen.read();
  ASSERT_TRUE(hello);
  EXPECT_EQ((*hello)["type"], "hello");
  EXPECT_EQ((*hello)["protocol"], kProtocolVersion);
  EXPECT_EQ((*hello)["role"], "passenger");
  EXPECT_EQ((*hello)["authenticated"], false);

  auto state = screen.read();
  ASSERT_TRUE(state);
  EXPECT_EQ((*state)["type"], "state");
  EXPECT_EQ((*state)["trip"]["route"]["number"], "101");
  EXPECT_EQ((*state)["next_stop"]["names"]["yue"], "華僑城");
  EXPECT_EQ((*state)["coming"][0]["id"], "QCD-E");
  EXPECT_EQ((*state)["statuses"][0]["name"], "gps");
  EXPECT_GT((*state)["server_time_ms"].get<std::int64_t>(), 1'600'000'000'000);
  EXPECT_EQ(server_->on_io([this] { return server_->server().client_count(); }), 1);
}

TEST_F(HmiServerTest, PublishReachesEveryScreenInOrder) {
  start();
  std::vector<std::unique_ptr<WsClient>> screens;
  for (int i = 0; i < 4; ++i) {
    screens.push_back(std::make_unique<WsClient>(port()));
    ASSERT_TRUE(screens.back()->read_type("state"));
  }
  server_->on_io([this] {
    for (int i = 0; i < 30; ++i)
      server_->server().publish(numbered_status(i));
    server_->server().publish(Subtitle{"c1", "Next stop: OCT", "en", 1, 2, false, {}});
    server_->server().publish(Prompt{"ramp", PromptKind::ramp_deploying, {{"en", "Ramp"}}, true});
  });
  for (auto& screen : screens) {
    std::int64_t last_seq = -1;
    for (int i = 0; i < 30; ++i) {
      auto message = screen->read();
      ASSERT_TRUE(message);
      EXPECT_EQ((*message)["type"], "status");
      EXPECT_EQ(status_number(*message), i);
      if (last_seq >= 0) {
        EXPECT_EQ((*message)["seq"].get<std::int64_t>(), last_seq + 1);
      }
      last_seq = (*message)["seq"];
    }
    auto subtitle = screen->read();
    ASSERT_TRUE(subtitle);
    EXPECT_EQ((*subtitle)["type"], "subtitle");
    EXPECT_EQ((*subtitle)["text"], "Next stop: OCT");
    auto prompt = screen->read();
    ASSERT_TRUE(prompt);
    EXPECT_EQ((*prompt)["kind"], "ramp_deploying");
  }

  // A screen connecting now starts from a state with those changes folded in.
  WsClient late(port());
  auto state = late.read_type("state");
  ASSERT_TRUE(state);
  EXPECT_EQ((*state)["subtitle"]["text"], "Next stop: OCT");
  EXPECT_EQ((*state)["prompts"][0]["id"], "ramp");
  EXPECT_EQ((*state)["statuses"][1]["text"], "message 29 ");
}

TEST_F(HmiServerTest, PublishStateReplacesTheState) {
  start();
  WsClient screen(port());
  ASSERT_TRUE(screen.read_type("state"));
  server_->on_io([this] {
    State state = sample_state();
    state.trip.reset();
    state.next_stop.reset();
    server_->server().publish_state(state);
  });
  auto state = screen.read();
  ASSERT_TRUE(state);
  EXPECT_EQ((*state)["type"], "state");
  EXPECT_TRUE((*state)["trip"].is_null());
}

// ---- who may do what ----------------------------------------------------------------------------

TEST_F(HmiServerTest, AnAuthenticatedConsoleIsHeard) {
  start();
  WsClient console(port(), "/ws?role=driver");
  auto hello = console.read();
  ASSERT_TRUE(hello);
  EXPECT_EQ((*hello)["role"], "driver");
  EXPECT_EQ((*hello)["authenticated"], false);

  auto auth = console.request({{"type", "auth"}, {"id", "a1"}, {"token", "s3cret-console-token"}});
  ASSERT_TRUE(auth);
  EXPECT_EQ((*auth)["id"], "a1");
  EXPECT_EQ((*auth)["ok"], true);

  auto reply = console.request({{"type", "ramp_assist"}, {"id", "c1"}});
  ASSERT_TRUE(reply);
  EXPECT_EQ((*reply)["id"], "c1");
  EXPECT_EQ((*reply)["request_type"], "ramp_assist");
  EXPECT_EQ((*reply)["ok"], true);
  EXPECT_EQ((*reply)["message"], "done");

  auto volume = console.request(
      {{"type", "set_volume"}, {"id", "c2"}, {"output", "exterior"}, {"level", 40}});
  ASSERT_TRUE(volume);
  EXPECT_EQ((*volume)["ok"], true);

  std::lock_guard lock(mutex_);
  ASSERT_EQ(actions_.size(), 2u);
  EXPECT_EQ(actions_[0].id, "c1");
  EXPECT_TRUE(std::holds_alternative<RampAssist>(actions_[0].action));
  EXPECT_EQ(std::get<SetVolume>(actions_[1].action).level, 40);
}

TEST_F(HmiServerTest, TheTokenMayComeInTheQuery) {
  start();
  WsClient console(port(), "/ws?role=driver&token=s3cret-console-token");
  auto hello = console.read();
  ASSERT_TRUE(hello);
  EXPECT_EQ((*hello)["authenticated"], true);
  auto reply = console.request({{"type", "repeat_last"}, {"id", "c1"}});
  ASSERT_TRUE(reply);
  EXPECT_EQ((*reply)["ok"], true);
  EXPECT_EQ(action_count(), 1u);

  EXPECT_EQ(WsClient::handshake_status(port(), "/ws?role=driver&token=wrong"), 401);
  EXPECT_EQ(WsClient::handshake_status(port(), "/ws?role=driver&token="), 401);
}

TEST_F(HmiServerTest, DriverActionsWithoutTheTokenAreRefused) {
  start();
  WsClient console(port(), "/ws?role=driver");
  auto reply = console.request({{"type", "ramp_assist"}, {"id", "c1"}});
  ASSERT_TRUE(reply);
  EXPECT_EQ((*reply)["ok"], false);
  EXPECT_EQ((*reply)["error"], "not_authorized");

  auto wrong = console.request({{"type", "auth"}, {"id", "a1"}, {"token", "guess"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ((*wrong)["error"], "not_authorized");
  reply = console.request({{"type", "ramp_assist"}, {"id", "c2"}});
  EXPECT_EQ((*reply)["error"], "not_authorized");

  // After five wrong tokens even the right one is refused on this connection.
  for (int i = 0; i < 4; ++i)
    console.request({{"type", "auth"}, {"id", "g"}, {"token", "x"}});
  auto right = console.request({{"type", "auth"}, {"id", "a2"}, {"token", "s3cret-console-token"}});
  EXPECT_EQ((*right)["error"], "not_authorized");
  EXPECT_EQ(action_count(), 0u);
}

TEST_F(HmiServerTest, APassengerDisplayIsReadOnly) {
  start();
  WsClient display(port());
  auto reply = display.request({{"type", "ramp_assist"}, {"id", "p1"}});
  ASSERT_TRUE(reply);
  EXPECT_EQ((*reply)["id"], "p1");
  EXPECT_EQ((*reply)["ok"], false);
  EXPECT_EQ((*reply)["error"], "not_authorized");
  // Even with the right token: the role is chosen when connecting.
  auto auth = display.request({{"type", "auth"}, {"id", "p2"}, {"token", "s3cret-console-token"}});
  EXPECT_EQ((*auth)["error"], "not_authorized");
  reply =
      display.request({{"type", "set_volume"}, {"id", "p3"}, {"output", "interior"}, {"level", 0}});
  EXPECT_EQ((*reply)["error"], "not_authorized");
  EXPECT_EQ(action_count(), 0u);
  // Asking whether the server is there is fine.
  auto pong = display.request({{"type", "ping"}, {"id", "p4"}});
  EXPECT_EQ((*pong)["ok"], true);
  // A passenger query token is not a way in either.
  WsClient with_token(port(), "/ws?role=passenger&token=s3cret-console-token");
  EXPECT_EQ((*with_token.read())["authenticated"], false);
}

TEST_F(HmiServerTest, ListenersServeOnlyTheirRoles) {
  HmiConfig config = local_config(web_dir(), Roles::only(Role::passenger));
  config.listeners.push_back({"127.0.0.1", 0, Roles::only(Role::driver)});
  start(config);
  const auto saloon = port(0);
  const auto cab = port(1);
  EXPECT_EQ(WsClient::handshake_status(saloon, "/ws?role=driver"), 403);
  EXPECT_EQ(WsClient::handshake_status(saloon, "/ws?role=driver&token=s3cret-console-token"), 403);
  EXPECT_EQ(WsClient::handshake_status(cab, "/ws?role=passenger"), 403);
  EXPECT_EQ(WsClient::handshake_status(saloon, "/ws?role=admin"), 400);
  EXPECT_EQ(WsClient::handshake_status(saloon, "/socket"), 404);

  WsClient console(cab, "/ws");  // the cab's listener makes a driver connection by default
  EXPECT_EQ((*console.read())["role"], "driver");
  WsClient display(saloon, "/ws");
  EXPECT_EQ((*display.read())["role"], "passenger");
}

TEST_F(HmiServerTest, CrossOriginSocketsAreRefused) {
  start();
  const std::string self = "http://127.0.0.1:" + std::to_string(port());
  EXPECT_EQ(WsClient::handshake_status(port(), "/ws", "http://evil.example"), 403);
  EXPECT_EQ(WsClient::handshake_status(port(), "/ws", self), 101);
}

TEST_F(HmiServerTest, OnEveryInterfaceTheMachinesOwnAddressesAndNamesCount) {
  HmiConfig config = local_config(web_dir());
  config.listeners = {{"0.0.0.0", 0, Roles::both()}};
  start(config);
  // 127.0.0.1 is an address of this machine (lo), as the saloon network's would be.
  const std::string self = "http://127.0.0.1:" + std::to_string(port());
  EXPECT_EQ(WsClient::handshake_status(port(), "/ws", self), 101);
  EXPECT_EQ(WsClient::handshake_status(port(), "/ws", "http://localhost:8080"), 101);
  EXPECT_EQ(WsClient::handshake_status(port(), "/ws", "http://evil.example"), 403);
  EXPECT_EQ(WsClient::handshake_status(port(), "/ws", "http://10.255.255.254"), 403)
      << "an address that is not this machine's";
}

TEST_F(HmiServerTest, WithoutAHandlerActionsAreUnavailable) {
  start();
  server_->on_io([this] { server_->server().on_driver_action(nullptr); });
  WsClient console(port(), "/ws?role=driver&token=s3cret-console-token");
  auto reply = console.request({{"type", "ramp_assist"}, {"id", "c1"}});
  EXPECT_EQ((*reply)["error"], "unavailable");
}

TEST_F(HmiServerTest, BadMessagesGetAnErrorReplyAndChangeNothing) {
  start();
  WsClient console(port(), "/ws?role=driver&token=s3cret-console-token");
  ASSERT_TRUE(console.read_type("state"));
  const auto before = server_->on_io([this] { return server_->server().stats(); });

  struct Case {
    std::string text;
    const char* error;
  };
  const std::vector<Case> cases = {
      {"not json", "malformed"},
      {"[1,2,3]", "malformed"},
      {R"({"type":5,"id":"x"})", "malformed"},
      {R"({"type":"ramp_assist"})", "malformed"},
      {R"({"type":"open_all_doors","id":"u1"})", "unknown_type"},
      {R"({"type":"set_volume","id":"v1","output":"interior","level":150})", "invalid_argument"},
      {R"({"type":"login_trip","id":"l1"})", "invalid_argument"},
      {R"({"type":"ramp_assist","id":")" + std::string(17 * 1024, 'x') + "\"}", "too_large"},
      {std::string(200 * 1024, '{'), "too_large"},
  };
  for (const Case& c : cases) {
    console.send_text(c.text);
    auto reply = console.read_type("reply");
    ASSERT_TRUE(reply) << c.text.substr(0, 60);
    EXPECT_EQ((*reply)["ok"], false) << c.text.substr(0, 60);
    EXPECT_EQ((*reply)["error"], c.error) << c.text.substr(0, 60);
  }
  console.send_binary(R"({"type":"ramp_assist","id":"b1"})");
  auto binary = console.read_type("reply");
  ASSERT_TRUE(binary);
  EXPECT_EQ((*binary)["error"], "malformed");

  const auto after = server_->on_io([this] { return server_->server().stats(); });
  EXPECT_EQ(after.broadcasts, before.broadcasts);  // nothing was published
  EXPECT_EQ(action_count(), 0u);                   // and the handler never ran

  // The connection is still good.
  auto reply = console.request({{"type", "ramp_assist"}, {"id", "ok1"}});
  EXPECT_EQ((*reply)["ok"], true);
  EXPECT_EQ(action_count(), 1u);
}

TEST_F(HmiServerTest, TooManyScreensAreTurnedAway) {
  HmiConfig config = local_config(web_dir());
  config.max_clients = 2;
  start(config);
  WsClient a(port()), b(port());
  ASSERT_TRUE(a.read_type("state"));
  ASSERT_TRUE(b.read_type("state"));
  EXPECT_EQ(WsClient::handshake_status(port(), "/ws"), 503);
}

// ---- a stalled screen ---------------------------------------------------------------------------

// A screen that opens the WebSocket and then never reads again, with a small receive buffer so
// the kernel cannot soak up what the server sends.
class StalledScreen {
 public:
  explicit StalledScreen(std::uint16_t port) : socket_(ioc_) {
    socket_.open(tcp::v4());
    socket_.set_option(asio::socket_base::receive_buffer_size(4096));
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    const std::string request =
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    asio::write(socket_, asio::buffer(request));
    std::string response;
    asio::read_until(socket_, asio::dynamic_buffer(response), "\r\n\r\n");
    status_line_ = response.substr(0, response.find("\r\n"));
  }
  const std::string& status_line() const { return status_line_; }

  // Reads whatever arrives until the server closes the connection; the bytes, or nullopt when
  // the connection is still open after `timeout`.
  std::optional<std::size_t> drain_until_closed(std::chrono::milliseconds timeout) {
    std::size_t total = 0;
    std::array<char, 65536> buffer;
    bool closed = false;
    std::function<void()> read = [&] {
      socket_.async_read_some(asio::buffer(buffer), [&](beast::error_code ec, std::size_t n) {
        total += n;
        if (ec) {
          closed = true;
          return;
        }
        read();
      });
    };
    read();
    ioc_.run_for(timeout);
    if (!closed) return std::nullopt;
    return total;
  }

 private:
  asio::io_context ioc_;
  tcp::socket socket_;
  std::string status_line_;
};

// 50 screens reading as fast as they can, on one thread of their own.
class ReadingScreens {
 public:
  ReadingScreens(std::uint16_t port, int count) {
    for (int i = 0; i < count; ++i) {
      auto screen = std::make_unique<Screen>(ioc_);
      beast::get_lowest_layer(screen->ws)
          .connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
      screen->ws.handshake("127.0.0.1", "/ws");
      screens_.push_back(std::move(screen));
    }
    for (auto& screen : screens_)
      read(*screen);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~ReadingScreens() {
    ioc_.stop();
    thread_.join();
  }

  // Waits until every screen has `count` test statuses; false on timeout.
  bool wait_for(int count, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      bool all = true;
      for (auto& screen : screens_)
        all = all && screen->received.load() >= count;
      if (all) return true;
      std::this_thread::sleep_for(2ms);
    }
    return false;
  }
  // True when every screen got statuses 0..count-1 in order, each once, and is still open.
  bool all_in_order(int count) const {
    for (const auto& screen : screens_) {
      if (screen->received.load() != count || screen->out_of_order.load() ||
          screen->closed.load()) {
        return false;
      }
    }
    return true;
  }

 private:
  struct Screen {
    explicit Screen(asio::io_context& ioc) : ws(ioc) {}
    websocket::stream<beast::tcp_stream> ws;
    beast::flat_buffer buffer;
    std::atomic<int> received{0};
    std::atomic<bool> out_of_order{false};
    std::atomic<bool> closed{false};
  };

  void read(Screen& screen) {
    screen.ws.async_read(screen.buffer, [this, &screen](beast::error_code ec, std::size_t) {
      if (ec) {
        screen.closed = true;
        return;
      }
      // Not a JSON parse per message: 50 readers in a Debug+ASan build would be the bottleneck.
      const std::string text = beast::buffers_to_string(screen.buffer.data());
      screen.buffer.consume(screen.buffer.size());
      constexpr std::string_view kMarker = R"("text":"message )";
      if (auto at = text.find(kMarker); at != std::string::npos) {
        if (std::stoi(text.substr(at + kMarker.size(), 12)) != screen.received.load()) {
          screen.out_of_order = true;
        }
        ++screen.received;
      }
      read(screen);
    });
  }

  asio::io_context ioc_;
  std::vector<std::unique_ptr<Screen>> screens_;
  std::thread thread_;
};

struct StallCase {
  const char* name;
  std::size_t max_messages;
  std::size_t max_bytes;
};

void PrintTo(const StallCase& bound, std::ostream* out) {
  *out << bound.max_messages << " messages or " << bound.max_bytes << " bytes";
}

class StalledScreenTest : public HmiServerTest, public ::testing::WithParamInterface<StallCase> {};

TEST_P(StalledScreenTest, IsDroppedWhileTheOthersReceiveEverything) {
  const StallCase bound = GetParam();
  HmiConfig config = local_config(web_dir());
  config.max_clients = 100;
  config.queue_max_messages = bound.max_messages;
  config.queue_max_bytes = bound.max_bytes;
  config.socket_send_buffer = 4096;  // the kernel keeps little for a screen that does not read
  start(config);

  StalledScreen stalled(port());
  ASSERT_THAT(stalled.status_line(), HasSubstr("101"));
  ReadingScreens screens(port(), 50);
  auto clients = [this] {
    return server_->on_io([this] { return server_->server().client_count(); });
  };
  const auto connect_deadline = std::chrono::steady_clock::now() + 5s;
  while (clients() < 51 && std::chrono::steady_clock::now() < connect_deadline) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(clients(), 51);

  // Publish in batches the way a daemon does (a few at a time), letting readers keep up.
  // Enough to overflow every bound under test: the stalled screen's kernel buffers take about 20
  // of these, its queue 64 (or 64 KiB).
  constexpr int kMessages = 200;
  constexpr std::size_t kBytes = 1024;
  for (int sent = 0; sent < kMessages; sent += 8) {
    server_->on_io([this, sent] {
      for (int i = sent; i < sent + 8; ++i)
        server_->server().publish(numbered_status(i, kBytes));
    });
    ASSERT_TRUE(screens.wait_for(sent + 8, 10s)) << "readers stuck at batch " << sent;
  }
  EXPECT_TRUE(screens.all_in_order(kMessages));

  const HmiStats stats = server_->on_io([this] { return server_->server().stats(); });
  EXPECT_EQ(stats.dropped, 1u);
  EXPECT_EQ(stats.clients, 50u);
  // Memory bounded: no screen ever had more queued than the bound (plus the one message that
  // found the queue full and dropped it, which is never queued).
  EXPECT_LE(stats.max_queue_messages, bound.max_messages);
  EXPECT_LE(stats.max_queue_bytes, bound.max_bytes);

  // The stalled screen finds its connection closed once it reads again, having missed messages.
  auto received = stalled.drain_until_closed(5s);
  ASSERT_TRUE(received) << "the stalled screen's connection is still open";
  EXPECT_LT(*received, kMessages * kBytes);
}

INSTANTIATE_TEST_SUITE_P(Bounds, StalledScreenTest,
                         ::testing::Values(StallCase{"messages", 64, 1 << 20},
                                           StallCase{"bytes", 10'000, 64 * 1024}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace stopcall::hmi::test
