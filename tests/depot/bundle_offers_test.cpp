// Which buses push-bundle offers its bundle to again: pure, a few buses and a time.
#include "depot/bundle_offers.hpp"

#include <gtest/gtest.h>

namespace stopcall::depot {
namespace {

using namespace std::chrono_literals;

// The first offer went out at 06:40:00.
const tracking::Time kFirst{std::chrono::sys_days{std::chrono::year{2026} / 3 / 2} + 6h + 40min};

BundleProgress online(std::string state = "", std::optional<tracking::Time> offered = kFirst) {
  return {true, true, std::move(state), offered};
}

std::vector<std::string> vehicles(const std::vector<Reoffer>& offers) {
  std::vector<std::string> out;
  for (const auto& o : offers)
    out.push_back(o.vehicle);
  return out;
}

TEST(BundleOffers, ABusThatCameOnlineAfterTheOfferGetsOneAtOnce) {
  const std::map<std::string, BundleProgress> buses{{"bus-7", online("", std::nullopt)}};
  const auto due = due_offers(buses, kFirst + 2s);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].vehicle, "bus-7");
  EXPECT_EQ(due[0].reason, "online, and it has heard no offer");
}

TEST(BundleOffers, ABusOfflineOrNotAddressedGetsNone) {
  BundleProgress offline = online("", std::nullopt);
  offline.online = false;
  BundleProgress other_route = online("", std::nullopt);
  other_route.addressed = false;
  EXPECT_TRUE(due_offers({{"bus-7", offline}, {"bus-8", other_route}}, kFirst + 10min).empty());
}

TEST(BundleOffers, ABusOnItsWayIsLeftToIt) {
  const std::map<std::string, BundleProgress> buses{
      {"bus-1", online("accepted")},
      {"bus-2", online("downloading")},
      {"bus-3", online("verifying")},
      {"bus-4", online("waiting_for_terminus", std::nullopt)}};
  EXPECT_TRUE(due_offers(buses, kFirst + 10min).empty());
}

TEST(BundleOffers, ABusThatInstalledFailedOrRefusedIsDone) {
  const std::map<std::string, BundleProgress> buses{{"bus-1", online("installed", std::nullopt)},
                                                    {"bus-2", online("failed")},
                                                    {"bus-3", online("refused")}};
  EXPECT_TRUE(due_offers(buses, kFirst + 10min).empty());
}

TEST(BundleOffers, ABusThatHeardAnOfferAndShowsNothingGetsAnotherAMinuteLater) {
  const std::map<std::string, BundleProgress> buses{{"bus-7", online()}};
  EXPECT_TRUE(due_offers(buses, kFirst + 30s).empty());
  EXPECT_TRUE(due_offers(buses, kFirst + 59s).empty());
  const auto due = due_offers(buses, kFirst + 60s);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].reason, "no progress 60 s after the offer it had");
}

TEST(BundleOffers, ABusGoingOnAndOffLineIsOfferedAtMostOnceAMinute) {
  // Offered its own at 06:41:00, it went offline before answering and is back 5 s later.
  const std::map<std::string, BundleProgress> buses{{"bus-7", online("", kFirst + 1min)}};
  EXPECT_TRUE(due_offers(buses, kFirst + 1min + 5s).empty());
  EXPECT_EQ(vehicles(due_offers(buses, kFirst + 2min)), std::vector<std::string>{"bus-7"});
}

TEST(BundleOffers, OnlyTheBusesThatNeedOneInVehicleOrder) {
  const std::map<std::string, BundleProgress> buses{
      {"bus-9", online("", std::nullopt)},   // came online later
      {"bus-2", online("downloading")},      // on its way
      {"bus-5", online()},                   // heard the first one, nothing since
      {"bus-1", online("installed")},        // done
      {"bus-3", online("", kFirst + 50s)}};  // its own offer, 20 s ago
  EXPECT_EQ(vehicles(due_offers(buses, kFirst + 70s)),
            (std::vector<std::string>{"bus-5", "bus-9"}));
}

TEST(BundleOffers, AGapOfTheCallersChoice) {
  const std::map<std::string, BundleProgress> buses{{"bus-7", online()}};
  EXPECT_TRUE(due_offers(buses, kFirst + 9s, 10s).empty());
  EXPECT_EQ(due_offers(buses, kFirst + 10s, 10s).size(), 1u);
}

}  // namespace
}  // namespace stopcall::depot
