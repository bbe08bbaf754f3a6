// Map matching: where along a trip's shape a position lies -- the nearest candidate to a
// prediction in a window, or the first pass of a shape that comes back on itself. Small windows
// are scanned segment by segment (exact); large ones (acquisition, after outages and detours) ask
// an R-tree for the segments near the position. Pure.
#pragma once

#include <cstddef>
#include <limits>
#include <memory>
#include <vector>

#include "routes/geo.hpp"

namespace stopcall::tracking {

class ShapeMatcher {
 public:
  using XY = routes::geo::XY;

  enum class Policy {
    nearest,  // least cost: offset + distance from the prediction (+ heading penalty)
    first,    // the closest point of the first pass (smallest along) within the radius, heading
              // along the shape
    closest,  // (second step of `first`) least offset within the radius, heading along the shape
  };

  struct Match {
    bool found = false;
    double along = 0;
    double offset = std::numeric_limits<double>::infinity();  // of the chosen candidate
    // Distance to the nearest part of the shape inside the window.
    double min_offset = std::numeric_limits<double>::infinity();
    bool heading_ok = true;
    std::size_t segment = 0;
  };

  explicit ShapeMatcher(routes::geo::Polyline line);
  ~ShapeMatcher();
  ShapeMatcher(ShapeMatcher&&) noexcept;
  ShapeMatcher& operator=(ShapeMatcher&&) noexcept;

  const routes::geo::Polyline& line() const { return line_; }
  double length() const { return line_.length(); }
  std::size_t segments() const { return line_.points.size() - 1; }
  // The segment containing distance `d` (clamped to the valid range).
  std::size_t segment_at(double d) const;
  // Unit direction of a segment (east, north); (0, 0) for a degenerate one.
  XY direction(std::size_t segment) const { return {ux_[segment], uy_[segment]}; }
  XY point_at(double d) const;

  // Best candidate for p within [lo, hi] along the shape. `pred`: the predicted distance (for
  // Policy::nearest); `heading`: the unit course, when known, and `heading_cos` how close to the
  // shape's direction it must be; `radius`: how far from the shape a candidate may lie (the
  // first-pass policies, and the R-tree query).
  Match match(XY p, double lo, double hi, double pred, const XY* heading, double heading_cos,
              double radius, Policy policy);

 private:
  struct Index;  // the R-tree, in shape_matcher.cpp
  void consider(std::size_t i, XY p, double lo, double hi, double pred, const XY* heading,
                double heading_cos, double radius, Policy policy, Match& best,
                double& best_cost) const;

  routes::geo::Polyline line_;
  std::vector<double> ux_, uy_;
  std::unique_ptr<Index> rtree_;  // and its query results, reused (no allocation per fix)
};

}  // namespace stopcall::tracking
