#include "daemon/service/notify.hpp"

#include <systemd/sd-daemon.h>

namespace stopcall::daemon {

ServiceNotifier::ServiceNotifier(boost::asio::io_context& io) : timer_(io) {}

void ServiceNotifier::ready(const std::string& status) {
  sd_notifyf(0, "READY=1\nSTATUS=%s", status.c_str());
}

void ServiceNotifier::status(const std::string& status) {
  sd_notifyf(0, "STATUS=%s", status.c_str());
}

void ServiceNotifier::stopping() {
  sd_notify(0, "STOPPING=1");
}

bool ServiceNotifier::start_watchdog() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return false;
  interval_ = std::chrono::microseconds(usec);
  pet();
  return true;
}

void ServiceNotifier::pet() {
  // Runs on the io_context: if the loop is stuck, this does not run and systemd notices.
  sd_notify(0, "WATCHDOG=1");
  timer_.expires_after(interval_ / 2);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) pet();
  });
}

}  // namespace stopcall::daemon
