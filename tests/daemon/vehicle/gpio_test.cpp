// Vehicle signals from GPIO lines: what a settled line means, the [[gpio]] configuration, and the
// lines themselves through the kernel's gpio-sim when the machine has it.
#include "daemon/vehicle/gpio.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "daemon/config.hpp"
#include "tests/routes/test_feed.hpp"

namespace stopcall::daemon::vehicle {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

TEST(Gpio, ALevelInputReportsBothStatesAButtonOnlyItsPress) {
  GpioLine door{"gpiochip0", 3, "door", 2, true, 30ms};
  auto open = gpio_command(door, true);
  ASSERT_TRUE(open);
  const auto& s = std::get<Signal>(*open);
  EXPECT_EQ(s.name, SignalName::door);
  EXPECT_EQ(s.door, 2);
  EXPECT_TRUE(s.active);
  EXPECT_EQ(s.source, "gpio");
  EXPECT_FALSE(std::get<Signal>(*gpio_command(door, false)).active);

  GpioLine ramp{"gpiochip0", 4, "ramp", 1, false, 30ms};
  EXPECT_EQ(std::get<Signal>(*gpio_command(ramp, true)).name, SignalName::ramp);

  GpioLine button{"gpiochip0", 5, "wheelchair-request", 1, true, 30ms};
  auto press = gpio_command(button, true);
  ASSERT_TRUE(press);
  EXPECT_EQ(std::get<ButtonPress>(*press).button, Button::wheelchair_request);
  EXPECT_FALSE(gpio_command(button, false)) << "releasing a button is not a press";

  // The fire-suppression system's or a panic switch's contact: the emergency input, both states.
  GpioLine fire{"gpiochip0", 6, "emergency", 1, true, 30ms};
  EXPECT_TRUE(valid_gpio_input("emergency"));
  EXPECT_EQ(std::get<Signal>(*gpio_command(fire, true)).name, SignalName::emergency);
  EXPECT_TRUE(std::get<Signal>(*gpio_command(fire, true)).active);
  EXPECT_FALSE(std::get<Signal>(*gpio_command(fire, false)).active);
}

TEST(Gpio, TheConfigurationNamesEachLine) {
  routes::testing::TempDir dir;
  routes::testing::write_file(
      dir / "ok.toml",
      "[[gpio]]\nchip = \"gpiochip0\"\nline = 17\ninput = \"door\"\n"
      "door = 2\nactive_low = true\ndebounce_ms = 40\n"
      "[[gpio]]\nchip = \"gpiochip0\"\nline = 18\ninput = \"ramp-assist\"\n");
  auto config = load_config(dir / "ok.toml");
  ASSERT_EQ(config.gpio.size(), 2u);
  EXPECT_EQ(config.gpio[0].line, 17u);
  EXPECT_EQ(config.gpio[0].door, 2);
  EXPECT_TRUE(config.gpio[0].active_low);
  EXPECT_EQ(config.gpio[0].debounce, 40ms);
  EXPECT_EQ(config.gpio[1].input, "ramp-assist");

  routes::testing::write_file(dir / "bad.toml",
                              "[[gpio]]\nchip = \"gpiochip0\"\nline = 17\ninput = \"wiper\"\n"
                              "[[gpio]]\nchip = \"gpiochip0\"\ninput = \"door\"\npolarity = 1\n");
  try {
    load_config(dir / "bad.toml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("bad.toml:4: gpio.input: must be door, ramp"));
    EXPECT_THAT(e.what(), HasSubstr("gpio.polarity: unknown key"));
    EXPECT_THAT(e.what(), HasSubstr("needs chip, line and input"));
  }
}

TEST(Gpio, AChipThatIsNotThereIsAClearError) {
  boost::asio::io_context io;
  GpioInputs inputs(io, {{"gpiochip-none", 3, "door", 1, false, 30ms}},
                    [](const Command&) { return Reply::success(""); });
  try {
    inputs.start();
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("gpio gpiochip-none line 3 (door): cannot open the chip"));
  }
}

// A simulated chip (configfs gpio-sim), its lines pulled up and down as a door switch would.
class GpioSim {
 public:
  static constexpr const char* kRoot = "/sys/kernel/config/gpio-sim";
  GpioSim() {
    namespace fs = std::filesystem;
    dir_ = std::string(kRoot) + "/stopcall-" + std::to_string(::getpid());
    fs::create_directory(dir_);
    fs::create_directory(dir_ + "/bank0");
    write(dir_ + "/bank0/num_lines", "8");
    write(dir_ + "/live", "1");
    chip_ = read(dir_ + "/bank0/chip_name");
    device_ = read(dir_ + "/dev_name");
  }
  ~GpioSim() {
    write(dir_ + "/live", "0");
    std::filesystem::remove(dir_ + "/bank0");
    std::filesystem::remove(dir_);
  }
  const std::string& chip() const { return chip_; }
  void pull(unsigned line, bool up) {
    write("/sys/devices/platform/" + device_ + "/" + chip_ + "/sim_gpio" + std::to_string(line) +
              "/pull",
          up ? "pull-up" : "pull-down");
  }

 private:
  static void write(const std::string& path, const std::string& value) {
    std::ofstream(path) << value;
  }
  static std::string read(const std::string& path) {
    std::string value;
    std::ifstream(path) >> value;
    return value;
  }
  std::string dir_, chip_, device_;
};

TEST(GpioLines, ADoorSwitchAndAButtonThroughTheKernel) {
  if (!std::filesystem::exists(GpioSim::kRoot)) {
    GTEST_SKIP() << "no gpio-sim here (needs the gpio-sim kernel module and configfs, as root: "
                    "modprobe gpio-sim): GPIO lines are untested on this machine; the workflows "
                    "are tested through the control socket";
  }
  GpioSim sim;
  boost::asio::io_context io;
  std::vector<Command> got;
  GpioInputs inputs(
      io, {{sim.chip(), 0, "door", 1, true, 30ms}, {sim.chip(), 1, "ramp-assist", 1, true, 30ms}},
      [&](const Command& c) {
        got.push_back(c);
        return Reply::success("");
      });
  sim.pull(0, true);  // active low: pulled up is closed
  sim.pull(1, true);
  inputs.start();
  io.run_for(100ms);
  ASSERT_EQ(got.size(), 1u) << "the door's state at start, not the button's";
  EXPECT_FALSE(std::get<Signal>(got[0]).active);
  // The door opens with a bounce: one report once it has settled.
  for (int i = 0; i < 3; ++i) {
    sim.pull(0, false);
    io.run_for(5ms);
    sim.pull(0, true);
    io.run_for(5ms);
  }
  sim.pull(0, false);
  io.run_for(150ms);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(std::get<Signal>(got[1]).active);
  // The button pressed and released: one press.
  sim.pull(1, false);
  io.run_for(100ms);
  sim.pull(1, true);
  io.run_for(100ms);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(std::get<ButtonPress>(got[2]).button, Button::ramp_assist);
}

}  // namespace
}  // namespace stopcall::daemon::vehicle
