// `stopcall-routes validate BUNDLE`: checks an existing bundle as the daemon will use it.
#pragma once

#include <string>

#include "routes/problem.hpp"

namespace stopcall::routes {

// Never throws: an unreadable bundle is reported as an error problem.
Problems check_bundle(const std::string& path, double max_stop_offset_m = 150);

}  // namespace stopcall::routes
