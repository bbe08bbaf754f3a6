// The protocol as pure functions: parsing what screens send, encoding what they receive, folding
// changes into the state a new screen gets.
#include "hmi/protocol.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "hmi/trip_view.hpp"

namespace stopcall::hmi {
namespace {

using json = nlohmann::json;

Errc code_of(const ClientMessage& message) {
  EXPECT_FALSE(message.body.has_value());
  return static_cast<Errc>(message.error.error.value());
}

TEST(ParseClientMessage, ReadsEveryDriverAction) {
  auto login = parse_client_message(R"({"type":"login_trip","id":"c1","trip_id":"101-WD-E-0630"})");
  ASSERT_TRUE(login.body);
  EXPECT_EQ(login.id, "c1");
  EXPECT_EQ(std::get<LoginTrip>(std::get<Action>(*login.body)).trip_id, "101-WD-E-0630");

  auto volume =
      parse_client_message(R"({"type":"set_volume","id":"c2","output":"exterior","level":35})");
  ASSERT_TRUE(volume.body);
  const auto& set = std::get<SetVolume>(std::get<Action>(*volume.body));
  EXPECT_EQ(set.output, AudioOutput::exterior);
  EXPECT_EQ(set.level, 35);

  auto dismiss = parse_client_message(R"({"type":"dismiss_request","id":"c3","request_id":"r7"})");
  ASSERT_TRUE(dismiss.body);
  EXPECT_EQ(std::get<DismissRequest>(std::get<Action>(*dismiss.body)).request_id, "r7");

  for (const char* type : {"confirm_detected_trip", "ramp_assist", "repeat_last"}) {
    auto message = parse_client_message(json{{"type", type}, {"id", "x"}}.dump());
    ASSERT_TRUE(message.body) << type;
    EXPECT_EQ(action_name(std::get<Action>(*message.body)), type);
  }
  // The control socket's spelling of ramp assist is the same action.
  auto ramp = parse_client_message(R"({"type":"ramp-assist","id":"c4"})");
  ASSERT_TRUE(ramp.body);
  EXPECT_TRUE(std::holds_alternative<RampAssist>(std::get<Action>(*ramp.body)));

  auto ping = parse_client_message(R"({"type":"ping","id":"p"})");
  ASSERT_TRUE(ping.body);
  EXPECT_TRUE(std::holds_alternative<Ping>(*ping.body));

  auto auth = parse_client_message(R"({"type":"auth","id":"a","token":"t"})");
  ASSERT_TRUE(auth.body);
  EXPECT_EQ(std::get<Auth>(*auth.body).token, "t");
}

TEST(ParseClientMessage, IgnoresUnknownFields) {
  auto message = parse_client_message(R"({"type":"ramp_assist","id":"c1","v":1,"extra":[1,2]})");
  EXPECT_TRUE(message.body);
}

TEST(ParseClientMessage, RefusesMalformedInput) {
  for (const char* text :
       {"", "not json", "[1,2]", "\"ramp_assist\"", "{\"type\":5,\"id\":\"x\"}", "{\"id\":\"x\"}",
        "{\"type\":\"ramp_assist\"}", "{\"type\":\"ramp_assist\",\"id\":7}",
        "{\"type\":\"ramp_assist\",", "{\"type\":\"ramp_assist\",\"id\":\"\xff\xfe\"}"}) {
    EXPECT_EQ(code_of(parse_client_message(text)), Errc::malformed) << text;
  }
  const std::string long_id(65, 'i');
  EXPECT_EQ(code_of(parse_client_message(json{{"type", "ramp_assist"}, {"id", long_id}}.dump())),
            Errc::malformed);
}

TEST(ParseClientMessage, RefusesUnknownTypesKeepingTheId) {
  auto message = parse_client_message(R"({"type":"open_doors","id":"c9"})");
  EXPECT_EQ(code_of(message), Errc::unknown_type);
  EXPECT_EQ(message.id, "c9");
  EXPECT_EQ(message.type, "open_doors");
}

TEST(ParseClientMessage, ChecksArguments) {
  for (const char* text : {
           R"({"type":"set_volume","id":"c","output":"interior","level":101})",
           R"({"type":"set_volume","id":"c","output":"interior","level":-1})",
           R"({"type":"set_volume","id":"c","output":"interior","level":50.5})",
           R"({"type":"set_volume","id":"c","output":"interior","level":"50"})",
           R"({"type":"set_volume","id":"c","output":"cab","level":50})",
           R"({"type":"set_volume","id":"c","level":50})",
           R"({"type":"login_trip","id":"c","trip_id":""})",
           R"({"type":"login_trip","id":"c","trip_id":12})",
           R"({"type":"dismiss_request","id":"c"})",
           R"({"type":"auth","id":"c"})",
       }) {
    auto message = parse_client_message(text);
    EXPECT_EQ(code_of(message), Errc::invalid_argument) << text;
    EXPECT_EQ(message.id, "c") << text;
  }
}

TEST(ApplyMessage, FoldsChangesIntoTheState) {
  State state;
  Subtitle subtitle{"a1/0", "下一站：华侨城", "zh-Hans", 1000, 2500, false, {}};
  apply(state, subtitle);
  ASSERT_TRUE(state.subtitle);
  EXPECT_EQ(state.subtitle->text, "下一站：华侨城");

  // Withdrawing another cue leaves this one; withdrawing it takes it down.
  apply(state, Subtitle{"other", "", "", 0, 0, true, {}});
  EXPECT_TRUE(state.subtitle);
  subtitle.withdrawn = true;
  apply(state, subtitle);
  EXPECT_FALSE(state.subtitle);

  apply(state, Prompt{"ramp", PromptKind::ramp_deploying, {{"en", "Ramp deploying"}}, true});
  apply(state, Prompt{"doors", PromptKind::doors_opening, {{"en", "Doors opening"}}, true});
  ASSERT_EQ(state.prompts.size(), 2u);
  apply(state, Prompt{"ramp", PromptKind::ramp_deploying, {}, false});
  ASSERT_EQ(state.prompts.size(), 1u);
  EXPECT_EQ(state.prompts[0].id, "doors");

  apply(state, Status{"gps", Level::ok, "3D fix"});
  apply(state, Status{"gps", Level::error, "no fix"});
  ASSERT_EQ(state.statuses.size(), 1u);
  EXPECT_EQ(state.statuses[0].level, Level::error);

  apply(state, Volume{10, 90});
  EXPECT_EQ(state.volume, (Volume{10, 90}));

  NextStopUpdate next;
  next.next_stop = StopView{"HQC-E", {{"en", "OCT"}}, {}, 2, 1, Wheelchair::accessible};
  apply(state, next);
  EXPECT_EQ(state.next_stop->id, "HQC-E");
}

TEST(Encode, StateCarriesEverythingAScreenShows) {
  State state;
  state.utc_offset_min = 480;
  state.trip = TripView{"T1",
                        {"101", {{"en", "Window – Theater"}}, "0057A8", "FFFFFF"},
                        {{"zh-Hans", "大剧院"}, {"en", "Grand Theater"}},
                        0,
                        "B1"};
  state.next_stop = StopView{"CGM-E", {{"zh-Hans", "车公庙"}},   {{"en", "Transfer"}}, 5,
                             4,       Wheelchair::not_accessible};
  state.detected_trip = DetectedTrip{"T1", 0.9};
  json doc = json::parse(encode_state(state, 42, 1'700'000'000'000));
  EXPECT_EQ(doc["type"], "state");
  EXPECT_EQ(doc["seq"], 42);
  EXPECT_EQ(doc["server_time_ms"], 1'700'000'000'000);
  EXPECT_EQ(doc["utc_offset_min"], 480);
  EXPECT_EQ(doc["trip"]["route"]["number"], "101");
  EXPECT_EQ(doc["trip"]["headsign"]["zh-Hans"], "大剧院");
  EXPECT_EQ(doc["next_stop"]["names"]["zh-Hans"], "车公庙");
  EXPECT_EQ(doc["next_stop"]["wheelchair"], "not_accessible");
  EXPECT_TRUE(doc["subtitle"].is_null());
  EXPECT_EQ(doc["detected_trip"]["trip_id"], "T1");
  EXPECT_EQ(doc["languages"], json({"zh-Hans", "yue", "en"}));
}

TEST(Encode, ChangesAreFlatWithTheirType) {
  json subtitle =
      json::parse(encode_message(Subtitle{"c", "Next stop: OCT", "en", 10, 20, false, {}}, 7, 5));
  EXPECT_EQ(subtitle["type"], "subtitle");
  EXPECT_EQ(subtitle["seq"], 7);
  EXPECT_EQ(subtitle["text"], "Next stop: OCT");
  EXPECT_EQ(subtitle["start"], 10);
  EXPECT_EQ(subtitle["end"], 20);
  EXPECT_EQ(subtitle["withdrawn"], false);
  EXPECT_EQ(subtitle["server_time_ms"], 5);

  json prompt = json::parse(
      encode_message(Prompt{"ramp", PromptKind::ramp_deploying, {{"en", "Ramp"}}, true}, 8, 5));
  EXPECT_EQ(prompt["type"], "prompt");
  EXPECT_EQ(prompt["kind"], "ramp_deploying");
  EXPECT_EQ(prompt["text"]["en"], "Ramp");

  json requests = json::parse(encode_message(
      RequestsUpdate{{{"r1", "CGM-E", {{"en", "Chegongmiao"}}, "wheelchair", 3, 2, 1234.4}}}, 9,
      5));
  EXPECT_EQ(requests["type"], "requests");
  EXPECT_EQ(requests["requests"][0]["stop_names"]["en"], "Chegongmiao");
  EXPECT_EQ(requests["requests"][0]["stops_to_go"], 2);
  EXPECT_EQ(requests["requests"][0]["distance_m"], 1234);
}

TEST(Messages, AnEmergencyStaysOnEveryScreenUntilItIsTakenDown) {
  State state;
  MessagePanel panel;
  panel.id = "m1";
  panel.kind = MessageKind::emergency;
  panel.text = {{"zh-Hans", "请立即下车"}, {"en", "Please leave the bus now"}};
  panel.since = 1000;
  apply(state, panel);
  panel.heard = {"interior"};
  apply(state, panel);  // an update replaces it
  ASSERT_EQ(state.messages.size(), 1u);
  EXPECT_EQ(state.messages[0].heard, std::vector<std::string>{"interior"});

  // A screen that connects now sees it, with its kind and every language.
  json doc = json::parse(encode_state(state, 3, 5));
  EXPECT_EQ(doc["messages"][0]["kind"], "emergency");
  EXPECT_EQ(doc["messages"][0]["text"]["en"], "Please leave the bus now");
  EXPECT_EQ(doc["messages"][0]["heard"], json({"interior"}));

  json change = json::parse(encode_message(panel, 4, 5));
  EXPECT_EQ(change["type"], "message");
  EXPECT_EQ(change["id"], "m1");

  panel.active = false;
  apply(state, panel);
  EXPECT_TRUE(state.messages.empty());
}

TEST(Messages, TheConsoleSendsAcknowledgesAndCancels) {
  auto send = parse_client_message(
      R"({"type":"send_message","id":"c1","preset":"evacuate","confirmed":true})");
  ASSERT_TRUE(send.body);
  const auto& action = std::get<Action>(*send.body);
  EXPECT_EQ(std::get<SendMessage>(action).preset, "evacuate");
  EXPECT_TRUE(std::get<SendMessage>(action).confirmed);
  EXPECT_EQ(action_name(action), "send_message");

  auto unconfirmed = parse_client_message(R"({"type":"send_message","id":"c2","preset":"x"})");
  ASSERT_TRUE(unconfirmed.body);
  EXPECT_FALSE(std::get<SendMessage>(std::get<Action>(*unconfirmed.body)).confirmed);

  auto ack = parse_client_message(R"({"type":"ack_message","id":"c3","message_id":"m1"})");
  ASSERT_TRUE(ack.body);
  EXPECT_EQ(std::get<AckMessage>(std::get<Action>(*ack.body)).message_id, "m1");
  auto cancel = parse_client_message(R"({"type":"cancel_message","id":"c4","message_id":"m1"})");
  ASSERT_TRUE(cancel.body);
  EXPECT_EQ(std::get<CancelMessage>(std::get<Action>(*cancel.body)).message_id, "m1");

  for (const char* bad : {R"({"type":"send_message","id":"c5"})",
                          R"({"type":"send_message","id":"c6","preset":"x","confirmed":"yes"})",
                          R"({"type":"ack_message","id":"c7","message_id":""})",
                          R"({"type":"cancel_message","id":"c8"})"}) {
    auto refused = parse_client_message(bad);
    EXPECT_FALSE(refused.body) << bad;
    EXPECT_EQ(refused.error.error, make_error_code(Errc::invalid_argument)) << bad;
  }
}

TEST(Encode, RepliesNameTheirErrors) {
  json ok = json::parse(encode_reply("c1", "ramp_assist", Reply::success(), 1));
  EXPECT_EQ(ok["type"], "reply");
  EXPECT_EQ(ok["id"], "c1");
  EXPECT_EQ(ok["ok"], true);
  EXPECT_FALSE(ok.contains("error"));

  json refused = json::parse(encode_reply("", "", Reply::failure(Errc::too_large), 1));
  EXPECT_TRUE(refused["id"].is_null());
  EXPECT_EQ(refused["ok"], false);
  EXPECT_EQ(refused["error"], "too_large");
  EXPECT_FALSE(refused["message"].get<std::string>().empty());
}

TEST(TripView, BuildsScreensViewsFromTheRouteModel) {
  routes::Trip trip;
  trip.id = "T1";
  trip.route.short_names = {{"zh-Hans", "101"}};
  trip.headsigns = {{"en", "Grand Theater"}};
  for (int i = 0; i < 10; ++i) {
    routes::TripStop stop;
    stop.stop_sequence = i + 1;
    stop.stop.id = "S" + std::to_string(i);
    stop.stop.names = {{"en", "Stop " + std::to_string(i)}};
    trip.stops.push_back(stop);
  }
  EXPECT_EQ(trip_view(trip).route.number, "101");
  auto update = next_stop_update(trip, 3, 4);
  ASSERT_TRUE(update.next_stop);
  EXPECT_EQ(update.next_stop->id, "S3");
  EXPECT_EQ(update.next_stop->index, 3);
  ASSERT_EQ(update.coming.size(), 4u);
  EXPECT_EQ(update.coming.back().id, "S7");
  EXPECT_EQ(next_stop_update(trip, 8, 4).coming.size(), 1u);
  EXPECT_FALSE(next_stop_update(trip, 10).next_stop);
  EXPECT_FALSE(next_stop_update(trip, std::nullopt).next_stop);
  EXPECT_EQ(clock_text(6 * 3600 + 30 * 60), "06:30");
  EXPECT_EQ(clock_text(24 * 3600 + 10 * 60 + 59), "24:10");
}

}  // namespace
}  // namespace stopcall::hmi
