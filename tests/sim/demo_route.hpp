// The demo route (routes/demo, Shenzhen 101) imported once per test suite, for tests that drive a
// simulated bus along real trips.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "routes/bundle.hpp"
#include "routes/importer.hpp"
#include "tests/routes/test_feed.hpp"

namespace stopcall::sim::testing {

class DemoRoute : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<routes::testing::TempDir>();
    const std::string demo_bundle = *dir_ / "demo.db";
    ASSERT_TRUE(routes::testing::import_demo(demo_bundle));
  }
  static void TearDownTestSuite() { dir_.reset(); }

  static std::string bundle_path() { return *dir_ / "demo.db"; }
  static routes::Trip trip(const std::string& id = "101-WD-E-0630") {
    return routes::Bundle::open(bundle_path()).load_trip(id);
  }
  static std::string scratch(const std::string& name) { return *dir_ / name; }

 private:
  inline static std::unique_ptr<routes::testing::TempDir> dir_;
};

}  // namespace stopcall::sim::testing
