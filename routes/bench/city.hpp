// The synthetic city the feed's routes drive through: a jittered street grid over Shenzhen with a
// stop on some block sides, random walks along its streets, and each walk as one direction of a
// route (its shape on the bus lane and its stops along it). Deterministic: everything random
// comes from Rng, the same on every machine.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <utility>
#include <vector>

#include "routes/bench/rng.hpp"
#include "routes/geo.hpp"

namespace stopcall::routes::bench {

using stopcall::routes::geo::XY;

// The area the city covers.
constexpr double kSouth = 22.45, kNorth = 22.75, kWest = 113.8, kEast = 114.3;

// Headings: 0 east, 1 north, 2 west, 3 south.
struct City {
  int nx = 0, ny = 0;  // crossings per row and per column
  double block_m = 0;
  std::vector<XY> crossings;  // index j * nx + i
  long h_segments = 0;        // east-west blocks come first, then north-south ones
  // The stop on each block side: slot 2 * segment + 0 is passed driving east or north, + 1 west
  // or south. -1: no stop there.
  std::vector<long> slot_stop;
  std::vector<XY> stop_xy;

  long segments() const { return h_segments + static_cast<long>(nx) * (ny - 1); }

  // The crossing one block from `node` towards `heading`, or -1 at the city's edge; sets the slot
  // of the block side driven along.
  long neighbour(long node, int heading, long& slot) const {
    long i = node % nx, j = node / nx;
    switch (heading) {
      case 0:
        if (i + 1 >= nx) return -1;
        slot = 2 * (j * (nx - 1) + i);
        return node + 1;
      case 1:
        if (j + 1 >= ny) return -1;
        slot = 2 * (h_segments + j * nx + i);
        return node + nx;
      case 2:
        if (i == 0) return -1;
        slot = 2 * (j * (nx - 1) + i - 1) + 1;
        return node - 1;
      default:
        if (j == 0) return -1;
        slot = 2 * (h_segments + (j - 1) * nx + i) + 1;
        return node - nx;
    }
  }

  // The slot driven from crossing a to its neighbour b.
  long slot_between(long a, long b) const {
    long slot = -1;
    for (int h = 0; h < 4; ++h) {
      if (neighbour(a, h, slot) == b) return slot;
    }
    throw std::logic_error("crossings are not neighbours");
  }

  // Crossings at both ends of a segment: low (west or south) and high.
  std::pair<long, long> ends(long segment) const {
    if (segment < h_segments) {
      long j = segment / (nx - 1), i = segment % (nx - 1);
      return {j * nx + i, j * nx + i + 1};
    }
    long v = segment - h_segments, j = v / nx, i = v % nx;
    return {j * nx + i, (j + 1) * nx + i};
  }
};

// A grid with room for `stop_count` stops over width_m x height_m, centred on 0, 0.
City build_city(Rng& rng, long stop_count, double width_m, double height_m);

// A walk along streets: mostly straight on, never back, never along a block twice. Returns the
// crossings in order; stops up to `target` stops on its forward side.
std::vector<long> random_walk(const City& city, Rng& rng, long target);

// One direction of a route: its shape and its stops along it.
struct Pattern {
  std::vector<XY> shape;
  std::vector<double> shape_along;
  std::vector<long> stops;
  std::vector<double> stop_along;
};

Pattern make_pattern(const City& city, const std::vector<long>& walk);

}  // namespace stopcall::routes::bench
