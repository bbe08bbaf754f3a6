// The control protocol and socket: what stopcallctl and other vehicle systems may send, and that
// anything else is refused with a reason and changes nothing.
#include "daemon/vehicle/control.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "daemon/tracking/events.hpp"
#include "daemon/vehicle/control_socket.hpp"
#include "tests/routes/test_feed.hpp"

namespace stopcall::daemon::vehicle {
namespace {

using ::testing::HasSubstr;

TEST(ControlProtocol, ReadsEachCommand) {
  auto door = parse_command(R"({"cmd":"signal","signal":"door","door":2,"state":"open"})");
  ASSERT_TRUE(door.command);
  auto s = std::get<Signal>(*door.command);
  EXPECT_EQ(s.name, SignalName::door);
  EXPECT_EQ(s.door, 2);
  EXPECT_TRUE(s.active);

  auto ramp = parse_command(R"({"id":"r1","cmd":"signal","signal":"ramp","state":"stowed"})");
  ASSERT_TRUE(ramp.command);
  EXPECT_EQ(ramp.id, "r1");
  EXPECT_FALSE(std::get<Signal>(*ramp.command).active);

  auto speed = parse_command(R"({"cmd":"signal","signal":"speed","kmh":32.5})");
  ASSERT_TRUE(speed.command);
  EXPECT_DOUBLE_EQ(std::get<Signal>(*speed.command).speed_kmh, 32.5);

  auto button = parse_command(R"({"cmd":"button","button":"wheelchair-request"})");
  ASSERT_TRUE(button.command);
  EXPECT_EQ(std::get<ButtonPress>(*button.command).button, Button::wheelchair_request);
  // The screens spell it with "_": the same button.
  auto underscored = parse_command(R"({"cmd":"button","button":"ramp_assist"})");
  ASSERT_TRUE(underscored.command);
  EXPECT_EQ(std::get<ButtonPress>(*underscored.command).button, Button::ramp_assist);

  auto request =
      parse_command(R"({"cmd":"request","kind":"blind","stop_id":"CGM-E","route_id":"101",)"
                    R"("expires":"2026-03-02T07:30:00+08:00"})");
  ASSERT_TRUE(request.command) << request.error.message;
  auto r = std::get<BoardingRequestIn>(*request.command);
  EXPECT_EQ(r.kind, RequestKind::blind);
  EXPECT_EQ(r.stop_id, "CGM-E");
  ASSERT_TRUE(r.expires);
  EXPECT_EQ(tracking::format_time(*r.expires), "2026-03-01T23:30:00.000Z");
}

TEST(ControlProtocol, WhatStopcallctlSendsReadsBackTheSame) {
  BoardingRequestIn r;
  r.kind = RequestKind::wheelchair;
  r.stop_id = "XMH-E";
  r.route_id = "101";
  r.expires = parse_iso_time("2026-03-02T00:00:00Z");
  auto back = parse_command(encode_command(r, "x"));
  ASSERT_TRUE(back.command);
  auto r2 = std::get<BoardingRequestIn>(*back.command);
  EXPECT_EQ(r2.stop_id, r.stop_id);
  EXPECT_EQ(r2.expires, r.expires);
  EXPECT_EQ(back.id, "x");
}

TEST(ControlProtocol, RefusesAnythingElseWithAReason) {
  struct Case {
    const char* line;
    const char* error;
    const char* says;
  } cases[] = {
      {"", "bad_request", "not a JSON object"},
      {"door open", "bad_request", "not a JSON object"},
      {"[1,2]", "bad_request", "not a JSON object"},
      {R"({"signal":"door"})", "bad_request", "missing \"cmd\""},
      {R"({"cmd":"reboot"})", "unknown_command", "unknown command \"reboot\""},
      {R"({"cmd":"signal","signal":"door","state":"ajar"})", "bad_request", "\"ajar\""},
      {R"({"cmd":"signal","signal":"door","state":"open","door":0})", "bad_request", "door number"},
      {R"({"cmd":"signal","signal":"wiper","state":"on"})", "bad_request", "unknown signal"},
      {R"({"cmd":"signal","signal":"speed","kmh":-3})", "bad_request", "0 to 200"},
      {R"({"cmd":"signal","signal":"ramp","state":1})", "bad_request", "must be a string"},
      {R"({"cmd":"button","button":"horn"})", "bad_request", "unknown button"},
      {R"({"cmd":"request","kind":"stroller","stop_id":"S","route_id":"R"})", "bad_request",
       "wheelchair"},
      {R"({"cmd":"request","kind":"blind","route_id":"R"})", "bad_request", "stop_id"},
      {R"({"cmd":"request","kind":"blind","stop_id":"S","route_id":"R","expires":"07:30"})",
       "bad_request", "ISO 8601"},
      {R"({"cmd":"request","kind":"blind","stop_id":"S","route_id":"R",)"
       R"("expires":"2026-03-02T07:30:00"})",
       "bad_request", "ISO 8601"},
  };
  for (const auto& c : cases) {
    auto parsed = parse_command(c.line);
    EXPECT_FALSE(parsed.command) << c.line;
    EXPECT_EQ(parsed.error.error, c.error) << c.line;
    EXPECT_THAT(parsed.error.message, HasSubstr(c.says)) << c.line;
  }
  EXPECT_EQ(parse_command(std::string(5000, ' ')).error.error, "too_large");
}

TEST(ControlProtocol, ReadsMessagesAndTheEmergencyInput) {
  auto preset = parse_command(R"({"cmd":"message","preset":"evacuate"})");
  ASSERT_TRUE(preset.command);
  EXPECT_EQ(std::get<MessageIn>(*preset.command).preset, "evacuate");

  auto words = parse_command(
      R"({"cmd":"message","kind":"service","message_id":"d1","outputs":"both","repeats":3,)"
      R"("text":{"zh-Hans":"绕行","en":"Detour"},"spoken":{"en":"Dee-tour"},)"
      R"("expires":"2026-03-02T18:00:00+08:00"})");
  ASSERT_TRUE(words.command) << words.error.message;
  const auto& m = std::get<MessageIn>(*words.command);
  EXPECT_EQ(m.kind, "service");
  EXPECT_EQ(m.message_id, "d1");
  EXPECT_EQ(m.text.at("zh-Hans"), "绕行");
  EXPECT_EQ(m.spoken.at("en"), "Dee-tour");
  EXPECT_EQ(m.outputs, "both");
  EXPECT_EQ(m.repeats, 3);
  EXPECT_EQ(tracking::format_time(*m.expires), "2026-03-02T10:00:00.000Z");
  // What stopcallctl sends reads back the same.
  auto again = parse_command(encode_command(m));
  ASSERT_TRUE(again.command);
  EXPECT_EQ(std::get<MessageIn>(*again.command).text, m.text);

  auto ack = parse_command(R"({"cmd":"message","ack":"evacuate-1"})");
  ASSERT_TRUE(ack.command);
  EXPECT_EQ(std::get<MessageEnd>(*ack.command).action, MessageEnd::Action::acknowledge);
  auto cancel = parse_command(encode_command(MessageEnd{MessageEnd::Action::cancel, "d1", {}}));
  ASSERT_TRUE(cancel.command);
  EXPECT_EQ(std::get<MessageEnd>(*cancel.command).message_id, "d1");

  auto fire = parse_command(R"({"cmd":"signal","signal":"emergency","state":"active"})");
  ASSERT_TRUE(fire.command);
  EXPECT_EQ(std::get<Signal>(*fire.command).name, SignalName::emergency);
  EXPECT_TRUE(std::get<Signal>(*fire.command).active);

  for (const char* bad : {
           R"({"cmd":"message"})",
           R"({"cmd":"message","kind":"panic","text":{"en":"x"}})",
           R"({"cmd":"message","kind":"service"})",
           R"({"cmd":"message","kind":"service","text":"Detour"})",
           R"({"cmd":"message","kind":"service","text":{"en":7}})",
           R"({"cmd":"message","preset":""})",
           R"({"cmd":"message","preset":"evacuate","outputs":"roof"})",
           R"({"cmd":"message","preset":"evacuate","repeats":-1})",
           R"({"cmd":"message","preset":"evacuate","expires":"tomorrow"})",
           R"({"cmd":"message","ack":""})",
           R"({"cmd":"signal","signal":"emergency","state":"on"})",
       }) {
    auto refused = parse_command(bad);
    EXPECT_FALSE(refused.command) << bad;
    EXPECT_EQ(refused.error.error, "bad_request") << bad;
    EXPECT_FALSE(refused.error.message.empty()) << bad;
  }
}

TEST(ControlProtocol, ALineWithANulByteOrInvalidUtf8IsRefused) {
  using namespace std::string_literals;
  for (const std::string& line :
       {"{\"cmd\":\"state\"}\0GARBAGE\xff"s, "{\"cmd\":\"state\"}\0"s,
        "{\"cmd\":\"state\",\"id\":\"\xc0\xaf\"}"s, "{\"cmd\":\"state\"} \xff"s}) {
    auto parsed = parse_command(line);
    EXPECT_FALSE(parsed.command) << line;
    EXPECT_EQ(parsed.error.error, "bad_request") << line;
  }
  // UTF-8 text is fine.
  EXPECT_TRUE(parse_command(R"({"cmd":"state","id":"车公庙"})").command);
}

// Found by fuzz/control.cpp: a reply whose "error" or "message" was not a string threw out of
// parse_reply (nlohmann's value()), and stopcallctl ended on an uncaught exception.
TEST(ControlProtocol, AReplyWithFieldsOfTheWrongTypeIsReadNotThrown) {
  Reply reply;
  ASSERT_NO_THROW(reply = parse_reply(R"({"ok":false,"error":true,"message":{"a":1}})"));
  EXPECT_FALSE(reply.ok);
  EXPECT_EQ(reply.error, "");
  EXPECT_EQ(reply.message, "");
  EXPECT_EQ(parse_reply(R"({"ok":true,"message":"door 2 open"})").message, "door 2 open");
}

TEST(ControlProtocol, IsoTimes) {
  EXPECT_EQ(tracking::format_time(*parse_iso_time("2026-03-02T07:30:00.25Z")),
            "2026-03-02T07:30:00.250Z");
  EXPECT_EQ(tracking::format_time(*parse_iso_time("2026-03-02T00:10:00-01:30")),
            "2026-03-02T01:40:00.000Z");
  EXPECT_FALSE(parse_iso_time("2026-02-30T00:00:00Z"));
  EXPECT_FALSE(parse_iso_time("2026-03-02 07:30:00Z"));
  EXPECT_FALSE(parse_iso_time("2026-03-02T25:00:00Z"));
  // sscanf's %2d reads signs: this was 22:58:59 the day before, a request already expired.
  EXPECT_FALSE(parse_iso_time("2026-03-02T-1:-1:-1Z"));
  EXPECT_FALSE(parse_iso_time("2026-03-02T 7:30:00Z"));
}

// A socket served on its own thread; commands go through send_command as stopcallctl sends them.
class ControlSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_ / "control.sock";
    socket_ = std::make_unique<ControlSocket>(io_, path_, [this](const Command& c) {
      received_.push_back(c);
      if (std::holds_alternative<ButtonPress>(c)) return Reply::failure("refused", "not now");
      return Reply::success("done");
    });
    socket_->start();
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    boost::asio::post(io_, [this] { socket_->stop(); });
    thread_.join();
  }
  // Raw bytes in, the reply lines out (for what stopcallctl would never send).
  std::string raw(const std::string& bytes) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strcpy(a.sun_path, path_.c_str());
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
    ::shutdown(fd, SHUT_WR);
    std::string out;
    char buffer[1024];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;)
      out.append(buffer, static_cast<std::size_t>(n));
    ::close(fd);
    return out;
  }

  routes::testing::TempDir dir_;
  std::string path_;
  boost::asio::io_context io_;
  std::unique_ptr<ControlSocket> socket_;
  std::thread thread_;
  std::vector<Command> received_;  // touched on the io thread only while it runs
};

TEST_F(ControlSocketTest, AnswersEachLineInOrder) {
  auto ok = send_command(path_, R"({"cmd":"signal","signal":"ramp","state":"deployed"})");
  EXPECT_TRUE(ok.ok);
  EXPECT_EQ(ok.message, "done");
  auto refused = send_command(path_, R"({"cmd":"button","button":"ramp-assist"})");
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.error, "refused");
  EXPECT_EQ(refused.message, "not now");

  auto lines = raw("{\"id\":\"a\",\"cmd\":\"state\"}\n\n{\"id\":\"b\",\"cmd\":\"jump\"}\r\n");
  auto first = nlohmann::json::parse(lines.substr(0, lines.find('\n')));
  auto second = nlohmann::json::parse(lines.substr(lines.find('\n') + 1));
  EXPECT_EQ(first["id"], "a");
  EXPECT_TRUE(first["ok"]);
  EXPECT_EQ(second["id"], "b");
  EXPECT_FALSE(second["ok"]);
  EXPECT_EQ(second["error"], "unknown_command");
}

TEST_F(ControlSocketTest, MalformedLinesChangeNothing) {
  auto reply = raw("{\"cmd\":\"signal\",\"signal\":\"door\"}\nnot json\n");
  EXPECT_THAT(reply, HasSubstr("missing \\\"state\\\""));
  EXPECT_THAT(reply, HasSubstr("not a JSON object"));
  // A good command afterwards: the handler saw only it.
  EXPECT_TRUE(send_command(path_, R"({"cmd":"state"})").ok);
  std::promise<std::pair<long, long>> counts;
  boost::asio::post(io_, [&] { counts.set_value({socket_->commands(), socket_->refused()}); });
  EXPECT_EQ(counts.get_future().get(), std::make_pair(3L, 2L));
}

TEST_F(ControlSocketTest, ANulByteDoesNotEndALine) {
  using namespace std::string_literals;
  auto reply = raw("{\"cmd\":\"state\"}\0GARBAGE\xff\n"s);
  EXPECT_THAT(reply, HasSubstr("\"error\":\"bad_request\"")) << reply;
  std::promise<std::size_t> handled;
  boost::asio::post(io_, [&] { handled.set_value(received_.size()); });
  EXPECT_EQ(handled.get_future().get(), 0u) << "the handler saw a command";
}

TEST_F(ControlSocketTest, AnEndlessLineIsRefusedAndTheConnectionClosed) {
  auto reply = raw(std::string(10000, 'x'));
  EXPECT_THAT(reply, HasSubstr("too_large"));
  EXPECT_TRUE(send_command(path_, R"({"cmd":"state"})").ok) << "the socket still serves others";
}

TEST(ControlSocketClient, SaysClearlyWhenTheDaemonIsNotThere) {
  try {
    send_command("/nonexistent/control.sock", R"({"cmd":"state"})");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot reach stopcalld at /nonexistent/control.sock"));
  }
}

TEST(ControlSocketFile, AnotherFileInThePlaceIsNotReplaced) {
  routes::testing::TempDir dir;
  const std::string path = dir / "control.sock";
  routes::testing::write_file(path, "precious");
  boost::asio::io_context io;
  ControlSocket socket(io, path, [](const Command&) { return Reply::success(""); });
  EXPECT_THROW(socket.start(), std::runtime_error);
  EXPECT_EQ(routes::testing::read_bytes(path), "precious");
}

}  // namespace
}  // namespace stopcall::daemon::vehicle
