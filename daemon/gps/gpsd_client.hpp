// Live GPS from gpsd through libgps, on the daemon's io_context: gps_fd is watched by an Asio
// descriptor and drained with gps_read while gps_waiting, so nothing blocks the loop. When gpsd
// goes away or restarts the client reconnects with backoff; when fixes stop coming it says so.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "daemon/tracking/fix.hpp"

namespace stopcall::gps {

struct GpsdOptions {
  std::string host = "localhost";
  std::string port = "2947";
  std::chrono::milliseconds reconnect_min{250};   // first retry after a lost connection
  std::chrono::milliseconds reconnect_max{4000};  // backoff doubles up to this
  std::chrono::milliseconds stale_after{3000};    // no usable fix this long: stale
};

enum class GpsdState {
  connecting,    // trying to reach gpsd
  connected,     // watching; fixes flow
  disconnected,  // gpsd went away; a retry is scheduled
  stale,         // connected, but no usable fix for stale_after
};
std::string_view to_string(GpsdState state);

class GpsdClient {
 public:
  using FixHandler = std::function<void(const tracking::Fix&)>;
  using StateHandler = std::function<void(GpsdState, const std::string& detail)>;

  GpsdClient(boost::asio::io_context& io, GpsdOptions options, FixHandler on_fix,
             StateHandler on_state);
  ~GpsdClient();
  GpsdClient(const GpsdClient&) = delete;
  GpsdClient& operator=(const GpsdClient&) = delete;

  void start();
  void stop();
  GpsdState state() const;
  long reconnects() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace stopcall::gps
