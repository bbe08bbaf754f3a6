#include "depot/commands.hpp"

#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "daemon/fleet/command.hpp"
#include "depot/routing.hpp"
#include "depot/store.hpp"
#include "routes/signing.hpp"

extern char** environ;

namespace stopcall::depot {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;
using daemon::fleet::Audience;

std::string join(const std::vector<std::string>& list, const char* sep) {
  std::string out;
  for (const auto& x : list)
    out += (out.empty() ? "" : sep) + x;
  return out;
}

void write_private(const fs::path& path, const std::string& content, mode_t mode) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  out.close();
  if (!out) throw std::runtime_error(path.string() + ": cannot write it");
  fs::permissions(path, static_cast<fs::perms>(mode), fs::perm_options::replace);
}

void add_password(const fs::path& file, const std::string& user, const std::string& password) {
  std::vector<std::string> args{"mosquitto_passwd", "-b", file.string(), user, password};
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (::posix_spawnp(&pid, "mosquitto_passwd", nullptr, nullptr, argv.data(), environ) != 0)
    throw std::runtime_error("cannot run mosquitto_passwd (Debian package mosquitto)");
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("mosquitto_passwd failed for " + user);
}

}  // namespace

std::string control_access(const std::string& p) {
  return "\nuser control\ntopic readwrite " + p + "/depot/bookings/#\ntopic write " + p +
         "/depot/bookings\ntopic write " + p + "/bus/+/requests\ntopic write " + p +
         "/route/+/requests\ntopic write " + p + "/fleet/requests\ntopic read " + p +
         "/bus/+/status\ntopic read " + p + "/bus/+/requests/ack\ntopic read " + p +
         "/bus/+/bundle/get\ntopic write " + p + "/bus/+/bundle/chunk\n";
}

int list_buses(const std::string& store_path, std::ostream& out) {
  if (!is_postgres_uri(store_path) && !fs::exists(store_path))
    throw std::runtime_error(store_path + ": no such fleet store");
  FleetStore store(store_path, true);
  std::vector<std::vector<std::string>> rows{
      {"VEHICLE", "ONLINE", "ROUTE", "TRIP", "NEXT STOP", "GPS", "FAULTS", "LAST SEEN", "EVENTS"}};
  for (const auto& b : store.buses()) {
    const auto& s = b.status;
    rows.push_back({s.vehicle, s.online ? "yes" : "no", s.route_id.empty() ? "-" : s.route_id,
                    s.trip_id.empty() ? "-" : s.trip_id,
                    s.next_stop ? s.next_stop->stop_id + " " + s.next_stop->name +
                                      (s.online ? "" : " (last known)")
                                : "-",
                    s.gps.empty() ? "-" : s.gps, s.faults.empty() ? "-" : join(s.faults, ","),
                    b.received, std::to_string(b.events)});
  }
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i)
      width[i] = std::max(width[i], r[i].size());
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
  if (rows.size() == 1) out << "(no bus has reported yet)\n";
  return 0;
}

int request_booking(RequestOptions o, std::ostream& out) {
  if (o.booking_id.empty()) o.booking_id = "b-" + routes::random_hex(6);
  json booking{{"booking_id", o.booking_id},
               {"kind", o.kind},
               {"route_id", o.route_id},
               {"stop_id", o.stop_id}};
  if (!o.expires.empty()) booking["expires"] = o.expires;
  std::string error;
  if (!parse_booking(booking.dump(), error)) throw std::invalid_argument(error);
  if (o.broker.client_id.empty()) o.broker.client_id = "stopcall-fleet-request-" + o.booking_id;
  o.broker.clean_session = true;
  const std::string state_topic = o.prefix + "/depot/bookings/" + o.booking_id;
  std::string last;
  std::optional<BookingState> state;
  Link link(o.broker, {state_topic}, [&](const std::string&, const std::string& payload) {
    out << payload << "\n" << std::flush;
    if (auto s = decode_state(payload)) {
      last = s->final() ? s->state : "open";
      state = std::move(s);
    }
  });
  if (!link.connect_and_wait(std::chrono::seconds(10)))
    throw std::runtime_error("cannot reach the broker: " + link.error());
  if (!link.publish_acked(o.prefix + "/depot/bookings", booking.dump(), false,
                          std::chrono::seconds(10)))
    throw std::runtime_error("the broker did not take the booking");
  const auto until = std::chrono::steady_clock::now() + o.wait;
  while (std::chrono::steady_clock::now() < until && !final_state(last) && !link.down())
    link.poll(std::chrono::milliseconds(100));
  link.disconnect();
  // One line for a person on standard error: where the booking ended up, and why.
  if (!state)
    std::cerr << "stopcall-fleet: booking " << o.booking_id << ": no state came within "
              << o.wait.count() << " s (is stopcall-fleet serve running?)\n";
  else
    std::cerr << "stopcall-fleet: booking " << o.booking_id << " " << state->state
              << (state->final() ? "" : " (still open when the wait ended)") << ": "
              << state->message << "\n";
  return last.empty() || last == "failed" ? 1 : 0;
}

std::string message_line(const MessageOptions& o) {
  const int forms = !o.preset.empty() + !o.text.empty() + !o.ack.empty() + !o.cancel.empty();
  if (forms != 1 && !(forms == 2 && !o.preset.empty() && !o.text.empty()))
    throw std::invalid_argument("give one of --preset, --text, --ack, --cancel");
  json j{{"cmd", "message"}};
  if (!o.ack.empty()) {
    j["ack"] = o.ack;
  } else if (!o.cancel.empty()) {
    j["cancel"] = o.cancel;
  } else {
    if (!o.preset.empty()) j["preset"] = o.preset;
    if (!o.text.empty()) {
      if (o.preset.empty() && o.kind.empty())
        throw std::invalid_argument("--text without --preset needs --kind emergency|service");
      j["text"] = o.text;
    }
    if (!o.kind.empty()) {
      if (o.kind != "emergency" && o.kind != "service")
        throw std::invalid_argument("--kind is emergency or service");
      j["kind"] = o.kind;
    }
    if (!o.message_id.empty()) j["message_id"] = o.message_id;
  }
  return j.dump();
}

tracking::Time system_now() {
  return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

daemon::fleet::Audience audience_of(const std::string& bus, const std::string& route, bool fleet) {
  const int audiences = !bus.empty() + !route.empty() + fleet;
  if (audiences != 1) throw std::invalid_argument("give one of --bus, --route, --fleet");
  Audience to;
  if (!bus.empty()) to = {Audience::Kind::bus, bus};
  if (!route.empty()) to = {Audience::Kind::route, route};
  if (!Audience::parse(to.text()))
    throw std::invalid_argument("\"" + to.name + "\" is not 1 to 64 of A-Z a-z 0-9 - _ .");
  return to;
}

int send_message(MessageOptions o, std::ostream& out) {
  const Audience to = audience_of(o.bus, o.route, o.fleet);
  const std::string topic = daemon::fleet::requests_topic(o.prefix, to);
  const std::string line = message_line(o);
  const routes::SecretKey key = routes::load_secret_key(o.key);
  const std::string envelope = daemon::fleet::sign_command(key, to, system_now(), line);
  if (o.broker.client_id.empty())
    o.broker.client_id = "stopcall-fleet-message-" + routes::random_hex(4);
  Link link(o.broker, {}, [](const std::string&, const std::string&) {});
  if (!link.connect_and_wait(std::chrono::seconds(10)))
    throw std::runtime_error("cannot reach the broker: " + link.error());
  if (!link.publish_acked(topic, envelope, false, std::chrono::seconds(10)))
    throw std::runtime_error("the broker did not take the message");
  link.disconnect();
  out << "sent to " << to.text() << " on " << topic << ": " << line << "\n";
  return 0;
}

std::vector<std::string> collector_logins(int n) {
  std::vector<std::string> out{"depot"};
  for (int i = 2; i <= n; ++i)
    out.push_back("depot-" + std::to_string(i));
  return out;
}

int make_credentials(const CredentialsOptions& o, std::ostream& out) {
  if (o.buses.empty()) throw std::invalid_argument("give at least one --bus");
  if (o.collectors < 1 || o.collectors > 64)
    throw std::invalid_argument("--collectors is 1 to 64, not " + std::to_string(o.collectors));
  const auto collectors = collector_logins(o.collectors);
  for (const auto& bus : o.buses) {
    if (!daemon::fleet::valid_vehicle_id(bus))
      throw std::invalid_argument("bus id \"" + bus + "\" is not 1 to 64 of A-Z a-z 0-9 - _ .");
    if (bus == "control" || bus == "depot" || bus.starts_with("depot-"))
      throw std::invalid_argument("bus id \"" + bus + "\" is kept for the depot's own logins");
  }
  for (const auto& [bus, routes] : o.routes) {
    if (std::find(o.buses.begin(), o.buses.end(), bus) == o.buses.end())
      throw std::invalid_argument("--routes names " + bus + ", which is not a --bus");
    for (const auto& r : routes)
      if (!daemon::fleet::valid_vehicle_id(r))
        throw std::invalid_argument("route id \"" + r + "\" is not one topic level");
  }
  const fs::path dir(o.out_dir);
  std::vector<fs::path> files{dir / "control.password", dir / "stopcall.passwd",
                              dir / "stopcall.acl"};
  for (const auto& c : collectors)
    files.push_back(dir / (c + ".password"));
  for (const auto& bus : o.buses)
    files.push_back(dir / (bus + ".password"));
  for (const auto& f : files)
    if (fs::exists(f)) throw std::runtime_error(f.string() + " exists: not overwritten");
  fs::create_directories(dir);
  const fs::path passwd = dir / "stopcall.passwd";
  write_private(passwd, "", 0600);
  auto make = [&](const std::string& user) {
    const std::string password = routes::random_hex(24);
    write_private(dir / (user + ".password"), password + "\n", 0600);
    add_password(passwd, user, password);
  };
  for (const auto& c : collectors)
    make(c);
  make("control");
  for (const auto& bus : o.buses)
    make(bus);
  const std::string& p = o.prefix;
  // Each collector its own login: the broker takes the user name as the client id, so two
  // collectors on one login would take each other's session over.
  std::string acl = "# stopcall fleet access (PROTOCOL.md, \"Access\")\n";
  for (const auto& c : collectors)
    acl += "user " + c + "\ntopic readwrite " + p.substr(0, p.find('/')) + "/#\n";
  acl += control_access(p);
  // Each bus reads its routes' commands: those --routes names, or any route without it.
  for (const auto& bus : o.buses) {
    acl += "\nuser " + bus + "\n";
    const auto it = o.routes.find(bus);
    if (it == o.routes.end()) {
      acl += "topic read " + p + "/route/+/requests\n";
      continue;
    }
    for (const auto& r : it->second)
      acl += "topic read " + p + "/route/" + r + "/requests\n";
  }
  acl += "\npattern write " + p + "/bus/%u/status\npattern write " + p +
         "/bus/%u/events\npattern write " + p + "/bus/%u/requests/ack\npattern read " + p +
         "/bus/%u/requests\npattern read " + p + "/fleet/requests\npattern write " + p +
         "/bus/%u/bundle/get\npattern read " + p + "/bus/%u/bundle/chunk\n";
  write_private(dir / "stopcall.acl", acl, 0644);
  out << "wrote " << o.buses.size() << " bus passwords, " << collectors.size()
      << " collector password(s) (depot.password, …), stopcall.passwd and "
      << "stopcall.acl in " << dir.string() << "\n";
  return 0;
}

}  // namespace stopcall::depot
