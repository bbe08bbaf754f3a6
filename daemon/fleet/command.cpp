#include "daemon/fleet/command.hpp"

#include <nlohmann/json.hpp>

#include "daemon/fleet/protocol.hpp"

namespace stopcall::daemon::fleet {

namespace {

using json = nlohmann::json;

constexpr std::string_view kDomain = "stopcall-fleet-command-v1";
constexpr std::size_t kMinNonce = 8;
constexpr std::size_t kMaxNonce = 64;

bool valid_nonce(std::string_view n) {
  // The same characters as a topic level; no newline, so the signed text splits one way only.
  return n.size() >= kMinNonce && n.size() <= kMaxNonce && valid_vehicle_id(n);
}

std::string signed_text(const Audience& to, tracking::Time issued, std::string_view nonce,
                        std::string_view command) {
  std::string text;
  text.reserve(kDomain.size() + command.size() + 96);
  text.append(kDomain).append("\n");
  text.append(to.text()).append("\n");
  text.append(std::to_string(issued.time_since_epoch().count())).append("\n");
  text.append(nonce).append("\n");
  text.append(command);
  return text;
}

CommandCheck refuse(std::string error, std::string message) {
  CommandCheck c;
  c.error = std::move(error);
  c.message = std::move(message);
  return c;
}

std::string seconds_text(std::chrono::milliseconds d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + " s";
}

}  // namespace

std::string Audience::text() const {
  switch (kind) {
    case Kind::bus:
      return "bus:" + name;
    case Kind::route:
      return "route:" + name;
    case Kind::fleet:
      break;
  }
  return "fleet";
}

std::optional<Audience> Audience::parse(std::string_view text) {
  if (text == "fleet") return Audience{Kind::fleet, {}};
  for (auto [prefix, kind] : {std::pair{std::string_view("bus:"), Kind::bus},
                              std::pair{std::string_view("route:"), Kind::route}}) {
    if (text.starts_with(prefix)) {
      const std::string_view name = text.substr(prefix.size());
      if (!valid_vehicle_id(name)) return std::nullopt;
      return Audience{kind, std::string(name)};
    }
  }
  return std::nullopt;
}

std::string requests_topic(std::string_view prefix, const Audience& to) {
  std::string topic(prefix);
  switch (to.kind) {
    case Audience::Kind::bus:
      return topic + "/bus/" + to.name + "/requests";
    case Audience::Kind::route:
      return topic + "/route/" + to.name + "/requests";
    case Audience::Kind::fleet:
      break;
  }
  return topic + "/fleet/requests";
}

std::string sign_command(const routes::SecretKey& key, const Audience& to, tracking::Time issued,
                         std::string_view command, std::string nonce) {
  if (nonce.empty()) nonce = routes::random_hex(16);
  const json envelope{
      {"v", 1},
      {"to", to.text()},
      {"issued_ms", issued.time_since_epoch().count()},
      {"nonce", nonce},
      {"command", command},
      {"key_id", key.key_id()},
      {"sig", routes::sign_text(key, signed_text(to, issued, nonce, command))},
  };
  return envelope.dump();
}

CommandGate::CommandGate(routes::PublicKey key, std::string vehicle, GateOptions options)
    : key_(key), vehicle_(std::move(vehicle)), options_(options) {}

CommandCheck CommandGate::check(std::string_view payload, const Audience& arrived_on,
                                std::string_view route, tracking::Time now) {
  const json j = json::parse(payload, nullptr, false);
  if (!j.is_object() || !j.contains("sig")) {
    return refuse("unsigned",
                  "fleet commands must be signed by the control centre (an envelope with \"sig\")");
  }
  SignedCommand c;
  try {
    if (j.at("v").get<int>() != 1) return refuse("unsigned", "unknown envelope version");
    const auto to = Audience::parse(j.at("to").get<std::string>());
    if (!to) return refuse("unsigned", "\"to\" is not fleet, bus:ID or route:ID");
    c.to = *to;
    c.issued = tracking::Time{std::chrono::milliseconds{j.at("issued_ms").get<std::int64_t>()}};
    c.nonce = j.at("nonce").get<std::string>();
    c.command = j.at("command").get<std::string>();
    c.key_id = j.value("key_id", "");
    c.signature = j.at("sig").get<std::string>();
  } catch (const json::exception&) {
    return refuse("unsigned", "the envelope lacks v, to, issued_ms, nonce, command or sig");
  }
  if (!valid_nonce(c.nonce)) {
    return refuse("unsigned", "a nonce is 8 to 64 of A-Z a-z 0-9 - _ .");
  }
  if (!routes::verify_text(key_, signed_text(c.to, c.issued, c.nonce, c.command), c.signature)) {
    std::string why = "the signature is not the control centre's (key " + key_.key_id() + ")";
    if (!c.key_id.empty() && c.key_id != key_.key_id()) why += "; it names key " + c.key_id;
    return refuse("bad_signature", why);
  }
  // Signed: from here on the fields can be trusted, and may be named in messages.
  if (!(c.to == arrived_on)) {
    return refuse("not_addressed",
                  "addressed to " + c.to.text() + " but sent by the topic of " + arrived_on.text());
  }
  if ((c.to.kind == Audience::Kind::bus && c.to.name != vehicle_) ||
      (c.to.kind == Audience::Kind::route && c.to.name != route)) {
    return refuse("not_addressed", "addressed to " + c.to.text() + ", this is bus:" + vehicle_ +
                                       (route.empty() ? std::string(" with no trip")
                                                      : " on route:" + std::string(route)));
  }
  if (c.issued < now - options_.max_age) {
    return refuse("stale", "issued " + seconds_text(now - c.issued) + " ago; the limit is " +
                               seconds_text(options_.max_age));
  }
  if (c.issued > now + options_.max_ahead) {
    return refuse("from_the_future", "issued " + seconds_text(c.issued - now) +
                                         " ahead of this bus's clock; the limit is " +
                                         seconds_text(options_.max_ahead));
  }
  if (seen_.contains(c.nonce)) {
    return refuse("replayed", "command " + c.nonce + " was taken before");
  }
  forget_before(now);
  seen_.emplace(c.nonce, c.issued);
  CommandCheck ok;
  ok.command = std::move(c);
  return ok;
}

std::vector<std::pair<std::string, tracking::Time>> CommandGate::remembered() const {
  return {seen_.begin(), seen_.end()};
}

void CommandGate::remember(const std::string& nonce, tracking::Time issued) {
  seen_.emplace(nonce, issued);
}

void CommandGate::forget_before(tracking::Time now) {
  // A nonce issued before now - max_age is refused as stale anyway.
  std::erase_if(seen_, [&](const auto& kv) { return kv.second < now - options_.max_age; });
}

}  // namespace stopcall::daemon::fleet
