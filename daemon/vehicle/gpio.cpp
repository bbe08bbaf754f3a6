#include "daemon/vehicle/gpio.hpp"

#include <gpiod.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace stopcall::daemon::vehicle {

namespace asio = boost::asio;

bool valid_gpio_input(const std::string& input) {
  return input == "door" || input == "ramp" || input == "kneel" || input == "emergency" ||
         button_from_string(input);
}

std::optional<Command> gpio_command(const GpioLine& line, bool active) {
  if (auto button = button_from_string(line.input)) {
    if (!active) return std::nullopt;
    return ButtonPress{*button, "gpio"};
  }
  Signal s;
  s.name = line.input == "door"        ? SignalName::door
           : line.input == "ramp"      ? SignalName::ramp
           : line.input == "emergency" ? SignalName::emergency
                                       : SignalName::kneel;
  s.door = line.door;
  s.active = active;
  s.source = "gpio";
  return s;
}

namespace {

struct Line {
  GpioLine config;
  gpiod_chip* chip = nullptr;
  gpiod_line* line = nullptr;
  std::unique_ptr<asio::posix::stream_descriptor> events;
  std::unique_ptr<asio::steady_timer> settle;
  std::optional<bool> reported;
};

std::string where(const GpioLine& l) {
  return "gpio " + l.chip + " line " + std::to_string(l.line) + " (" + l.input + ")";
}

}  // namespace

struct GpioInputs::Impl : std::enable_shared_from_this<Impl> {
  asio::io_context& io;
  Handler handler;
  std::vector<Line> lines;
  bool stopped = false;

  Impl(asio::io_context& io, std::vector<GpioLine> configs, Handler handler)
      : io(io), handler(std::move(handler)) {
    lines.resize(configs.size());
    for (std::size_t i = 0; i < configs.size(); ++i)
      lines[i].config = std::move(configs[i]);
  }

  ~Impl() { release(); }

  void release() {
    for (auto& l : lines) {
      if (l.events) {
        boost::system::error_code ignored;
        l.events->cancel(ignored);
        l.events->release();  // the fd belongs to libgpiod
      }
      if (l.settle) l.settle->cancel();
      if (l.line) gpiod_line_release(l.line);
      if (l.chip) gpiod_chip_close(l.chip);
      l.line = nullptr;
      l.chip = nullptr;
    }
  }

  // The level, once it has stayed put for the debounce time.
  void settled(std::size_t i) {
    Line& l = lines[i];
    int value = gpiod_line_get_value(l.line);  // active-low already applied by the request
    if (value < 0) return;
    const bool active = value == 1;
    if (l.reported == active) return;
    l.reported = active;
    if (auto command = gpio_command(l.config, active)) handler(*command);
  }

  void wait(std::size_t i) {
    lines[i].events->async_wait(
        asio::posix::stream_descriptor::wait_read,
        [self = shared_from_this(), i](const boost::system::error_code& ec) {
          if (ec || self->stopped) return;
          Line& l = self->lines[i];
          gpiod_line_event event;
          if (gpiod_line_event_read(l.line, &event) != 0) return;
          // Each edge restarts the wait: a bouncing contact reports once, when it has settled.
          l.settle->expires_after(l.config.debounce);
          l.settle->async_wait([self, i](const boost::system::error_code& ec2) {
            if (!ec2 && !self->stopped) self->settled(i);
          });
          self->wait(i);
        });
  }
};

GpioInputs::GpioInputs(asio::io_context& io, std::vector<GpioLine> lines, Handler handler)
    : impl_(std::make_shared<Impl>(io, std::move(lines), std::move(handler))) {}

GpioInputs::~GpioInputs() {
  stop();
}

void GpioInputs::start() {
  for (std::size_t i = 0; i < impl_->lines.size(); ++i) {
    Line& l = impl_->lines[i];
    if (!valid_gpio_input(l.config.input)) {
      throw std::runtime_error(where(l.config) + ": unknown input");
    }
    l.chip = gpiod_chip_open_lookup(l.config.chip.c_str());
    if (!l.chip) {
      impl_->release();
      throw std::runtime_error(where(l.config) + ": cannot open the chip: " + std::strerror(errno));
    }
    l.line = gpiod_chip_get_line(l.chip, l.config.line);
    int flags = l.config.active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0;
    if (!l.line || gpiod_line_request_both_edges_events_flags(l.line, "stopcalld", flags) != 0) {
      const std::string why = std::strerror(errno);
      impl_->release();
      throw std::runtime_error(where(l.config) + ": cannot request the line: " + why);
    }
    l.events = std::make_unique<asio::posix::stream_descriptor>(impl_->io,
                                                                gpiod_line_event_get_fd(l.line));
    l.settle = std::make_unique<asio::steady_timer>(impl_->io);
    impl_->wait(i);
    // Where the doors and the ramp are now (a button is only reported when pressed).
    if (!button_from_string(l.config.input)) impl_->settled(i);
  }
}

void GpioInputs::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  impl_->release();
}

}  // namespace stopcall::daemon::vehicle
