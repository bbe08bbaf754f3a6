// The message board on its own: what riders hear and see of an emergency or a service message,
// and when, as effects — no voice, no screens, no clock.
#include "daemon/messages/board.hpp"

#include <gtest/gtest.h>

namespace stopcall::messages {
namespace {

using namespace std::chrono_literals;

const tracking::Time t0 = tracking::Time{} + std::chrono::hours(24 * 20000);

Message evacuate() {
  Message m;
  m.id = "evacuate-1";
  m.kind = Kind::emergency;
  m.texts = {{"zh-Hans", {"请立即下车", ""}},
             {"yue", {"請立即落車", ""}},
             {"en", {"Please leave the bus now", ""}}};
  m.source = "console";
  m.preset = "evacuate";
  return m;
}

Message detour() {
  Message m;
  m.id = "detour-1";
  m.kind = Kind::service;
  m.texts = {{"en", {"Roadworks: this bus does not stop at Chegongmiao", ""}},
             {"zh-Hans", {"因道路施工，本车不停靠车公庙站", ""}}};
  m.source = "control";
  return m;
}

template <class T>
std::vector<T> all(const std::vector<Effect>& effects) {
  std::vector<T> out;
  for (const auto& e : effects) {
    if (const auto* v = std::get_if<T>(&e)) out.push_back(*v);
  }
  return out;
}

std::vector<std::string> events(const std::vector<Effect>& effects) {
  std::vector<std::string> out;
  for (const auto& l : all<log::Message>(effects))
    out.push_back(l.event);
  return out;
}

// The words one Speak effect says, per segment language.
std::vector<std::string> languages(const media::Announcement& a) {
  std::vector<std::string> out;
  for (const auto& s : a.segments) {
    if (s.kind == media::SegmentKind::speech) out.push_back(s.lang);
  }
  return out;
}

TEST(Emergency, PreemptsWithAToneThenEveryLanguageInsideAndOutside) {
  Board board;
  auto outcome = board.send(evacuate(), t0);
  ASSERT_TRUE(outcome.ok) << outcome.message;
  const auto speak = all<Speak>(outcome.effects);
  ASSERT_EQ(speak.size(), 2u);
  // The tone needs no synthesis: it is submitted first and is what cuts in.
  EXPECT_EQ(speak[0].announcement.priority, media::Priority::safety);
  EXPECT_EQ(speak[0].announcement.segments.at(0).kind, media::SegmentKind::chime);
  EXPECT_EQ(speak[1].announcement.priority, media::Priority::safety);
  EXPECT_EQ(languages(speak[1].announcement), (std::vector<std::string>{"zh-Hans", "yue", "en"}));
  EXPECT_EQ(speak[1].announcement.outputs, media::Outputs::both());
  // Stops are held; the screens get the panel.
  EXPECT_EQ(all<HoldStops>(outcome.effects).size(), 1u);
  EXPECT_TRUE(all<HoldStops>(outcome.effects)[0].hold);
  EXPECT_TRUE(board.holding_stops());
  ASSERT_EQ(all<Show>(outcome.effects).size(), 1u);
  EXPECT_TRUE(all<Show>(outcome.effects)[0].active);
  EXPECT_EQ(events(outcome.effects), (std::vector<std::string>{"sent", "said"}));
}

TEST(Emergency, RepeatsThirtySecondsAfterEachSayingUntilAcknowledged) {
  Board board;
  board.send(evacuate(), t0);
  const std::string words = board.active()[0].playing;
  EXPECT_TRUE(all<Speak>(board.tick(t0 + 20s)).empty());  // still being said
  board.finished(words, t0 + 12s);
  EXPECT_TRUE(all<Speak>(board.tick(t0 + 41s)).empty());
  auto again = board.tick(t0 + 42s);
  ASSERT_EQ(all<Speak>(again).size(), 2u);  // tone and words again
  ASSERT_EQ(all<log::Message>(again).size(), 1u);
  EXPECT_EQ(all<log::Message>(again)[0].times, 2);

  board.finished(board.active()[0].playing, t0 + 54s);
  auto ack = board.acknowledge("evacuate-1", "console", t0 + 60s);
  ASSERT_TRUE(ack.ok);
  EXPECT_EQ(events(ack.effects), std::vector<std::string>{"acknowledged"});
  EXPECT_TRUE(all<Speak>(board.tick(t0 + 600s)).empty());
  // Acknowledged is not ended: the panel stays and stops are still held until it is cancelled.
  EXPECT_TRUE(board.holding_stops());
  EXPECT_TRUE(all<Show>(ack.effects)[0].acknowledged);
}

TEST(Emergency, CancelSilencesItTakesThePanelDownAndReleasesTheStops) {
  Board board;
  board.send(evacuate(), t0);
  auto playing = board.active()[0].playing;
  auto outcome = board.cancel("evacuate-1", "control", t0 + 5s);
  ASSERT_TRUE(outcome.ok);
  auto silenced = all<Silence>(outcome.effects);
  ASSERT_EQ(silenced.size(), 2u);  // tone and words, wherever they are
  EXPECT_EQ(silenced[1].announcement_id, playing);
  EXPECT_FALSE(all<Show>(outcome.effects)[0].active);
  ASSERT_EQ(all<HoldStops>(outcome.effects).size(), 1u);
  EXPECT_FALSE(all<HoldStops>(outcome.effects)[0].hold);  // "next stop" is said again
  EXPECT_FALSE(board.holding_stops());
  EXPECT_EQ(all<log::Message>(outcome.effects)[0].note, "control");
}

TEST(Emergency, ExpiresOnItsOwn) {
  Board board;
  auto m = evacuate();
  m.expires = t0 + 10min;
  board.send(m, t0);
  EXPECT_TRUE(events(board.tick(t0 + 9min)).empty());
  auto out = board.tick(t0 + 10min);
  EXPECT_EQ(events(out), std::vector<std::string>{"expired"});
  EXPECT_FALSE(board.holding_stops());
}

TEST(Emergency, HeardOnEachOutputIsLoggedOnce) {
  Board board;
  board.send(evacuate(), t0);
  const auto tone = board.active()[0].tone;
  const auto words = board.active()[0].playing;
  auto first = board.heard(tone, media::Output::interior, t0 + 100ms);
  ASSERT_EQ(all<log::Message>(first).size(), 1u);
  EXPECT_EQ(all<log::Message>(first)[0].output, "interior");
  EXPECT_EQ(all<Show>(first)[0].heard, std::vector<media::Output>{media::Output::interior});
  EXPECT_TRUE(board.heard(words, media::Output::interior, t0 + 2s).empty());
  EXPECT_EQ(all<log::Message>(board.heard(tone, media::Output::exterior, t0 + 120ms)).size(), 1u);
  EXPECT_TRUE(board.heard("trip:3:next_stop", media::Output::interior, t0 + 2s).empty());
}

TEST(Service, SaidAfterWhatIsPlayingThenAfterTheNextDepartures) {
  Board board({.service_repeats = 2});
  auto outcome = board.send(detour(), t0);
  ASSERT_TRUE(outcome.ok);
  auto speak = all<Speak>(outcome.effects);
  ASSERT_EQ(speak.size(), 1u);  // no tone
  EXPECT_EQ(speak[0].announcement.priority, media::Priority::information);
  EXPECT_EQ(speak[0].announcement.outputs, media::Outputs{});  // interior only
  EXPECT_TRUE(all<HoldStops>(outcome.effects).empty());
  EXPECT_FALSE(board.holding_stops());

  board.finished(board.active()[0].playing, t0 + 8s);
  EXPECT_EQ(all<Speak>(board.departed(t0 + 60s)).size(), 1u);
  board.finished(board.active()[0].playing, t0 + 68s);
  EXPECT_EQ(all<Speak>(board.departed(t0 + 120s)).size(), 1u);
  board.finished(board.active()[0].playing, t0 + 128s);
  EXPECT_TRUE(all<Speak>(board.departed(t0 + 180s)).empty());  // said three times: enough
  // The panel stays until it expires (an hour by default).
  EXPECT_TRUE(board.tick(t0 + 59min).empty());
  EXPECT_EQ(events(board.tick(t0 + 60min)), std::vector<std::string>{"expired"});
}

TEST(Service, WaitsForAnEmergencyToEnd) {
  Board board;
  board.send(evacuate(), t0);
  auto held = board.send(detour(), t0 + 1s);
  ASSERT_TRUE(held.ok);
  EXPECT_TRUE(all<Speak>(held.effects).empty());
  EXPECT_EQ(all<Show>(held.effects).size(), 1u);  // shown at once, said later
  EXPECT_TRUE(all<Speak>(board.departed(t0 + 30s)).empty());
  auto ended = board.cancel("evacuate-1", "console", t0 + 60s);
  auto speak = all<Speak>(ended.effects);
  ASSERT_EQ(speak.size(), 1u);
  EXPECT_EQ(speak[0].announcement.priority, media::Priority::information);
}

TEST(Message, AMissingLanguageGoesOutInTheOthersAndIsLogged) {
  Board board;
  auto outcome = board.send(detour(), t0);  // no Cantonese
  ASSERT_TRUE(outcome.ok);
  EXPECT_EQ(languages(all<Speak>(outcome.effects)[0].announcement),
            (std::vector<std::string>{"zh-Hans", "en"}));
  auto sent = all<log::Message>(outcome.effects)[0];
  EXPECT_EQ(sent.languages, (std::vector<std::string>{"zh-Hans", "en"}));
  EXPECT_EQ(sent.missing, std::vector<std::string>{"yue"});
}

TEST(Message, TheSpokenFormIsSaidAndTheShownFormIsTheSubtitle) {
  Board board;
  auto m = detour();
  m.texts = {{"en", {"Typhoon signal No. 8", "Typhoon signal number eight"}}};
  auto outcome = board.send(m, t0);
  const auto segment = all<Speak>(outcome.effects)[0].announcement.segments[0];
  EXPECT_EQ(segment.text, "Typhoon signal No. 8");
  EXPECT_EQ(segment.spoken, "Typhoon signal number eight");
}

TEST(Message, AMalformedOneIsRefusedAndChangesNothing) {
  Board board;
  auto no_id = detour();
  no_id.id.clear();
  auto no_text = detour();
  no_text.texts = {{"en", {"", ""}}};
  auto bad_tag = detour();
  bad_tag.texts = {{"en\"}", {"x", ""}}};
  auto nowhere = detour();
  nowhere.outputs = media::Outputs{false, false};
  auto too_often = evacuate();
  too_often.repeat_every = 1s;
  auto stale = detour();
  stale.expires = t0 - 1s;
  for (const auto& m : {no_id, no_text, bad_tag, nowhere, too_often, stale}) {
    auto outcome = board.send(m, t0);
    EXPECT_FALSE(outcome.ok);
    EXPECT_FALSE(outcome.message.empty());
    EXPECT_TRUE(outcome.effects.empty());
  }
  EXPECT_TRUE(board.active().empty());
  EXPECT_EQ(board.send(detour(), t0).ok, true);
  EXPECT_EQ(board.send(detour(), t0).error, "duplicate");
  EXPECT_EQ(board.cancel("nope", "console", t0).error, "unknown_message");
  EXPECT_EQ(board.acknowledge("detour-1", "console", t0).error, "not_emergency");
}

TEST(Message, TheBoardHasRoomForAFewOnly) {
  Board board({.max_active = 2});
  auto a = detour();
  auto b = detour();
  b.id = "b";
  auto c = detour();
  c.id = "c";
  EXPECT_TRUE(board.send(a, t0).ok);
  EXPECT_TRUE(board.send(b, t0).ok);
  EXPECT_EQ(board.send(c, t0).error, "too_many");
}

TEST(Restart, AnEmergencyComesBackAndIsSaidAgainUnlessAcknowledged) {
  Board board;
  auto outcome = board.restore(evacuate(), t0 - 5min, false, t0);
  ASSERT_TRUE(outcome.ok);
  EXPECT_EQ(events(outcome.effects), (std::vector<std::string>{"restored", "said"}));
  EXPECT_EQ(all<Speak>(outcome.effects).size(), 2u);
  ASSERT_EQ(all<HoldStops>(outcome.effects).size(), 1u);
  EXPECT_EQ(all<Show>(outcome.effects)[0].since, t0 - 5min);

  Board quiet;
  auto acknowledged = quiet.restore(evacuate(), t0 - 5min, true, t0);
  EXPECT_TRUE(all<Speak>(acknowledged.effects).empty());
  EXPECT_TRUE(quiet.holding_stops());
  EXPECT_TRUE(all<Show>(acknowledged.effects)[0].acknowledged);
}

TEST(Restart, AServiceMessageWaitsForTheDeparturesAndAnExpiredOneStaysGone) {
  Board board({.service_repeats = 1});
  auto m = detour();
  m.expires = t0 + 10min;
  auto outcome = board.restore(m, t0 - 1min, false, t0);
  ASSERT_TRUE(outcome.ok);
  EXPECT_TRUE(all<Speak>(outcome.effects).empty());
  EXPECT_EQ(all<Speak>(board.departed(t0 + 1min)).size(), 1u);
  board.finished(board.active()[0].playing, t0 + 70s);
  EXPECT_TRUE(all<Speak>(board.departed(t0 + 2min)).empty());

  auto old = detour();
  old.id = "old";
  old.expires = t0 - 1s;
  EXPECT_EQ(board.restore(old, t0 - 2h, false, t0).error, "expired");
}

}  // namespace
}  // namespace stopcall::messages
