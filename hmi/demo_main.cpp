// stopcall-hmi-demo: the screens' server with a scripted Shenzhen 101 ride (demo_script.hpp), for
// the browser tests and screenshots and for trying the pages by hand. Not installed.
//
//   stopcall-hmi-demo --port 8080 --token secret --advance-every 12
//   -> passenger display http://127.0.0.1:8080/, driver console /driver.html#token=secret
//
// The first line on stdout is "listening ADDRESS PORT"; then one line per driver action and per
// command result. Commands come one per line on stdin (see --help).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>

#include "hmi/demo_script.hpp"
#include "hmi/server.hpp"

namespace {

namespace asio = boost::asio;
using namespace stopcall::hmi;

// Reads stdin line by line on the io_context and hands each line to the ride.
class CommandReader {
 public:
  CommandReader(asio::io_context& io, demo::Ride& ride) : input_(io), ride_(ride) {
    boost::system::error_code ec;
    const int fd = ::dup(STDIN_FILENO);
    if (fd >= 0) input_.assign(fd, ec);  // fails for regular files and ttys under some setups
    if (ec || fd < 0) {
      if (fd >= 0) ::close(fd);
      return;
    }
    read();
  }
  void stop() {
    boost::system::error_code ignored;
    input_.close(ignored);
  }

 private:
  void read() {
    asio::async_read_until(input_, asio::dynamic_buffer(buffer_), '\n',
                           [this](boost::system::error_code ec, std::size_t length) {
                             if (ec) return;  // EOF: keep serving until a signal
                             std::string line = buffer_.substr(0, length - 1);
                             buffer_.erase(0, length);
                             ride_.command(line);
                             read();
                           });
  }

  asio::posix::stream_descriptor input_;
  demo::Ride& ride_;
  std::string buffer_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"stopcall screens server with a scripted Shenzhen 101 ride (demo, not installed)"};
  std::string address = "127.0.0.1";
  int port = 8080;
  int driver_port = -1;
  std::string token = "demo-token";
  std::string web_root = STOPCALL_HMI_WEB_DIR;
  int advance_every = 0;
  bool unassigned = false;
  int send_buffer = 0;
  std::size_t queue_messages = 64;
  bool verbose = false;
  app.add_option("--address", address, "IP address to listen on");
  app.add_option("--port", port, "port (0: any free port; see the first line of output)")
      ->capture_default_str();
  app.add_option("--driver-port", driver_port,
                 "a second listener for the driver console only; unset: one listener serves both");
  app.add_option("--token", token, "the driver console's token")->capture_default_str();
  app.add_option("--web", web_root, "the pages' folder")->capture_default_str();
  app.add_option("--advance-every", advance_every, "seconds between stops; 0: only on 'next'");
  app.add_flag("--unassigned", unassigned, "start without a trip (the console's login list)");
  app.add_option("--send-buffer", send_buffer, "SO_SNDBUF per connection; 0: system default");
  app.add_option("--queue-messages", queue_messages, "per-screen queue bound")
      ->capture_default_str();
  app.add_flag("-v,--verbose", verbose, "log every connection event to stderr");
  app.footer(std::string(demo::kCommandHelp));
  CLI11_PARSE(app, argc, argv);

  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  asio::io_context io;

  HmiConfig config;
  config.web_root = web_root;
  config.driver_token = token;
  config.socket_send_buffer = send_buffer;
  config.queue_max_messages = queue_messages;
  if (driver_port >= 0) {
    config.listeners.push_back({address, static_cast<std::uint16_t>(port), Roles{}});
    config.listeners.push_back(
        {address, static_cast<std::uint16_t>(driver_port), Roles::only(Role::driver)});
  } else {
    config.listeners.push_back({address, static_cast<std::uint16_t>(port), Roles::both()});
  }
  config.log = [verbose](LogLevel level, std::string_view text) {
    if (level == LogLevel::debug && !verbose) return;
    static constexpr const char* kPrefix[] = {"<7>", "<6>", "<4>", "<3>"};  // sd-daemon levels
    std::cerr << kPrefix[static_cast<int>(level)] << text << '\n';
  };

  HmiServer server(io, std::move(config));
  demo::Ride ride(io, server, [](const std::string& line) { std::cout << line << std::endl; });
  server.on_driver_action([&ride](const DriverAction& action) { return ride.on_action(action); });
  try {
    server.start();
  } catch (const std::exception& e) {
    std::cerr << "stopcall-hmi-demo: " << e.what() << '\n';
    return 1;
  }
  ride.begin(!unassigned);
  ride.auto_advance(advance_every);

  const auto ports = server.ports();
  std::cout << "listening " << address << ' ' << ports.front() << std::endl;
  std::cerr << "passenger display: http://" << address << ':' << ports.front() << "/\n"
            << "driver console:    http://" << address << ':'
            << (ports.size() > 1 ? ports[1] : ports.front()) << "/driver.html#token=" << token
            << '\n';

  CommandReader commands(io, ride);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code, int) {
    ride.stop();
    commands.stop();
    server.stop();
  });
  io.run();
  return 0;
}
