// Small geodesy for a city: a local metric projection (equirectangular about a reference point,
// error well under 0.1 % within 50 km) and point-to-polyline projection. Used by the importer to
// place stops along shapes and by the tracker to place the bus.
#pragma once

#include <cmath>
#include <vector>

#include "routes/model.hpp"

namespace stopcall::routes::geo {

inline constexpr double kEarthRadiusM = 6371008.8;  // mean radius (IUGG)
inline constexpr double kDegToRad = M_PI / 180.0;

struct XY {
  double x = 0;  // metres east of the reference
  double y = 0;  // metres north of the reference
};

class LocalProjection {
 public:
  LocalProjection() = default;
  explicit LocalProjection(LatLon origin)
      : origin_(origin),
        kx_(kEarthRadiusM * kDegToRad * std::cos(origin.lat * kDegToRad)),
        ky_(kEarthRadiusM * kDegToRad) {}

  XY to_xy(LatLon p) const { return {(p.lon - origin_.lon) * kx_, (p.lat - origin_.lat) * ky_}; }
  LatLon to_latlon(XY p) const { return {origin_.lat + p.y / ky_, origin_.lon + p.x / kx_}; }
  LatLon origin() const { return origin_; }

 private:
  LatLon origin_;
  double kx_ = 0, ky_ = 0;
};

// Great-circle distance (haversine), metres.
double distance_m(LatLon a, LatLon b);

struct SegmentProjection {
  double along_m = 0;   // distance along the polyline of the closest point
  double offset_m = 0;  // distance from the point to the polyline
  std::size_t segment = 0;
};

// Projects p onto the segment [a, b] whose start lies `a_along` metres along the line.
SegmentProjection project_on_segment(XY p, XY a, XY b, double a_along, std::size_t segment);

// A polyline in local metres with cumulative distances, built from shape points.
struct Polyline {
  LocalProjection projection;
  std::vector<XY> points;
  std::vector<double> along;  // cumulative metres at each point

  static Polyline from_latlon(const std::vector<LatLon>& points);
  double length() const { return along.empty() ? 0 : along.back(); }
};

// Places stops in trip order along a polyline so that distances never go backwards, choosing
// for each stop among the local minima of its distance to the line the assignment with the least
// total offset. A loop or a street driven twice thus gets each pass's stops on the right pass.
// Returns one projection per stop.
std::vector<SegmentProjection> place_stops_in_order(const Polyline& line,
                                                    const std::vector<LatLon>& stops);

}  // namespace stopcall::routes::geo
