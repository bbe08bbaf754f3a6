#include "hmi/bench/displays.hpp"

#include <poll.h>

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <functional>
#include <stdexcept>
#include <string_view>

#include "hmi/bench/process.hpp"

namespace stopcall::hmi::bench {

using namespace std::chrono_literals;

std::optional<std::uint64_t> SeqCheck::add(const json& j) {
  ++messages;
  if (!j.is_object()) {
    ++malformed;
    return std::nullopt;
  }
  const std::string type = j.value("type", "");
  const auto seq_field = j.find("seq");
  if (seq_field == j.end() || !seq_field->is_number_unsigned()) {
    if (type == "hello") ++hellos;
    if (type == "reply") ++replies;
    return std::nullopt;
  }
  const auto seq = seq_field->get<std::uint64_t>();
  if (!last_seq) {
    if (type != "state") ++malformed;
    first_seq = last_seq = seq;
    return std::nullopt;
  }
  if (seq == *last_seq + 1) {
    last_seq = seq;
  } else if (seq <= *last_seq) {
    ++out_of_order;
  } else {
    gaps += seq - *last_seq - 1;
    last_seq = seq;
  }
  ++broadcasts;
  ++types[type];
  return seq;
}

void Reader::connect(std::uint16_t port) {
  beast::get_lowest_layer(ws_).connect(local(port));
  ws_.handshake("127.0.0.1:" + std::to_string(port), "/ws?role=passenger");
}

void Reader::read() {
  ws_.async_read(buffer_, beast::bind_front_handler(&Reader::on_read, shared_from_this()));
}

void Reader::on_read(beast::error_code ec, std::size_t) {
  if (ec) {
    if (ec == websocket::error::closed) {
      closed_by_server = true;
      end = "close frame " + std::to_string(ws_.reason().code);
    } else {
      end = ec.message();
    }
    return;
  }
  const std::int64_t received_ms = now_epoch_ms();
  const std::string text = beast::buffers_to_string(buffer_.data());
  buffer_.consume(buffer_.size());
  const auto j = json::parse(text, nullptr, false);
  if (auto seq = check.add(j.is_discarded() ? json() : j)) {
    hashes.emplace_back(*seq, std::hash<std::string>{}(text));
    if (auto t = j.find("server_time_ms"); t != j.end() && t->is_number_integer()) {
      latency_ms.push_back(static_cast<double>(received_ms - t->get<std::int64_t>()));
    }
    auto latest = shared_.latest_seq.load();
    while (*seq > latest && !shared_.latest_seq.compare_exchange_weak(latest, *seq)) {
    }
  }
  read();
}

long StalledReport::max_kernel_bytes() const {
  long held = open_at_end_tx_queue;
  for (const auto& d : drops)
    held = std::max(held, d.max_tx_queue);
  return held;
}

void Stalled::start() {
  thread_ = std::thread([this] {
    try {
      run();
    } catch (const std::exception& e) {
      report.error = e.what();
    }
  });
}

void Stalled::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void Stalled::run() {
  while (!stop_) {
    asio::io_context io;
    tcp::socket socket(io);
    socket.open(tcp::v4());
    socket.set_option(asio::socket_base::receive_buffer_size(options_.stalled_rcvbuf));
    socket.connect(local(port_));
    const std::string request =
        "GET /ws?role=passenger HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port_) +
        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    asio::write(socket, asio::buffer(request));
    std::string received;
    const auto header_end = asio::read_until(socket, asio::dynamic_buffer(received), "\r\n\r\n");
    if (received.compare(0, 12, "HTTP/1.1 101") != 0) {
      throw std::runtime_error("stalled display refused: " +
                               received.substr(0, received.find("\r\n")));
    }
    received.erase(0, header_end);  // what read_until took beyond the headers: frames
    ++report.connections;
    const auto connected = Clock::now();
    const auto published_before = shared_.latest_seq.load();
    const std::uint16_t client_port = socket.local_endpoint().port();

    Drop drop;
    bool seen = false, dropped = false;
    auto next_ping = connected + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(options_.stalled_ping_s));
    while (!stop_) {
      const auto side = server_side(port_, client_port);
      if (side.found) seen = true;
      if (side.found && side.state == 1) {
        drop.max_tx_queue = std::max(drop.max_tx_queue, side.tx_queue);
      }
      if (seen && (!side.found || side.state != 1)) {
        dropped = true;
        break;
      }
      if (options_.stalled_ping_s > 0 && Clock::now() >= next_ping) {
        if (!send_ping(socket, drop.pings)) {
          dropped = true;
          break;
        }
        next_ping += std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(options_.stalled_ping_s));
      }
      std::this_thread::sleep_for(100ms);
    }
    const auto published = shared_.latest_seq.load() - published_before;
    if (!dropped) {
      report.open_at_end = true;
      report.open_at_end_s = seconds_since(connected);
      report.open_at_end_published = published;
      report.open_at_end_tx_queue = drop.max_tx_queue;
      return;  // the socket closes with its unread data
    }
    drop.after_s = seconds_since(connected);
    drop.readers_seq = shared_.latest_seq.load();
    drain(socket, received, drop);
    report.drops.push_back(drop);
  }
}

bool Stalled::send_ping(tcp::socket& socket, int& pings) {
  const std::string payload =
      R"({"type":"ping","id":"stalled-)" + std::to_string(++pings) + R"("})";
  const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
  std::string frame;
  frame += static_cast<char>(0x81);
  frame += static_cast<char>(0x80 | payload.size());  // short: < 126 bytes
  frame.append(reinterpret_cast<const char*>(mask), 4);
  for (std::size_t i = 0; i < payload.size(); ++i)
    frame += static_cast<char>(payload[i] ^ static_cast<char>(mask[i % 4]));
  beast::error_code ec;
  asio::write(socket, asio::buffer(frame), ec);
  return !ec;
}

void Stalled::drain(tcp::socket& socket, std::string& data, Drop& drop) {
  std::array<char, 65536> chunk;
  for (;;) {
    pollfd fd{socket.native_handle(), POLLIN, 0};
    if (::poll(&fd, 1, 5000) <= 0) break;
    beast::error_code ec;
    const auto n = socket.read_some(asio::buffer(chunk), ec);
    data.append(chunk.data(), n);
    if (ec) break;
  }
  SeqCheck check;
  std::string message;
  std::size_t at = 0;
  for (;;) {
    if (data.size() - at < 2) break;
    const auto b0 = static_cast<unsigned char>(data[at]);
    const auto b1 = static_cast<unsigned char>(data[at + 1]);
    std::size_t header = 2;
    std::uint64_t length = b1 & 0x7f;
    if (length == 126 || length == 127) {
      const std::size_t bytes = length == 126 ? 2 : 8;
      if (data.size() - at < 2 + bytes) break;
      length = 0;
      for (std::size_t i = 0; i < bytes; ++i)
        length = (length << 8) | static_cast<unsigned char>(data[at + 2 + i]);
      header += bytes;
    }
    if (data.size() - at < header + length) break;
    const int opcode = b0 & 0x0f;
    const std::string_view payload(data.data() + at + header, length);
    at += header + length;
    if (opcode == 8) {
      drop.close_frame = true;
      continue;
    }
    if (opcode != 1 && opcode != 0) continue;  // ping, pong
    message.append(payload);
    if (b0 & 0x80) {
      check.add(json::parse(message, nullptr, false));
      message.clear();
    }
  }
  drop.partial_frame = at < data.size();
  drop.reached = check.messages;
  drop.state_seq = check.first_seq.value_or(0);
  drop.last_seq = check.last_seq.value_or(0);
  drop.prefix_in_order = check.in_order();
}

Displays::Displays(std::uint16_t port, const Options& options) : stalled_(port, options, shared_) {
  for (int i = 0; i + 1 < options.displays; ++i) {
    auto reader = std::make_shared<Reader>(io_, shared_);
    reader->connect(port);
    readers_.push_back(std::move(reader));
  }
  for (auto& reader : readers_)
    reader->start();
  thread_ = std::thread([this] {
    io_.run();
    done_ = true;
  });
  if (options.displays > 0) stalled_.start();
}

Displays::~Displays() {
  stalled_.stop();
  asio::post(io_, [this] {
    for (auto& reader : readers_)
      reader->close_now();
  });
  if (thread_.joinable()) thread_.join();
}

bool Displays::finish(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!done_ && Clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  const bool all_closed = done_;
  asio::post(io_, [this] {
    for (auto& reader : readers_)
      reader->close_now();
  });
  thread_.join();
  return all_closed;
}

}  // namespace stopcall::hmi::bench
