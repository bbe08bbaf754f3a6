#include "daemon/fleet/inbox.hpp"

#include <nlohmann/json.hpp>

#include "daemon/fleet/route_data.hpp"
#include "daemon/tracking/events.hpp"

namespace stopcall::daemon::fleet {

namespace {

using json = nlohmann::json;

std::string text_of(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A refused envelope's audience and nonce (well formed once the error is not `unsigned`), and,
// when its signature held, the inner command's id: the depot can tell which of its commands it
// was.
void describe_refused(std::string_view payload, const std::string& error, RequestAck& ack,
                      log::FleetCommand& line) {
  if (error == "unsigned") return;
  const json envelope = json::parse(payload, nullptr, false);
  if (!envelope.is_object()) return;
  const std::string to = text_of(envelope, "to");
  const std::string nonce = text_of(envelope, "nonce");
  if (!to.empty()) line.to = to;
  if (!nonce.empty()) line.nonce = ack.nonce = nonce;
  if (error == "bad_signature") return;
  const json command = json::parse(text_of(envelope, "command"), nullptr, false);
  if (command.is_object()) ack.id = text_of(command, "id");
}

}  // namespace

Inbox::Inbox(std::string vehicle, std::optional<routes::PublicKey> key, GateOptions gate,
             Handler handler, Record record, SaveNonces save)
    : vehicle_(std::move(vehicle)),
      handler_(std::move(handler)),
      record_(std::move(record)),
      save_(std::move(save)) {
  if (key) gate_.emplace(*key, vehicle_, gate);
}

void Inbox::restore(const Nonces& nonces, tracking::Time system_now) {
  if (!gate_) return;
  for (const auto& [nonce, issued] : nonces)
    gate_->remember(nonce, issued);
  gate_->forget_before(system_now);
}

RequestAck Inbox::take(const Inbound& in) {
  RequestAck ack;
  ack.vehicle = vehicle_;
  log::FleetCommand line;
  line.time = tracking::format_time(in.bus_now);
  auto refuse = [&](std::string error, std::string message) {
    ++refused_;
    ack.accepted = false;
    line.error = error;
    ack.error = std::move(error);
    ack.message = line.message = std::move(message);
    if (record_) record_(line);
    return ack;
  };
  if (in.retained) {
    // A retained command would come back at every reconnect: never acted on.
    return refuse(
        "retained",
        "requests must not be retained (each would be acted on again at every connection)");
  }
  if (in.payload.size() > kMaxEnvelope) {
    return refuse("too_large",
                  "a signed command is at most " + std::to_string(kMaxEnvelope) + " bytes");
  }
  if (!gate_) {
    return refuse("no_command_key",
                  "this bus has no fleet.command_key: it takes no command from the fleet");
  }
  CommandCheck check = gate_->check(in.payload, in.arrived_on, in.route, in.system_now);
  if (!check.command) {
    describe_refused(in.payload, check.error, ack, line);
    return refuse(std::move(check.error), std::move(check.message));
  }
  const SignedCommand& command = *check.command;
  // Kept before acting: a crash right after must not let the same command in again.
  if (save_) save_(gate_->remembered());
  line.accepted = true;
  line.to = command.to.text();
  line.nonce = command.nonce;
  if (bundle_ && is_bundle_command(command.command)) {
    line.message = "route data offer signed by the control centre for " + command.to.text();
    if (record_) record_(line);
    ack = bundle_(command.command);
    ack.vehicle = vehicle_;
    ack.nonce = command.nonce;
    return ack;
  }
  ParsedRequest parsed = parse_request(command.command, vehicle_);
  ack = parsed.refusal;  // vehicle, id and request_id (and the refusal when not a request)
  ack.nonce = command.nonce;
  if (!parsed.request) {
    line.message =
        "signed for " + command.to.text() + ", but not taken: " + ack.error + ": " + ack.message;
    if (record_) record_(line);
    return ack;
  }
  line.message = "signed by the control centre for " + command.to.text();
  if (record_) record_(line);
  const vehicle::Reply reply =
      handler_ ? handler_(*parsed.request) : vehicle::Reply::failure("refused", "no handler");
  ack.accepted = reply.ok;
  ack.error = reply.ok ? std::string() : reply.error;
  ack.message = reply.message;
  return ack;
}

}  // namespace stopcall::daemon::fleet
