#include "daemon/tracking/shape_matcher.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <utility>

#include <boost/geometry/geometries/box.hpp>
#include <boost/geometry/geometries/point.hpp>
#include <boost/geometry/index/rtree.hpp>
#include <boost/geometry/strategies/index/cartesian.hpp>
#include <boost/geometry/strategies/relate/cartesian.hpp>

namespace stopcall::tracking {

namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int kScanLimit = 64;             // windows with more segments use the R-tree
constexpr double kAlongWeight = 0.25;      // candidate cost per metre from the prediction
constexpr double kHeadingPenaltyM = 40.0;  // candidate cost when driving against the shape

using BPoint = bg::model::point<double, 2, bg::cs::cartesian>;
using BBox = bg::model::box<BPoint>;
using RValue = std::pair<BBox, std::uint32_t>;
using RTree = bgi::rtree<RValue, bgi::quadratic<16>>;

}  // namespace

struct ShapeMatcher::Index {
  RTree tree;
  std::vector<RValue> found;  // query results, reused
};

ShapeMatcher::ShapeMatcher(routes::geo::Polyline line)
    : line_(std::move(line)), rtree_(std::make_unique<Index>()) {
  std::vector<RValue> values;
  values.reserve(segments());
  ux_.resize(segments());
  uy_.resize(segments());
  for (std::size_t i = 0; i < segments(); ++i) {
    const XY& a = line_.points[i];
    const XY& b = line_.points[i + 1];
    double len = line_.along[i + 1] - line_.along[i];
    ux_[i] = len > 0 ? (b.x - a.x) / len : 0;
    uy_[i] = len > 0 ? (b.y - a.y) / len : 0;
    values.emplace_back(BBox(BPoint(std::min(a.x, b.x), std::min(a.y, b.y)),
                             BPoint(std::max(a.x, b.x), std::max(a.y, b.y))),
                        static_cast<std::uint32_t>(i));
  }
  rtree_->tree = RTree(values.begin(), values.end());  // bulk-loaded
  rtree_->found.reserve(64);
}

ShapeMatcher::~ShapeMatcher() = default;
ShapeMatcher::ShapeMatcher(ShapeMatcher&&) noexcept = default;
ShapeMatcher& ShapeMatcher::operator=(ShapeMatcher&&) noexcept = default;

std::size_t ShapeMatcher::segment_at(double d) const {
  auto it = std::upper_bound(line_.along.begin(), line_.along.end(), d);
  auto i = static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, it - line_.along.begin() - 1));
  return std::min(i, segments() - 1);
}

ShapeMatcher::XY ShapeMatcher::point_at(double d) const {
  std::size_t i = segment_at(d);
  double len = line_.along[i + 1] - line_.along[i];
  double t = len > 0 ? std::clamp((d - line_.along[i]) / len, 0.0, 1.0) : 0;
  const XY& a = line_.points[i];
  const XY& b = line_.points[i + 1];
  return {a.x + t * (b.x - a.x), a.y + t * (b.y - a.y)};
}

// Projects p onto the part of segment i that lies within [lo, hi] along the shape.
void ShapeMatcher::consider(std::size_t i, XY p, double lo, double hi, double pred,
                            const XY* heading, double heading_cos, double radius, Policy policy,
                            Match& best, double& best_cost) const {
  double a0 = line_.along[i], a1 = line_.along[i + 1];
  if (a1 < lo || a0 > hi) return;
  const XY& a = line_.points[i];
  const XY& b = line_.points[i + 1];
  auto proj = routes::geo::project_on_segment(p, a, b, a0, i);
  if (proj.along_m < lo || proj.along_m > hi) {
    double len = a1 - a0;
    double d = std::clamp(proj.along_m, lo, hi);
    double t = len > 0 ? std::clamp((d - a0) / len, 0.0, 1.0) : 0;
    double cx = a.x + t * (b.x - a.x), cy = a.y + t * (b.y - a.y);
    proj.along_m = a0 + t * len;
    proj.offset_m = std::hypot(p.x - cx, p.y - cy);
  }
  best.min_offset = std::min(best.min_offset, proj.offset_m);
  bool heading_ok = heading == nullptr || (ux_[i] == 0 && uy_[i] == 0) ||
                    ux_[i] * heading->x + uy_[i] * heading->y >= heading_cos;
  double cost;
  if (policy == Policy::nearest) {
    cost = proj.offset_m + kAlongWeight * std::abs(proj.along_m - pred) +
           (heading_ok ? 0.0 : kHeadingPenaltyM);
  } else {
    if (proj.offset_m > radius || !heading_ok) return;
    cost = policy == Policy::first ? proj.along_m : proj.offset_m;
  }
  if (cost < best_cost) {
    best_cost = cost;
    best.found = true;
    best.along = proj.along_m;
    best.offset = proj.offset_m;
    best.heading_ok = heading_ok;
    best.segment = i;
  }
}

ShapeMatcher::Match ShapeMatcher::match(XY p, double lo, double hi, double pred, const XY* heading,
                                        double heading_cos, double radius, Policy policy) {
  Match best;
  double best_cost = kInf;
  std::size_t i0 = segment_at(lo), i1 = segment_at(hi);
  if (i1 < i0) return best;
  const bool scan = i1 - i0 < static_cast<std::size_t>(kScanLimit);
  auto& found = rtree_->found;
  if (!scan) {
    found.clear();
    BBox box(BPoint(p.x - radius, p.y - radius), BPoint(p.x + radius, p.y + radius));
    rtree_->tree.query(bgi::intersects(box), std::back_inserter(found));
  }
  auto each = [&](double from, double to, Policy pol) {
    if (scan) {
      for (std::size_t i = i0; i <= i1; ++i)
        consider(i, p, from, to, pred, heading, heading_cos, radius, pol, best, best_cost);
      return;
    }
    for (const auto& v : found) {
      if (v.second >= i0 && v.second <= i1)
        consider(v.second, p, from, to, pred, heading, heading_cos, radius, pol, best, best_cost);
    }
  };
  each(lo, hi, policy);
  if (policy == Policy::first && best.found) {
    // The first pass starts at best.along; its closest point lies within 2 radii of that.
    double from = best.along, min_offset = best.min_offset;
    best = {};
    best_cost = kInf;
    each(from, std::min(hi, from + 2 * radius), Policy::closest);
    best.min_offset = min_offset;
  }
  return best;
}

}  // namespace stopcall::tracking
