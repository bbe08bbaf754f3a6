// The control centre's signed commands: what a bus takes and what it refuses (no broker, no clock).
#include "daemon/fleet/command.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sodium.h>

#include <nlohmann/json.hpp>

namespace stopcall::daemon::fleet {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;
using namespace std::chrono_literals;

routes::SecretKey new_key() {
  if (sodium_init() < 0) throw std::runtime_error("sodium");
  routes::SecretKey key;
  routes::PublicKey pub;
  crypto_sign_keypair(pub.bytes.data(), key.bytes.data());
  return key;
}

const tracking::Time kNow{std::chrono::milliseconds{1'772'437'800'000}};  // 2026-03-02T07:50Z
constexpr const char* kTyphoon = R"({"cmd":"message","preset":"typhoon","message_id":"t8"})";

const Audience kBus{Audience::Kind::bus, "bus-7"};
const Audience kRoute{Audience::Kind::route, "101"};
const Audience kFleet{};

class Gate : public ::testing::Test {
 protected:
  routes::SecretKey centre = new_key();
  CommandGate gate{centre.public_key(), "bus-7"};
};

TEST_F(Gate, TakesACommandSignedForThisBusOnItsOwnTopic) {
  const auto payload = sign_command(centre, kBus, kNow - 2s, kTyphoon);
  const auto c = gate.check(payload, kBus, "101", kNow);
  ASSERT_TRUE(c.command) << c.error << ": " << c.message;
  EXPECT_EQ(c.command->command, kTyphoon);
  EXPECT_EQ(c.command->key_id, centre.key_id());
}

TEST_F(Gate, TakesItsRoutesAndTheFleetsCommandsOnTheirTopics) {
  EXPECT_TRUE(
      gate.check(sign_command(centre, kRoute, kNow, kTyphoon), kRoute, "101", kNow).command);
  EXPECT_TRUE(gate.check(sign_command(centre, kFleet, kNow, kTyphoon), kFleet, "", kNow).command);
}

TEST_F(Gate, RefusesABareControlLineAsUnsigned) {
  const auto c = gate.check(kTyphoon, kBus, "101", kNow);
  EXPECT_FALSE(c.command);
  EXPECT_EQ(c.error, "unsigned");
}

TEST_F(Gate, RefusesAnotherKeysSignatureAndNamesBothKeys) {
  const auto thief = new_key();
  const auto c = gate.check(sign_command(thief, kBus, kNow, kTyphoon), kBus, "101", kNow);
  EXPECT_EQ(c.error, "bad_signature");
  EXPECT_THAT(c.message, HasSubstr(centre.key_id()));
  EXPECT_THAT(c.message, HasSubstr(thief.key_id()));
}

TEST_F(Gate, RefusesACommandChangedAfterSigning) {
  json envelope = json::parse(sign_command(centre, kBus, kNow, kTyphoon));
  for (const char* field : {"command", "to", "issued_ms", "nonce"}) {
    json changed = envelope;
    if (field == std::string("command"))
      changed[field] = R"({"cmd":"message","preset":"evacuate","message_id":"t8"})";
    else if (field == std::string("to"))
      changed[field] = "fleet";
    else if (field == std::string("issued_ms"))
      changed[field] = envelope["issued_ms"].get<std::int64_t>() + 600'000;
    else
      changed[field] = "0123456789abcdef";
    const auto arrived = field == std::string("to") ? kFleet : kBus;
    EXPECT_EQ(gate.check(changed.dump(), arrived, "101", kNow).error, "bad_signature") << field;
  }
}

TEST_F(Gate, RefusesACommandForAnotherBusOrRouteOrSentByAnotherTopic) {
  const Audience other_bus{Audience::Kind::bus, "bus-8"};
  EXPECT_EQ(
      gate.check(sign_command(centre, other_bus, kNow, kTyphoon), other_bus, "101", kNow).error,
      "not_addressed");
  const Audience other_route{Audience::Kind::route, "102"};
  EXPECT_EQ(
      gate.check(sign_command(centre, other_route, kNow, kTyphoon), other_route, "101", kNow).error,
      "not_addressed");
  // Bus 8's command, copied onto bus 7's topic by someone with a broker login.
  EXPECT_EQ(gate.check(sign_command(centre, other_bus, kNow, kTyphoon), kBus, "101", kNow).error,
            "not_addressed");
  // A route command while the bus has no trip.
  EXPECT_EQ(gate.check(sign_command(centre, kRoute, kNow, kTyphoon), kRoute, "", kNow).error,
            "not_addressed");
}

TEST_F(Gate, RefusesStaleAndFutureCommands) {
  auto c = gate.check(sign_command(centre, kBus, kNow - 301s, kTyphoon), kBus, "101", kNow);
  EXPECT_EQ(c.error, "stale");
  EXPECT_THAT(c.message, HasSubstr("301 s ago"));
  EXPECT_TRUE(
      gate.check(sign_command(centre, kBus, kNow - 299s, kTyphoon), kBus, "101", kNow).command);
  EXPECT_EQ(gate.check(sign_command(centre, kBus, kNow + 31s, kTyphoon), kBus, "101", kNow).error,
            "from_the_future");
  EXPECT_TRUE(
      gate.check(sign_command(centre, kBus, kNow + 29s, kTyphoon), kBus, "101", kNow).command);
}

TEST_F(Gate, RefusesTheSameCommandTwiceAndAfterARestart) {
  const auto payload = sign_command(centre, kBus, kNow, kTyphoon);
  ASSERT_TRUE(gate.check(payload, kBus, "101", kNow).command);
  EXPECT_EQ(gate.check(payload, kBus, "101", kNow + 10s).error, "replayed");

  CommandGate restarted{centre.public_key(), "bus-7"};
  for (const auto& [nonce, issued] : gate.remembered())
    restarted.remember(nonce, issued);
  EXPECT_EQ(restarted.check(payload, kBus, "101", kNow + 20s).error, "replayed");
}

TEST_F(Gate, ForgetsOnlyWhatCouldNoLongerBeFresh) {
  ASSERT_TRUE(gate.check(sign_command(centre, kBus, kNow, kTyphoon), kBus, "101", kNow).command);
  gate.forget_before(kNow + 299s);
  EXPECT_EQ(gate.remembered().size(), 1u);
  gate.forget_before(kNow + 301s);
  EXPECT_TRUE(gate.remembered().empty());
}

TEST(FleetAudience, ParsesItsThreeFormsOnly) {
  EXPECT_EQ(Audience::parse("fleet"), Audience{});
  EXPECT_EQ(Audience::parse("bus:SZ-1.2_3"), (Audience{Audience::Kind::bus, "SZ-1.2_3"}));
  EXPECT_EQ(Audience::parse("route:101"), (Audience{Audience::Kind::route, "101"}));
  for (const char* bad : {"", "bus:", "route:a/b", "bus:+", "depot", "fleet:x", "Fleet"})
    EXPECT_FALSE(Audience::parse(bad)) << bad;
}

}  // namespace
}  // namespace stopcall::daemon::fleet
