#include "routes/problem.hpp"

#include <gtest/gtest.h>

namespace stopcall::routes {
namespace {

TEST(Problem, OneLineNamesFileLineFieldAndValue) {
  Problem p{Severity::error, "stops.txt", 12, "stop_lat", "95.1", "latitude out of range"};
  EXPECT_EQ(p.to_string(), "error: stops.txt:12: stop_lat: '95.1': latitude out of range");
}

TEST(Problems, CountsAllButKeepsABoundedNumber) {
  Problems problems(3);
  for (int i = 0; i < 10; ++i)
    problems.error("stop_times.txt", i + 2, "stop_id", "x", "unknown");
  problems.warning("stops.txt", 2, "", "", "far");
  EXPECT_EQ(problems.error_count(), 10u);
  EXPECT_EQ(problems.warning_count(), 1u);
  EXPECT_EQ(problems.kept().size(), 4u);  // 3 errors + 1 warning
  EXPECT_TRUE(problems.has_errors());
}

TEST(RouteError, CarriesTheCatalogueCode) {
  RouteError e(Errc::signature_mismatch, "bundle.db: signature does not match");
  EXPECT_EQ(e.code(), Errc::signature_mismatch);
  EXPECT_EQ(e.code().category().name(), std::string("stopcall.routes"));
}

}  // namespace
}  // namespace stopcall::routes
