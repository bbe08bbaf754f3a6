// systemd's service protocol for stopcalld: READY once the bundle is loaded and gpsd is connected
// or being retried, STATUS lines a technician can read with `systemctl status`, and the watchdog
// petted from a timer on the io_context — so a wedged loop stops the petting and systemd restarts
// the daemon. Without NOTIFY_SOCKET (not under systemd, or in replay) every call does nothing.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <string>

namespace stopcall::daemon {

class ServiceNotifier {
 public:
  explicit ServiceNotifier(boost::asio::io_context& io);

  void ready(const std::string& status);
  void status(const std::string& status);
  void stopping();

  // Starts petting at half the interval systemd asked for (WATCHDOG_USEC); false when no
  // watchdog is configured.
  bool start_watchdog();
  std::chrono::microseconds watchdog_interval() const { return interval_; }

 private:
  void pet();
  boost::asio::steady_timer timer_;
  std::chrono::microseconds interval_{0};
};

}  // namespace stopcall::daemon
