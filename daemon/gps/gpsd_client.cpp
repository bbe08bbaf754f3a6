#include "daemon/gps/gpsd_client.hpp"

#include <gps.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstring>

#include "daemon/gps/gpsd_fix.hpp"

namespace stopcall::gps {

namespace asio = boost::asio;

std::string_view to_string(GpsdState state) {
  switch (state) {
    case GpsdState::connecting:
      return "connecting";
    case GpsdState::connected:
      return "connected";
    case GpsdState::disconnected:
      return "disconnected";
    case GpsdState::stale:
      return "stale";
  }
  return "unknown";
}

struct GpsdClient::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, GpsdOptions options, FixHandler on_fix, StateHandler on_state)
      : io(io),
        options(std::move(options)),
        on_fix(std::move(on_fix)),
        on_state(std::move(on_state)),
        descriptor(io),
        retry_timer(io),
        stale_timer(io),
        backoff(this->options.reconnect_min) {
    std::memset(&data, 0, sizeof data);
  }

  asio::io_context& io;
  GpsdOptions options;
  FixHandler on_fix;
  StateHandler on_state;
  asio::posix::stream_descriptor descriptor;
  asio::steady_timer retry_timer;
  asio::steady_timer stale_timer;
  gps_data_t data;
  JsonLineReader lines;
  bool open = false;
  bool stopped = false;
  GpsdState state = GpsdState::connecting;
  std::chrono::milliseconds backoff;
  long reconnects = 0;

  void set_state(GpsdState s, const std::string& detail) {
    if (s == state && s != GpsdState::disconnected) return;
    state = s;
    if (on_state) on_state(s, detail);
  }

  void connect() {
    if (stopped) return;
    set_state(GpsdState::connecting, options.host + ":" + options.port);
    // gps_open connects a TCP socket; to gpsd on this machine that returns at once.
    if (gps_open(options.host.c_str(), options.port.c_str(), &data) != 0) {
      schedule_retry(std::string("cannot reach gpsd at ") + options.host + ":" + options.port +
                     ": " + gps_errstr(errno));
      return;
    }
    open = true;
    if (gps_stream(&data, WATCH_ENABLE | WATCH_JSON, nullptr) != 0) {
      close_and_retry("gpsd refused the watch request");
      return;
    }
    descriptor.assign(data.gps_fd);
    descriptor.non_blocking(true);
    lines.reset();
    backoff = options.reconnect_min;
    set_state(GpsdState::connected, options.host + ":" + options.port);
    arm_stale_timer();
    wait_readable();
  }

  void wait_readable() {
    descriptor.async_wait(asio::posix::stream_descriptor::wait_read,
                          [self = shared_from_this()](const boost::system::error_code& ec) {
                            if (ec == asio::error::operation_aborted || self->stopped) return;
                            if (ec)
                              return self->close_and_retry("gpsd connection: " + ec.message());
                            self->drain();
                          });
  }

  // The socket is read here, not with gps_read: libgps's JSON parser never returns on some
  // malformed lines ({x"class":"TPV"}), and one such line from a misbehaving gpsd would stop the
  // daemon. Our JsonLineReader cuts the lines and hands libgps only well-formed JSON, the same
  // decoding replay uses.
  void drain() {
    char buf[4096];
    for (;;) {
      boost::system::error_code ec;
      std::size_t n = descriptor.read_some(asio::buffer(buf), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) break;
      if (ec == asio::error::interrupted) continue;
      if (ec == asio::error::eof) return close_and_retry("gpsd closed the connection");
      if (ec) return close_and_retry("gpsd connection: " + ec.message());
      lines.feed({buf, n}, [this](const tracking::Fix& fix) {
        if (fix.usable()) {
          if (state == GpsdState::stale) set_state(GpsdState::connected, "fixes again");
          arm_stale_timer();
        }
        if (on_fix) on_fix(fix);
      });
      if (stopped || !open) return;  // on_fix may stop the client
    }
    wait_readable();
  }

  void arm_stale_timer() {
    stale_timer.expires_after(options.stale_after);
    stale_timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->stopped || !self->open) return;
      self->set_state(
          GpsdState::stale,
          "no usable fix for " + std::to_string(self->options.stale_after.count()) + " ms");
    });
  }

  void close() {
    stale_timer.cancel();
    if (descriptor.is_open()) descriptor.release();  // gps_close owns the socket
    if (open) gps_close(&data);
    open = false;
  }

  void close_and_retry(const std::string& why) {
    close();
    schedule_retry(why);
  }

  void schedule_retry(const std::string& why) {
    if (stopped) return;
    set_state(GpsdState::disconnected,
              why + "; retrying in " + std::to_string(backoff.count()) + " ms");
    retry_timer.expires_after(backoff);
    backoff = std::min(backoff * 2, options.reconnect_max);
    retry_timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->stopped) return;
      ++self->reconnects;
      self->connect();
    });
  }
};

GpsdClient::GpsdClient(asio::io_context& io, GpsdOptions options, FixHandler on_fix,
                       StateHandler on_state)
    : impl_(
          std::make_shared<Impl>(io, std::move(options), std::move(on_fix), std::move(on_state))) {}

GpsdClient::~GpsdClient() {
  stop();
}

void GpsdClient::start() {
  impl_->stopped = false;
  impl_->connect();
}

void GpsdClient::stop() {
  impl_->stopped = true;
  impl_->retry_timer.cancel();
  impl_->close();
}

GpsdState GpsdClient::state() const {
  return impl_->state;
}
long GpsdClient::reconnects() const {
  return impl_->reconnects;
}

}  // namespace stopcall::gps
