// stopcallctl: tells a running stopcalld about the vehicle — doors, ramp, kneeling, speed, buttons,
// boarding requests — through its control socket (CONTROL.md), and prints the answer.
//
//   stopcallctl [--socket PATH] signal door open|closed [--door N]
//   stopcallctl signal ramp|kneel deployed|stowed
//   stopcallctl signal speed KMH
//   stopcallctl button ramp-assist|stop-request|wheelchair-request
//   stopcallctl request --kind wheelchair|blind --stop STOP_ID --route ROUTE_ID [--expires ISO]
//   stopcallctl message --preset ID
//   stopcallctl message --kind emergency|service --text zh-Hans=… --text yue=… --text en=…
//                       [--spoken LANG=…] [--outputs interior|exterior|both] [--repeat-every S]
//                       [--repeats N] [--expires ISO] [--id ID]
//   stopcallctl message --ack ID | --cancel ID
//   stopcallctl state
//
// Exit status: 0 ok, 1 the daemon refused (its reason is printed), 2 bad usage or no daemon.
#include <CLI/CLI.hpp>
#include <iostream>

#include "daemon/vehicle/control.hpp"
#include "daemon/vehicle/control_socket.hpp"

using namespace stopcall::daemon::vehicle;

int main(int argc, char** argv) {
  CLI::App app{"stopcallctl: send vehicle signals and requests to stopcalld"};
  app.require_subcommand(1);
  std::string socket = "/run/stopcall/control.sock";
  int timeout_ms = 3000;
  app.add_option("--socket", socket, "stopcalld's control socket")->capture_default_str();
  app.add_option("--timeout-ms", timeout_ms, "wait this long for the answer")
      ->check(CLI::Range(1, 60000));

  auto* signal = app.add_subcommand("signal", "a door, the ramp, kneeling or the speed changed");
  std::string name, state;
  int door = 1;
  signal->add_option("name", name, "door, ramp, kneel, speed or emergency")
      ->required()
      ->check(CLI::IsMember({"door", "ramp", "kneel", "speed", "emergency"}));
  signal
      ->add_option("state", state,
                   "open|closed (door), deployed|stowed (ramp, kneel), km/h, active|clear")
      ->required();
  signal->add_option("--door", door, "which door (1 = front)")->check(CLI::Range(1, 8));

  auto* button = app.add_subcommand("button", "a button was pressed");
  std::string button_name;
  button->add_option("name", button_name, "ramp-assist, stop-request or wheelchair-request")
      ->required()
      ->check(CLI::IsMember({"ramp-assist", "stop-request", "wheelchair-request"}));

  auto* request = app.add_subcommand("request", "somebody at a stop needs help boarding");
  std::string kind, stop, route, expires, request_id;
  request->add_option("--kind", kind, "wheelchair or blind")
      ->required()
      ->check(CLI::IsMember({"wheelchair", "blind"}));
  request->add_option("--stop", stop, "the stop (or station) they wait at")->required();
  request->add_option("--route", route, "the route (GTFS route_id) they wait for")->required();
  request->add_option("--expires", expires, "ISO 8601 time with a zone; default: 30 minutes");
  request->add_option("--id", request_id, "the sender's id for the request");

  auto* message =
      app.add_subcommand("message", "an emergency or service message: send, ack, cancel");
  MessageIn m;
  std::vector<std::string> texts, spoken;
  std::string ack, cancel, message_expires;
  int repeat_every = -1, repeats = -1;
  auto* preset = message->add_option("--preset", m.preset, "a preset of the route data");
  auto* kind_opt = message->add_option("--kind", m.kind, "emergency or service (without --preset)")
                       ->check(CLI::IsMember({"emergency", "service"}));
  message->add_option("--text", texts, "LANG=TEXT, once per language (zh-Hans=…, yue=…, en=…)");
  message->add_option("--spoken", spoken, "LANG=TEXT: what the voice says where it differs");
  message->add_option("--outputs", m.outputs, "interior, exterior or both")
      ->check(CLI::IsMember({"interior", "exterior", "both"}));
  message->add_option("--repeat-every", repeat_every, "emergency: seconds between repeats");
  message->add_option("--repeats", repeats, "service: times said again after stop departures");
  message->add_option("--expires", message_expires, "ISO 8601 time with a zone");
  message->add_option("--id", m.message_id, "the sender's id for the message");
  auto* ack_opt = message->add_option("--ack", ack, "acknowledge emergency ID: no more repeats");
  auto* cancel_opt = message->add_option("--cancel", cancel, "end message ID");
  preset->excludes(kind_opt);
  ack_opt->excludes(cancel_opt)->excludes(preset)->excludes(kind_opt);
  cancel_opt->excludes(preset)->excludes(kind_opt);

  app.add_subcommand("state", "print the doors, ramp and requests as the daemon sees them");
  CLI11_PARSE(app, argc, argv);

  Command command = QueryState{};
  if (*signal) {
    Signal s;
    if (name == "speed") {
      s.name = SignalName::speed;
      try {
        std::size_t used = 0;
        s.speed_kmh = std::stod(state, &used);
        if (used != state.size()) throw std::invalid_argument(state);
      } catch (const std::exception&) {
        std::cerr << "stopcallctl: speed wants a number of km/h, not \"" << state << "\"\n";
        return 2;
      }
    } else {
      s.name = name == "door"        ? SignalName::door
               : name == "ramp"      ? SignalName::ramp
               : name == "emergency" ? SignalName::emergency
                                     : SignalName::kneel;
      const bool door_signal = s.name == SignalName::door;
      const bool emergency = s.name == SignalName::emergency;
      const std::string on = door_signal ? "open"
                             : emergency ? "active"
                                         : "deployed",
                        off = door_signal ? "closed"
                              : emergency ? "clear"
                                          : "stowed";
      if (state != on && state != off) {
        std::cerr << "stopcallctl: " << name << " is " << on << " or " << off << ", not \"" << state
                  << "\"\n";
        return 2;
      }
      s.active = state == on;
      s.door = door;
    }
    command = s;
  } else if (*button) {
    command = ButtonPress{*button_from_string(button_name), "control"};
  } else if (*request) {
    BoardingRequestIn r;
    r.kind = *request_kind_from_string(kind);
    r.stop_id = stop;
    r.route_id = route;
    r.id = request_id;
    if (!expires.empty()) {
      r.expires = parse_iso_time(expires);
      if (!r.expires) {
        std::cerr << "stopcallctl: --expires wants an ISO 8601 time with a zone, e.g. "
                     "2026-03-02T07:30:00+08:00\n";
        return 2;
      }
    }
    command = r;
  } else if (*message) {
    if (!ack.empty() || !cancel.empty()) {
      command =
          MessageEnd{ack.empty() ? MessageEnd::Action::cancel : MessageEnd::Action::acknowledge,
                     ack.empty() ? cancel : ack, "control"};
    } else {
      if (m.preset.empty() && (m.kind.empty() || texts.empty())) {
        std::cerr << "stopcallctl: message wants --preset ID, or --kind and --text LANG=TEXT\n";
        return 2;
      }
      for (auto [list, into] : {std::pair{&texts, &m.text}, std::pair{&spoken, &m.spoken}}) {
        for (const auto& item : *list) {
          const auto eq = item.find('=');
          if (eq == std::string::npos || eq == 0) {
            std::cerr << "stopcallctl: --text and --spoken want LANG=TEXT, not \"" << item
                      << "\"\n";
            return 2;
          }
          (*into)[item.substr(0, eq)] = item.substr(eq + 1);
        }
      }
      if (repeat_every >= 0) m.repeat_every_s = repeat_every;
      if (repeats >= 0) m.repeats = repeats;
      if (!message_expires.empty()) {
        m.expires = parse_iso_time(message_expires);
        if (!m.expires) {
          std::cerr << "stopcallctl: --expires wants an ISO 8601 time with a zone\n";
          return 2;
        }
      }
      m.source = "control";
      command = m;
    }
  }
  try {
    Reply reply = send_command(socket, encode_command(command), timeout_ms);
    if (!reply.ok) {
      std::cerr << "refused (" << reply.error << "): " << reply.message << "\n";
      return 1;
    }
    std::cout << "ok: " << reply.message << "\n";
    if (!reply.data.empty()) std::cout << reply.data << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "stopcallctl: " << e.what() << "\n";
    return 2;
  }
}
