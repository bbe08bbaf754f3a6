// The control socket: a Unix stream socket on the daemon's io_context where other vehicle systems
// (and `stopcallctl`, and tests) send commands, one JSON object per line, and get one reply line
// each (CONTROL.md). Any number of connections; each line is handled in order on the io_context's
// thread. A line that cannot be read gets an error reply and changes nothing; a line longer than
// kMaxLine closes the connection after its error reply.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "daemon/vehicle/control.hpp"

namespace boost::asio {
class io_context;
}

namespace stopcall::daemon::vehicle {

class ControlSocket {
 public:
  using Handler = std::function<Reply(const Command&)>;

  // `path`: the socket file. An existing socket file there (a previous run's) is replaced; any
  // other file is left alone and start() throws. `mode`: its permission bits (group access for the
  // vehicle's other systems).
  ControlSocket(boost::asio::io_context& io, std::string path, Handler handler,
                unsigned mode = 0660);
  ~ControlSocket();  // stop()s
  ControlSocket(const ControlSocket&) = delete;
  ControlSocket& operator=(const ControlSocket&) = delete;

  void start();  // throws std::system_error / std::runtime_error when the socket cannot be made
  void stop();   // closes the listener and every connection, removes the socket file. Idempotent.
  const std::string& path() const;
  long commands() const;  // lines answered so far
  long refused() const;   // lines answered with an error

  struct Impl;  // control_socket.cpp (shared with each connection's pending operations)

 private:
  std::shared_ptr<Impl> impl_;
};

// stopcallctl's side: connects, sends one command line, waits for the reply line (timeout in
// milliseconds). Throws std::runtime_error with a clear message when the daemon is not there.
Reply send_command(const std::string& path, const std::string& line, int timeout_ms = 3000);

}  // namespace stopcall::daemon::vehicle
