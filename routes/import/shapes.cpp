// shapes.txt, and every shape (given or derived from stops) as the bundle stores it
// (importer_state.hpp).
#include <algorithm>

#include "routes/geo.hpp"
#include "routes/gtfs_values.hpp"
#include "routes/import/importer_state.hpp"

namespace stopcall::routes::gtfs_import {

using gtfs::parse_double;
using gtfs::parse_int;

// A shape only places stops along the street. A point that is not a position is dropped; a
// shape whose order is unclear is not used, and trips on it get a shape built from their stops,
// as trips without a shape do.
void Importer::read_shapes() {
  const std::string file = "shapes.txt";
  each_row(
      file, {"shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"}, {},
      [&](TableReader& r) {
        std::string id(r.need("shape_id"));
        if (id.empty()) return;
        auto lat = parse_double(r["shape_pt_lat"]);
        auto lon = parse_double(r["shape_pt_lon"]);
        auto seq = parse_int(r["shape_pt_sequence"]);
        if (!lat || *lat < -90 || *lat > 90 || !lon || *lon < -180 || *lon > 180) {
          problems_.warning(file, r.line(), "shape_pt_lat",
                            std::string(r["shape_pt_lat"]) + "," + std::string(r["shape_pt_lon"]),
                            "not a valid position", "this point of shape " + id + " is dropped");
          return;
        }
        if (!seq || *seq < 0) {
          problems_.warning(file, r.line(), "shape_pt_sequence",
                            std::string(r["shape_pt_sequence"]), "must be a non-negative integer",
                            "this point of shape " + id + " is dropped");
          return;
        }
        shape_points_[id].push_back({*seq, *lat, *lon, r.line()});
      });
  for (auto it = shape_points_.begin(); it != shape_points_.end();) {
    auto& [id, pts] = *it;
    std::stable_sort(pts.begin(), pts.end(),
                     [](const ShapePt& a, const ShapePt& b) { return a.sequence < b.sequence; });
    bool usable = true;
    for (std::size_t i = 1; i < pts.size(); ++i) {
      if (pts[i].sequence == pts[i - 1].sequence) {
        problems_.warning(
            file, pts[i].line, "shape_pt_sequence", std::to_string(pts[i].sequence),
            "shape " + id + " repeats this sequence (also on line " +
                std::to_string(pts[i - 1].line) + "): the order is unclear",
            "shape " + id + " is not used; trips on it get a shape built " + "from their stops");
        usable = false;
        break;
      }
    }
    if (usable) {
      ++it;
    } else {
      broken_shapes_.insert(id);
      it = shape_points_.erase(it);
    }
  }
}

void Importer::write_shape(const std::string& id, const std::vector<LatLon>& points, bool derived) {
  if (!insert_shape_) {
    insert_shape_.emplace(
        db_.prepare("INSERT INTO shapes(shape_id,derived,length_m,points) VALUES(?,?,?,?)"));
  }
  std::vector<double> blob;
  blob.reserve(points.size() * 3);
  double along = 0;
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (i > 0) along += geo::distance_m(points[i - 1], points[i]);
    blob.insert(blob.end(), {points[i].lat, points[i].lon, along});
  }
  insert_shape_->bind(1, id).bind(2, derived ? 1 : 0).bind(3, along);
  insert_shape_->bind_blob(4, blob.data(), blob.size() * sizeof(double)).run();
  ++counts_.shapes;
  if (derived) ++counts_.derived_shapes;
}

}  // namespace stopcall::routes::gtfs_import
