// Vehicle signals from GPIO lines (libgpiod, the kernel's GPIO character device): each configured
// line is one input — a door, the ramp, kneeling, or a button — with its polarity and debounce.
// A level that has stayed put for the debounce time is reported as the same Command the control
// socket would carry (source "gpio"); a button reports a press when its line becomes active.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/vehicle/control.hpp"

namespace boost::asio {
class io_context;
}

namespace stopcall::daemon::vehicle {

struct GpioLine {
  std::string chip;   // "gpiochip0", "/dev/gpiochip0", a chip label or number
  unsigned line = 0;  // offset on the chip
  // "door", "ramp", "kneel", "emergency" (fire-suppression system, panic switch),
  // "ramp-assist", "stop-request" or "wheelchair-request"
  std::string input;
  int door = 1;             // input "door": which one
  bool active_low = false;  // the line reads 0 when the door is open / button pressed
  std::chrono::milliseconds debounce{30};
};

// Is `input` one of the names above?
bool valid_gpio_input(const std::string& input);

// What a line settling at `active` means: a Signal for level inputs, a ButtonPress when a button
// becomes active, nothing when a button is released.
std::optional<Command> gpio_command(const GpioLine& line, bool active);

class GpioInputs {
 public:
  using Handler = std::function<Reply(const Command&)>;
  GpioInputs(boost::asio::io_context& io, std::vector<GpioLine> lines, Handler handler);
  ~GpioInputs();
  GpioInputs(const GpioInputs&) = delete;
  GpioInputs& operator=(const GpioInputs&) = delete;

  // Requests every line for edge events and reports the levels' present state. Throws
  // std::runtime_error naming the chip and line when one cannot be had.
  void start();
  void stop();  // releases the lines. Idempotent.

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace stopcall::daemon::vehicle
