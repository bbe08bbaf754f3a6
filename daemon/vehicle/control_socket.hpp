// The control socket: a Unix stream socket on the daemon's io_context where other vehicle systems
// (and `stopcallctl`, and tests) send commands, one JSON object per line, and get one reply line
// each (CONTROL.md). Each line is handled in order on the io_context's thread. A line that cannot
// be read gets an error reply and changes nothing; a line longer than kMaxLine closes the
// connection after its error reply.
//
// One local client must not be able to hurt the bus: connections are capped (one more is told
// `busy` and closed), a connection that sends nothing for the idle timeout is closed, a client
// whose unread answers pile up beyond max_queued_bytes is dropped (its queue freed and the memory
// handed back to the system), and when accept() fails (out of descriptors) the listener waits
// before it tries again instead of spinning.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "daemon/vehicle/control.hpp"

namespace boost::asio {
class io_context;
}

namespace stopcall::daemon::vehicle {

struct ControlSocketLimits {
  std::size_t max_connections = 32;
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  // Answers waiting to be written to one client; one more byte and the client is dropped.
  std::size_t max_queued_bytes = 256 << 10;
  // After accept() fails (EMFILE, ENFILE, ENOBUFS...): wait this long before the next one.
  std::chrono::milliseconds accept_retry{100};
};

class ControlSocket {
 public:
  using Handler = std::function<Reply(const Command&)>;
  // Messages for people (a dropped client, accept failures): `warning` false is for information.
  // Unset: none.
  using Log = std::function<void(bool warning, std::string_view text)>;

  // `path`: the socket file. An existing socket file there (a previous run's) is replaced; any
  // other file is left alone and start() throws. `mode`: its permission bits (group access for the
  // vehicle's other systems).
  ControlSocket(boost::asio::io_context& io, std::string path, Handler handler,
                unsigned mode = 0660, ControlSocketLimits limits = {}, Log log = {});
  ~ControlSocket();  // stop()s
  ControlSocket(const ControlSocket&) = delete;
  ControlSocket& operator=(const ControlSocket&) = delete;

  void start();  // throws std::system_error / std::runtime_error when the socket cannot be made
  void stop();   // closes the listener and every connection, removes the socket file. Idempotent.
  const std::string& path() const;
  long commands() const;  // lines answered so far
  long refused() const;   // lines answered with an error
  long dropped() const;   // connections closed because their client did not read its answers
  std::size_t connections() const;  // open now

  struct Impl;  // control_socket.cpp (shared with each connection's pending operations)

 private:
  std::shared_ptr<Impl> impl_;
};

// stopcallctl's side: connects, sends one command line, waits for the reply line (timeout in
// milliseconds). Throws std::runtime_error with a clear message when the daemon is not there.
Reply send_command(const std::string& path, const std::string& line, int timeout_ms = 3000);

}  // namespace stopcall::daemon::vehicle
