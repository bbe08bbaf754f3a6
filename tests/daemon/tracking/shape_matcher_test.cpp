// Map matching alone: which pass of a shape a position is on, and where along it.
#include "daemon/tracking/shape_matcher.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace stopcall::tracking {
namespace {

using XY = ShapeMatcher::XY;
using Policy = ShapeMatcher::Policy;

// A polyline in metres with a vertex every `step` metres (as GTFS shapes have).
ShapeMatcher shape(std::vector<XY> corners, double step = 10) {
  routes::geo::Polyline line;
  double along = 0;
  for (std::size_t i = 0; i + 1 < corners.size(); ++i) {
    const XY a = corners[i], b = corners[i + 1];
    const double len = std::hypot(b.x - a.x, b.y - a.y);
    const int pieces = std::max(1, static_cast<int>(std::ceil(len / step)));
    for (int k = 0; k < pieces; ++k) {
      const double t = static_cast<double>(k) / pieces;
      line.points.push_back({a.x + t * (b.x - a.x), a.y + t * (b.y - a.y)});
      line.along.push_back(along + t * len);
    }
    along += len;
  }
  line.points.push_back(corners.back());
  line.along.push_back(along);
  return ShapeMatcher(std::move(line));
}

// Out along a street and back on its other side, 10 m apart: a fix between the two is on the pass
// the bus is predicted on, not the nearer one.
TEST(ShapeMatcher, NearestTakesThePassThePredictionIsOn) {
  auto m = shape({{0, 0}, {1000, 0}, {1000, 10}, {0, 10}});
  const XY fix{300, 6};  // nearer the way back
  auto out = m.match(fix, 0, m.length(), 300, nullptr, 0, 90, Policy::nearest);
  ASSERT_TRUE(out.found);
  EXPECT_NEAR(out.along, 300, 1);
  auto back = m.match(fix, 0, m.length(), 1710, nullptr, 0, 90, Policy::nearest);
  EXPECT_NEAR(back.along, 1710, 1);
  EXPECT_NEAR(back.min_offset, 4, 0.01);
}

// Found without a prediction (a bus switched on mid-route): the first pass within the radius,
// heading along the shape.
TEST(ShapeMatcher, FirstTakesTheFirstPassHeadingTheRightWay) {
  auto m = shape({{0, 0}, {1000, 0}, {1000, 10}, {0, 10}});
  const XY west{-1, 0}, east{1, 0};
  auto out = m.match({300, 6}, 0, m.length(), 0, &east, 0.5, 40, Policy::first);
  EXPECT_NEAR(out.along, 300, 1);
  auto back = m.match({300, 6}, 0, m.length(), 0, &west, 0.5, 40, Policy::first);
  EXPECT_NEAR(back.along, 1710, 1);
  EXPECT_FALSE(m.match({300, 200}, 0, m.length(), 0, nullptr, 0.5, 40, Policy::first).found);
}

// A long window goes through the R-tree; a short one is scanned: the same answer.
TEST(ShapeMatcher, TheIndexAndTheScanAgree) {
  auto m = shape({{0, 0}, {5000, 0}, {5000, 3000}}, 8);
  const XY fix{2500, 7};
  auto wide = m.match(fix, 0, m.length(), 2500, nullptr, 0, 90, Policy::nearest);
  auto narrow = m.match(fix, 2400, 2600, 2500, nullptr, 0, 90, Policy::nearest);
  ASSERT_TRUE(wide.found && narrow.found);
  EXPECT_DOUBLE_EQ(wide.along, narrow.along);
  EXPECT_DOUBLE_EQ(wide.offset, narrow.offset);
  EXPECT_NEAR(m.point_at(5000 + 1500).y, 1500, 1e-9);
  EXPECT_EQ(m.segment_at(-5), 0u);
  EXPECT_EQ(m.segment_at(1e9), m.segments() - 1);
}

}  // namespace
}  // namespace stopcall::tracking
