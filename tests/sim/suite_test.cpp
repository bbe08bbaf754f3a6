// The scenario suite at a small size on the demo route: the real tracker (through stopcalld's
// replay) and the geofence baseline on every noise model. The full size runs in tools/bench
// (section "tracking"). Failing runs are written to <build>/scenario-failures/ for a look.
#include "sim/suite.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <sstream>

#include "tests/sim/demo_route.hpp"

namespace stopcall::sim {
namespace {

// ctest runs every test in a process of its own: the suite runs once per test that needs it, so
// its checks are grouped in one test.
class SmallSuite : public testing::DemoRoute {
 protected:
  SuiteResult run() {
    SuiteOptions options;
    options.bundle = bundle_path();
    options.trips = 4;  // two per direction
    options.seeds = 2;
    options.first_seed = 1;
    options.work_dir = scratch("suite-work");
    options.failures_dir =
        (std::filesystem::path(STOPCALL_BINARY_DIR) / "scenario-failures").string();
    std::filesystem::remove_all(options.failures_dir);
    SuiteResult result = run_suite(options);
    std::ostringstream table;
    print_table(result, table);
    std::cout << table.str();
    return result;
  }
  static double share(const Score& s) { return s.scored ? double(s.correct) / s.scored : 0; }
};

TEST_F(SmallSuite, OnTheDemoRoute) {
  const SuiteResult result = run();
  ASSERT_EQ(result.models.size(), std::size(kAllNoiseModels));
  {
    SCOPED_TRACE("every noise model on every trip and seed");
    for (const auto& m : result.models) {
      EXPECT_EQ(m.runs, 4 * 2);
      EXPECT_EQ(m.tracker.scored, 4 * 2 * 13);  // 14 stops per trip, the first is not scored
      EXPECT_EQ(m.geofence.scored, m.tracker.scored);
    }
  }
  for (const auto& m : result.models) {
    SCOPED_TRACE("no duplicate or out-of-order announcement: " +
                 std::string(noise_model_name(m.model)));
    EXPECT_EQ(m.tracker.duplicates, 0);
    EXPECT_EQ(m.tracker.out_of_order, 0);
    EXPECT_EQ(m.tracker.extra, 0);
  }
  {
    SCOPED_TRACE("every stop right on clean traces");
    const auto& clean = result.models.front();
    ASSERT_EQ(clean.model, NoiseModel::clean);
    EXPECT_EQ(clean.tracker.correct, clean.tracker.scored);
  }
  for (const auto& m : result.models) {
    SCOPED_TRACE("the tracker beats the geofence: " + std::string(noise_model_name(m.model)));
    EXPECT_GE(share(m.tracker), share(m.geofence));
  }
  // The targets (per fix rate, decided on the tracking issue): receivers of 1 Hz and more at
  // least 99.5 % together, clean and 10 Hz 100 %, 0.2 Hz at least 98 % (the disabled test
  // below). This suite's receivers are modelled on what the road test showed (canyon eph from
  // HDOP, standing wander, oblique bursts, outages over stops), and are harsher than the road
  // test itself: clean and 10 Hz are at 100 %, the others at 97-99 % here. These floors guard
  // against regressions.
  {
    SCOPED_TRACE("no worse than today");
    EXPECT_GE(share(result.total.tracker), 0.98);
    for (const auto& m : result.models)
      EXPECT_GE(share(m.tracker), m.model == NoiseModel::sparse ? 0.9 : 0.98)
          << noise_model_name(m.model);
  }
}

TEST_F(SmallSuite, DISABLED_TheTargetsPerFixRate) {
  const SuiteResult result = run();
  Score one_hz;
  for (const auto& m : result.models) {
    if (m.model == NoiseModel::sparse) {
      EXPECT_GE(share(m.tracker), 0.98) << "0.2 Hz";
      continue;
    }
    one_hz += m.tracker;
    if (m.model == NoiseModel::clean || m.model == NoiseModel::hz10) {
      EXPECT_EQ(m.tracker.correct, m.tracker.scored) << noise_model_name(m.model);
    }
  }
  EXPECT_GE(share(one_hz), 0.995) << "1 Hz and more, together";
}

}  // namespace
}  // namespace stopcall::sim
