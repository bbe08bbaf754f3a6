#include "daemon/vehicle/control_socket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <malloc.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <istream>
#include <set>
#include <stdexcept>

namespace stopcall::daemon::vehicle {

namespace asio = boost::asio;
using asio::local::stream_protocol;
using SteadyClock = std::chrono::steady_clock;

namespace {

struct Connection;

}  // namespace

struct ControlSocket::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, std::string path, Handler handler, unsigned mode,
       ControlSocketLimits limits, Log log)
      : io(io),
        path(std::move(path)),
        handler(std::move(handler)),
        mode(mode),
        limits(limits),
        log(std::move(log)),
        acceptor(io),
        retry(io) {}

  asio::io_context& io;
  std::string path;
  Handler handler;
  unsigned mode;
  ControlSocketLimits limits;
  Log log;
  stream_protocol::acceptor acceptor;
  asio::steady_timer retry;  // after a failed accept()
  std::set<std::shared_ptr<Connection>> connections;
  bool stopped = false;
  bool accept_failing = false;  // said once per run of failures, not per try
  long commands = 0;
  long refused = 0;
  long dropped = 0;
  SteadyClock::time_point last_trim{};

  void accept();
  void refuse_busy(stream_protocol::socket& socket);
  void give_memory_back();
  std::string answer(const std::string& line);
  void say(const std::string& text, bool warning = true) const {
    if (log) log(warning, text);
  }
};

namespace {

struct Connection : std::enable_shared_from_this<Connection> {
  Connection(std::shared_ptr<ControlSocket::Impl> owner, stream_protocol::socket socket)
      : owner(owner), socket(std::move(socket)), idle(owner->io), in(kMaxLine + 1) {}

  std::weak_ptr<ControlSocket::Impl> owner;
  stream_protocol::socket socket;
  asio::steady_timer idle;  // nothing received for the idle timeout: closed
  asio::streambuf in;
  std::deque<std::string> out;
  std::size_t queued = 0;  // bytes in `out` and being written
  bool writing = false;    // a write is in flight
  bool closing = false;
  bool closed = false;

  void start() {
    arm_idle();
    read();
  }

  void arm_idle() {
    auto impl = owner.lock();
    if (!impl) return;
    idle.expires_after(impl->limits.idle_timeout);
    idle.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->closed) return;
      self->close();  // holds a place and says nothing: the client reconnects when it has a line
    });
  }

  void read() {
    asio::async_read_until(
        socket, in, '\n', [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
          self->on_read(ec, n);
        });
  }

  void on_read(boost::system::error_code ec, std::size_t n) {
    auto impl = owner.lock();
    if (!impl || impl->stopped || closed) return;
    if (ec == asio::error::not_found) {
      // No newline within kMaxLine: say why, then hang up (the rest of the line is garbage).
      ++impl->commands;
      ++impl->refused;
      send(encode_reply(Reply::failure("too_large", "a command line is at most 4096 bytes"), {}));
      closing = true;
      return;
    }
    if (ec) {
      close();
      return;
    }
    arm_idle();
    std::string line(asio::buffers_begin(in.data()), asio::buffers_begin(in.data()) + n - 1);
    in.consume(n);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) send(impl->answer(line));
    if (!closed) read();
  }

  void send(std::string line) {
    if (closed) return;
    auto impl = owner.lock();
    if (!impl) return;
    line += "\n";
    if (queued + line.size() > impl->limits.max_queued_bytes) {
      // Writes and never reads: its answers would grow the daemon without bound.
      ++impl->dropped;
      impl->say("control socket: dropped a client that does not read its answers (" +
                std::to_string(queued) + " bytes waiting)");
      const bool big = queued >= (64 << 10);
      close();
      if (big) impl->give_memory_back();
      return;
    }
    queued += line.size();
    out.push_back(std::move(line));
    if (!writing) {
      writing = true;
      write();
    }
  }

  void write() {
    // The line being written lives in the handler, so that close() may free the queue at once.
    auto line = std::make_shared<std::string>(std::move(out.front()));
    out.pop_front();
    asio::async_write(socket, asio::buffer(*line),
                      [self = shared_from_this(), line](boost::system::error_code ec, std::size_t) {
                        if (self->closed) return;
                        if (ec) return self->close();
                        self->queued -= line->size();
                        if (!self->out.empty()) return self->write();
                        self->writing = false;
                        if (self->closing) self->close();
                      });
  }

  void close() {
    if (closed) return;
    closed = true;
    boost::system::error_code ignored;
    socket.close(ignored);
    idle.cancel();
    // The queue goes now, not when the last pending handler lets go of the connection.
    std::deque<std::string>().swap(out);
    queued = 0;
    if (auto impl = owner.lock()) impl->connections.erase(shared_from_this());
  }
};

}  // namespace

std::string ControlSocket::Impl::answer(const std::string& line) {
  ++commands;
  Parsed parsed = parse_command(line);
  Reply reply = parsed.error;
  if (parsed.command) {
    try {
      reply = handler(*parsed.command);
    } catch (const std::exception& e) {
      reply = Reply::failure("internal", e.what());
    }
  }
  if (!reply.ok) ++refused;
  return encode_reply(reply, parsed.id);
}

void ControlSocket::Impl::give_memory_back() {
  // glibc keeps freed heap for reuse; after a large queue is freed, hand it back to the system
  // (at most once a second: a client reconnecting in a loop must not make the daemon trim all day).
  const auto now = SteadyClock::now();
  if (now - last_trim < std::chrono::seconds(1)) return;
  last_trim = now;
  ::malloc_trim(0);
}

void ControlSocket::Impl::refuse_busy(stream_protocol::socket& socket) {
  // One short line into a fresh socket's empty buffer, never waiting for it: then closed.
  const std::string line =
      encode_reply(
          Reply::failure("busy", "too many control connections (" +
                                     std::to_string(limits.max_connections) + "); try again later"),
          {}) +
      "\n";
  (void)::send(socket.native_handle(), line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  boost::system::error_code ignored;
  socket.close(ignored);
}

void ControlSocket::Impl::accept() {
  acceptor.async_accept(
      [self = shared_from_this()](boost::system::error_code ec, stream_protocol::socket socket) {
        if (self->stopped) return;
        if (ec) {
          // Out of descriptors and the like: the pending connection stays in the backlog, so an
          // immediate retry would fail again at once. Wait, then try again.
          if (!self->accept_failing) {
            self->say("control socket: accept failed: " + ec.message() + "; retrying every " +
                      std::to_string(self->limits.accept_retry.count()) + " ms");
          }
          self->accept_failing = true;
          self->retry.expires_after(self->limits.accept_retry);
          self->retry.async_wait([self](boost::system::error_code wait_ec) {
            if (!wait_ec && !self->stopped) self->accept();
          });
          return;
        }
        if (self->accept_failing) self->say("control socket: accepting connections again", false);
        self->accept_failing = false;
        if (self->connections.size() >= self->limits.max_connections) {
          self->refuse_busy(socket);
        } else {
          auto c = std::make_shared<Connection>(self, std::move(socket));
          self->connections.insert(c);
          c->start();
        }
        self->accept();
      });
}

ControlSocket::ControlSocket(asio::io_context& io, std::string path, Handler handler, unsigned mode,
                             ControlSocketLimits limits, Log log)
    : impl_(std::make_shared<Impl>(io, std::move(path), std::move(handler), mode, limits,
                                   std::move(log))) {}

ControlSocket::~ControlSocket() {
  stop();
}

void ControlSocket::start() {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto status = fs::symlink_status(impl_->path, ec);
  if (!ec && fs::exists(status)) {
    if (!fs::is_socket(status)) {
      throw std::runtime_error("control socket: " + impl_->path +
                               " exists and is not a socket; not replacing it");
    }
    fs::remove(impl_->path);
  }
  if (impl_->path.size() >= sizeof(sockaddr_un::sun_path)) {
    throw std::runtime_error("control socket: path too long: " + impl_->path);
  }
  stream_protocol::endpoint endpoint(impl_->path);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.bind(endpoint);
  ::chmod(impl_->path.c_str(), static_cast<mode_t>(impl_->mode));
  impl_->acceptor.listen();
  impl_->accept();
}

void ControlSocket::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  boost::system::error_code ignored;
  const bool was_open = impl_->acceptor.is_open();
  impl_->acceptor.close(ignored);
  impl_->retry.cancel();
  auto connections = std::move(impl_->connections);
  impl_->connections.clear();
  for (const auto& c : connections)
    c->close();
  if (was_open) ::unlink(impl_->path.c_str());
}

const std::string& ControlSocket::path() const {
  return impl_->path;
}
long ControlSocket::commands() const {
  return impl_->commands;
}
long ControlSocket::refused() const {
  return impl_->refused;
}
long ControlSocket::dropped() const {
  return impl_->dropped;
}
std::size_t ControlSocket::connections() const {
  return impl_->connections.size();
}

Reply send_command(const std::string& path, const std::string& line, int timeout_ms) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) throw std::runtime_error("socket path too long");
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    throw std::runtime_error("cannot reach stopcalld at " + path + ": " + std::strerror(errno) +
                             " (is it running with this control socket?)");
  }
  std::string message = line + "\n";
  for (std::size_t sent = 0; sent < message.size();) {
    auto n = ::send(fd, message.data() + sent, message.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("sending to stopcalld: ") + std::strerror(errno));
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string reply;
  char buffer[4096];
  while (reply.find('\n') == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, timeout_ms);
    if (ready == 0) throw std::runtime_error("stopcalld did not answer within the timeout");
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
    }
    auto n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("reading from stopcalld: ") + std::strerror(errno));
    }
    if (n == 0) throw std::runtime_error("stopcalld closed the connection without an answer");
    reply.append(buffer, static_cast<std::size_t>(n));
  }
  return parse_reply(std::string_view(reply).substr(0, reply.find('\n')));
}

}  // namespace stopcall::daemon::vehicle
