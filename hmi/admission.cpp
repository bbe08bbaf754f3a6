#include "hmi/admission.hpp"

#include <ifaddrs.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "hmi/server_core.hpp"
#include "hmi/static_files.hpp"
#include "hmi/ws_session.hpp"

namespace stopcall::hmi::detail {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

// Compares in time independent of where the first difference is.
bool token_matches(std::string_view expected, std::string_view given) {
  if (expected.empty()) return false;
  unsigned diff = expected.size() != given.size() ? 1u : 0u;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const char g = i < given.size() ? given[i] : '\0';
    diff |= static_cast<unsigned char>(expected[i] ^ g);
  }
  return diff == 0;
}

// The host of "host", "host:port", "[v6]" or "[v6]:port", lower case, without a trailing dot;
// an IP address in its usual text form. nullopt when it is none of these.
std::optional<std::string> host_part(std::string_view text) {
  std::string_view host = text;
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view rest = host.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return std::nullopt;
    host = host.substr(1, close - 1);
  } else if (host.find(':') != std::string_view::npos) {
    if (host.find(':') != host.rfind(':')) return std::nullopt;  // a bare IPv6 address
    host = host.substr(0, host.find(':'));
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty()) return std::nullopt;
  beast::error_code ec;
  const auto address = asio::ip::make_address(std::string(host), ec);
  if (!ec) return address.to_string();
  return lower(host);
}

// The value of `key` in a query string "a=1&b=2", percent-decoded; nullopt when absent.
std::optional<std::string> query_value(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == key) {
      std::string value;
      std::string_view raw =
          eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
      std::string plus_as_space(raw);
      std::replace(plus_as_space.begin(), plus_as_space.end(), '+', ' ');
      if (!percent_decode(plus_as_space, value)) return std::string{};
      return value;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

ServerCore::Places ServerCore::places() const {
  Places p;
  for (const auto& [raw, weak] : clients_) {
    if (raw->role() == Role::passenger) {
      ++p.passengers;
    } else if (raw->authenticated()) {
      ++p.drivers;
    } else {
      ++p.pending;
    }
  }
  return p;
}

void ServerCore::close_oldest_driver(bool authenticated, const WsSession* keep,
                                     const std::string& why) {
  std::shared_ptr<WsSession> oldest;
  for (const auto& [raw, weak] : clients_) {
    if (raw == keep || raw->role() != Role::driver || raw->authenticated() != authenticated) {
      continue;
    }
    auto session = weak.lock();
    if (session && (!oldest || session->since() < oldest->since())) oldest = std::move(session);
  }
  if (oldest) oldest->close_with(websocket::close_reason(websocket::close_code::policy_error), why);
}

void ServerCore::wrong_token(const std::string& peer, const std::string& source) {
  const auto now = std::chrono::steady_clock::now();
  throttle_.failed(source, now);
  const std::size_t recent = throttle_.recent_failures(now);
  log(LogLevel::warning,
      "hmi: wrong console token from " + peer + " (" + std::to_string(recent) + " in the last " +
          std::to_string(config_.auth_throttle.window.count() / 60) + " minutes)");
  // The console shows that someone is guessing (at most every few seconds: a guesser must not
  // make every screen busy with status lines).
  if (recent == 1 || now - last_guess_status_ >= std::chrono::seconds(5)) {
    last_guess_status_ = now;
    publish(Status{"console_login", Level::warning,
                   std::to_string(recent) + " wrong console token" + (recent == 1 ? "" : "s") +
                       " in the last " + std::to_string(config_.auth_throttle.window.count() / 60) +
                       " min, the last from " + source});
  }
}

bool ServerCore::host_allowed(std::string_view host) {
  auto h = host_part(host);
  if (!h) return false;
  if (allowed_hosts_.count(*h)) return true;
  // Listening on every interface, an address the machine did not have at start (the saloon
  // network came up later) is asked for: look at the interfaces again, at most every 5 s.
  beast::error_code ec;
  asio::ip::make_address(*h, ec);
  const auto now = std::chrono::steady_clock::now();
  if (ec || !any_address_ || now - hosts_collected_ < std::chrono::seconds(5)) return false;
  collect_allowed_hosts();
  return allowed_hosts_.count(*h) > 0;
}

bool ServerCore::origin_allowed(std::string_view origin) {
  std::string_view rest;
  if (origin.starts_with("http://")) {
    rest = origin.substr(7);
  } else if (origin.starts_with("https://")) {
    rest = origin.substr(8);
  } else {
    return false;  // "null" (a file or a sandboxed frame) and anything else
  }
  return host_allowed(rest.substr(0, rest.find('/')));
}

void ServerCore::collect_allowed_hosts() {
  hosts_collected_ = std::chrono::steady_clock::now();
  allowed_hosts_.clear();
  bool any_address = false;
  for (const Listener& listener : config_.listeners) {
    beast::error_code ec;
    const auto address = asio::ip::make_address(listener.address, ec);
    if (ec) continue;
    if (address.is_unspecified()) {
      any_address = true;
    } else {
      allowed_hosts_.insert(address.to_string());
    }
  }
  any_address_ = any_address;
  if (any_address) {
    // Listening on every interface: each address the machine has now.
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) == 0) {
      for (ifaddrs* i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr) continue;
        if (i->ifa_addr->sa_family == AF_INET) {
          const auto* in = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
          asio::ip::address_v4::bytes_type bytes;
          std::memcpy(bytes.data(), &in->sin_addr, bytes.size());
          allowed_hosts_.insert(asio::ip::address_v4(bytes).to_string());
        } else if (i->ifa_addr->sa_family == AF_INET6) {
          const auto* in6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
          asio::ip::address_v6::bytes_type bytes;
          std::memcpy(bytes.data(), &in6->sin6_addr, bytes.size());
          allowed_hosts_.insert(asio::ip::address_v6(bytes).to_string());
        }
      }
      ::freeifaddrs(list);
    }
  }
  if (!config_.allowed_hosts.empty()) {
    for (const auto& name : config_.allowed_hosts) {
      beast::error_code ec;
      const auto address = asio::ip::make_address(name, ec);  // "::1" has colons, not a port
      if (!ec) {
        allowed_hosts_.insert(address.to_string());
      } else if (auto h = host_part(name)) {
        allowed_hosts_.insert(*h);
      }
    }
    return;
  }
  allowed_hosts_.insert("localhost");
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) == 0 && name[0] != '\0') {
    allowed_hosts_.insert(lower(name));
    allowed_hosts_.insert(lower(name) + ".local");
  }
}

}  // namespace stopcall::hmi::detail
