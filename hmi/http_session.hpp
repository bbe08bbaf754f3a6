// One TCP connection before (or instead of) a WebSocket upgrade, private to hmi/: the pages from
// the web root (static_files.hpp decides which file), keep-alive, and the upgrade to a screen's
// WebSocket once the bus's names, the origin, the role and the console token allow it.
#pragma once

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "hmi/server_core.hpp"

namespace stopcall::hmi::detail {

namespace beast = boost::beast;
namespace http = beast::http;

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(std::shared_ptr<ServerCore> core, tcp::socket socket, Roles roles);
  ~HttpSession();

  void start() { read(); }
  void close();

 private:
  void read();
  void on_read(beast::error_code ec, std::size_t);
  http::message_generator text_response(const http::request<http::string_body>& request,
                                        http::status status, std::string_view text,
                                        bool keep_alive = true);
  http::message_generator serve(const http::request<http::string_body>& request);
  void respond(http::message_generator message);
  void refuse_upgrade(const http::request<http::string_body>& request, http::status status,
                      std::string_view why);
  void upgrade(http::request<http::string_body> request);
  void finish_upgrade(http::request<http::string_body> request, Role role, bool authenticated);

  std::shared_ptr<ServerCore> core_;
  beast::tcp_stream stream_;
  Roles roles_;
  std::string peer_;
  std::string source_;
  asio::steady_timer check_timer_;  // a token in the query is checked when the throttle says
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool closed_ = false;
};

}  // namespace stopcall::hmi::detail
