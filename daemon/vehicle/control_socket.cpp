#include "daemon/vehicle/control_socket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
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

namespace {

struct Connection;

}  // namespace

struct ControlSocket::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, std::string path, Handler handler, unsigned mode)
      : io(io), path(std::move(path)), handler(std::move(handler)), mode(mode), acceptor(io) {}

  asio::io_context& io;
  std::string path;
  Handler handler;
  unsigned mode;
  stream_protocol::acceptor acceptor;
  std::set<std::shared_ptr<Connection>> connections;
  bool stopped = false;
  long commands = 0;
  long refused = 0;

  void accept();
  std::string answer(const std::string& line);
};

namespace {

struct Connection : std::enable_shared_from_this<Connection> {
  Connection(std::shared_ptr<ControlSocket::Impl> owner, stream_protocol::socket socket)
      : owner(std::move(owner)), socket(std::move(socket)), in(kMaxLine + 1) {}

  std::weak_ptr<ControlSocket::Impl> owner;
  stream_protocol::socket socket;
  asio::streambuf in;
  std::deque<std::string> out;
  bool closing = false;

  void read() {
    asio::async_read_until(
        socket, in, '\n', [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
          self->on_read(ec, n);
        });
  }

  void on_read(boost::system::error_code ec, std::size_t n) {
    auto impl = owner.lock();
    if (!impl || impl->stopped) return;
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
    std::string line(asio::buffers_begin(in.data()), asio::buffers_begin(in.data()) + n - 1);
    in.consume(n);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) send(impl->answer(line));
    read();
  }

  void send(std::string line) {
    out.push_back(std::move(line) + "\n");
    if (out.size() == 1) write();
  }

  void write() {
    asio::async_write(socket, asio::buffer(out.front()),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        if (ec) return self->close();
                        self->out.pop_front();
                        if (!self->out.empty()) return self->write();
                        if (self->closing) self->close();
                      });
  }

  void close() {
    boost::system::error_code ignored;
    socket.close(ignored);
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

void ControlSocket::Impl::accept() {
  acceptor.async_accept(
      [self = shared_from_this()](boost::system::error_code ec, stream_protocol::socket socket) {
        if (self->stopped) return;
        if (!ec) {
          auto c = std::make_shared<Connection>(self, std::move(socket));
          self->connections.insert(c);
          c->read();
        }
        self->accept();
      });
}

ControlSocket::ControlSocket(asio::io_context& io, std::string path, Handler handler, unsigned mode)
    : impl_(std::make_shared<Impl>(io, std::move(path), std::move(handler), mode)) {}

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
  for (const auto& c : impl_->connections)
    c->socket.close(ignored);
  impl_->connections.clear();
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
