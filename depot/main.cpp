// stopcall-fleet: the depot side of the fleet link (daemon/fleet/PROTOCOL.md). `serve` collects
// the buses' statuses and events and routes bookings; `buses`, `request`, `message` and
// `credentials` are for the controllers. Exit status: 0 done, 1 refused or failed, 2 bad usage.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "depot/bundle_push.hpp"
#include "depot/commands.hpp"
#include "depot/fleet_report.hpp"
#include "depot/serve.hpp"

namespace {

using namespace stopcall::depot;

std::atomic<bool> g_stop{false};

void on_signal(int) {
  g_stop = true;
}

struct BrokerArgs {
  std::string broker, password_file;
};

void add_broker(CLI::App* app, BrokerArgs& args, BrokerOptions& broker, std::string& prefix,
                const std::string& user) {
  broker.user = user;
  app->add_option("--broker", args.broker, "the broker, HOST:PORT")->required();
  app->add_option("--user", broker.user, "the broker login (default " + user + ")");
  app->add_option("--password-file", args.password_file, "its password (first line)")
      ->required()
      ->check(CLI::ExistingFile);
  app->add_option("--ca-file", broker.ca_file, "TLS: the broker's CA certificate")
      ->check(CLI::ExistingFile);
  app->add_option("--client-id", broker.client_id, "the MQTT client id");
  app->add_option("--prefix", prefix, "the topic prefix (default stopcall/v1)");
}

void finish_broker(const BrokerArgs& args, BrokerOptions& broker) {
  parse_broker(args.broker, broker);
  broker.password = read_password_file(args.password_file);
}

// `report`: the text on standard output, the page in `html` when asked.
int fleet_report(const std::string& store_path, const std::string& from, const std::string& to,
                 std::optional<int> offset, const std::string& html) {
  if (!is_postgres_uri(store_path) && !std::filesystem::exists(store_path))
    throw std::runtime_error(store_path + ": no such fleet store");
  FleetStore store(store_path, true);
  stopcall::depot::report::Options options;
  options.utc_offset_min = offset;
  const int local = offset ? *offset : recorded_offset(store).value_or(0);
  for (auto [text, slot, name] :
       {std::tuple{&from, &options.from, "--from"}, std::tuple{&to, &options.to, "--to"}}) {
    if (text->empty()) continue;
    *slot = stopcall::depot::report::parse_time(*text, local);
    if (!*slot)
      throw std::invalid_argument(std::string(name) + " '" + *text +
                                  "' is not an ISO 8601 time (e.g. 2026-03-02T06:00:00+08:00)");
  }
  if (options.from && options.to && *options.to <= *options.from)
    throw std::invalid_argument("--to must be after --from");
  const FleetReport r = build_fleet_report(store, store_name(store_path), options);
  if (!html.empty()) {
    std::ofstream out(html, std::ios::binary);
    out << fleet_html(r);
    out.close();
    if (!out) throw std::runtime_error("cannot write " + html);
  }
  std::cout << fleet_text(r);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"stopcall-fleet: the depot service of the stopcall fleet link"};
  app.require_subcommand(1);

  ServeOptions serve_options;
  BrokerArgs serve_broker;
  auto* serve_cmd = app.add_subcommand("serve", "collect statuses and events, route bookings");
  add_broker(serve_cmd, serve_broker, serve_options.broker, serve_options.prefix, "depot");
  serve_cmd
      ->add_option("--store", serve_options.store,
                   "the fleet store: a SQLite file or a postgresql:// URI")
      ->required();
  serve_cmd->add_option("--shared", serve_options.shared_group,
                        "collect as one of the shared subscription group GROUP");
  serve_cmd->add_option("--bundle", serve_options.bundle, "the route bundle")
      ->required()
      ->check(CLI::ExistingFile);
  serve_cmd->add_option("--key", serve_options.key, "the control centre's secret key")
      ->required()
      ->check(CLI::ExistingFile);

  std::string buses_store;
  auto* buses_cmd = app.add_subcommand("buses", "list the buses the fleet store knows");
  buses_cmd->add_option("--store", buses_store, "the fleet store")->required();

  RequestOptions request_options;
  BrokerArgs request_broker;
  int wait_s = 60;
  auto* request_cmd = app.add_subcommand("request", "book boarding help and follow the booking");
  add_broker(request_cmd, request_broker, request_options.broker, request_options.prefix,
             "control");
  request_cmd->add_option("--route", request_options.route_id, "route id")->required();
  request_cmd->add_option("--stop", request_options.stop_id, "stop id")->required();
  request_cmd->add_option("--kind", request_options.kind, "wheelchair or blind")->required();
  request_cmd->add_option("--expires", request_options.expires, "ISO 8601 with a zone");
  request_cmd->add_option("--booking-id", request_options.booking_id, "default: random");
  request_cmd->add_option("--wait", wait_s, "seconds to follow it (default 60)");

  MessageOptions message_options;
  BrokerArgs message_broker;
  std::vector<std::string> texts;
  auto* message_cmd = app.add_subcommand("message", "send a signed emergency or service message");
  add_broker(message_cmd, message_broker, message_options.broker, message_options.prefix,
             "control");
  message_cmd->add_option("--key", message_options.key, "the control centre's secret key")
      ->required()
      ->check(CLI::ExistingFile);
  message_cmd->add_option("--bus", message_options.bus, "one bus");
  message_cmd->add_option("--route", message_options.route, "every bus on a route");
  message_cmd->add_flag("--fleet", message_options.fleet, "every bus");
  message_cmd->add_option("--preset", message_options.preset, "a preset of the route data");
  message_cmd->add_option("--text", texts, "LANG=WORDS (repeat per language)");
  message_cmd->add_option("--ack", message_options.ack, "acknowledge emergency ID");
  message_cmd->add_option("--cancel", message_options.cancel, "end message ID");
  message_cmd->add_option("--kind", message_options.kind, "emergency or service");
  message_cmd->add_option("--id", message_options.message_id, "the message's id");

  PushOptions push_options;
  BrokerArgs push_broker;
  int push_wait_s = 600;
  auto* push_cmd = app.add_subcommand(
      "push-bundle", "offer a signed route bundle, serve its chunks, follow each bus's progress");
  add_broker(push_cmd, push_broker, push_options.broker, push_options.prefix, "control");
  push_cmd->add_option("--key", push_options.key, "the control centre's secret key")
      ->required()
      ->check(CLI::ExistingFile);
  push_cmd->add_option("--bus", push_options.bus, "one bus");
  push_cmd->add_option("--route", push_options.route, "every bus on a route");
  push_cmd->add_flag("--fleet", push_options.fleet, "every bus");
  push_cmd->add_option("--bundle-id", push_options.bundle_id, "default: its feed version");
  push_cmd->add_option("--wait", push_wait_s,
                       "seconds to serve, follow and offer again (default 600)");
  push_cmd->footer(
      "Commands are not kept for a bus that is offline. While it runs, push-bundle offers the\n"
      "bundle again, on the bus's own requests topic (a new nonce, signed now), to each addressed\n"
      "bus that comes online (or onto the route) after the offer went out, or that shows no\n"
      "progress a minute after its last offer; never to a bus downloading it or waiting for its\n"
      "terminus, at most once a minute per bus. Each is a \"reoffered\" line. It ends when every\n"
      "addressed bus it heard of installed, failed or refused it, or when the wait ends.");
  push_cmd->add_option("bundle", push_options.bundle, "the signed route bundle")
      ->required()
      ->check(CLI::ExistingFile);

  CredentialsOptions credentials_options;
  std::vector<std::string> route_args;
  auto* credentials_cmd =
      app.add_subcommand("credentials", "make broker logins and the access file");
  credentials_cmd->add_option("--out", credentials_options.out_dir, "output folder")->required();
  credentials_cmd->add_option("--bus", credentials_options.buses, "vehicle ids")->required();
  credentials_cmd->add_option("--routes", route_args, "BUS=R1,R2: the routes a bus may run");
  credentials_cmd->add_option("--prefix", credentials_options.prefix, "topic prefix");
  credentials_cmd->add_option("--collectors", credentials_options.collectors,
                              "collector logins: depot, depot-2 .. depot-N (default 1)");

  std::string report_store, report_from, report_to, report_html;
  std::optional<int> report_offset;
  auto* report_cmd =
      app.add_subcommand("report", "the accessibility report per route, per day and per bus");
  report_cmd->add_option("--store", report_store, "the fleet store")->required();
  report_cmd->add_option("--from", report_from, "first time included, ISO 8601 (2026-03-02, …)");
  report_cmd->add_option("--to", report_to, "first time excluded, ISO 8601");
  report_cmd
      ->add_option("--utc-offset-min", report_offset,
                   "the city's offset from UTC in minutes (default: as the buses recorded it)")
      ->check(CLI::Range(-14 * 60, 14 * 60));
  report_cmd->add_option("--html", report_html, "also write the report as an HTML page here");

  CLI11_PARSE(app, argc, argv);

  try {
    if (serve_cmd->parsed()) {
      finish_broker(serve_broker, serve_options.broker);
      struct sigaction sa {};
      sa.sa_handler = on_signal;
      ::sigaction(SIGTERM, &sa, nullptr);
      ::sigaction(SIGINT, &sa, nullptr);
      return serve(serve_options, g_stop);
    }
    if (push_cmd->parsed()) {
      finish_broker(push_broker, push_options.broker);
      push_options.wait = std::chrono::seconds(push_wait_s);
      struct sigaction sa {};
      sa.sa_handler = on_signal;
      ::sigaction(SIGTERM, &sa, nullptr);
      ::sigaction(SIGINT, &sa, nullptr);
      return push_bundle(push_options, std::cout, g_stop);
    }
    if (buses_cmd->parsed()) return list_buses(buses_store, std::cout);
    if (report_cmd->parsed())
      return fleet_report(report_store, report_from, report_to, report_offset, report_html);
    if (request_cmd->parsed()) {
      finish_broker(request_broker, request_options.broker);
      request_options.wait = std::chrono::seconds(wait_s);
      return request_booking(request_options, std::cout);
    }
    if (message_cmd->parsed()) {
      finish_broker(message_broker, message_options.broker);
      for (const auto& t : texts) {
        const auto eq = t.find('=');
        if (eq == std::string::npos || eq == 0)
          throw std::invalid_argument("--text is LANG=WORDS, not \"" + t + "\"");
        message_options.text[t.substr(0, eq)] = t.substr(eq + 1);
      }
      return send_message(message_options, std::cout);
    }
    if (credentials_cmd->parsed()) {
      for (const auto& r : route_args) {
        const auto eq = r.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == r.size())
          throw std::invalid_argument("--routes is BUS=R1,R2, not \"" + r + "\"");
        auto& list = credentials_options.routes[r.substr(0, eq)];
        std::string rest = r.substr(eq + 1);
        for (std::size_t at = 0; at <= rest.size();) {
          const auto comma = std::min(rest.find(',', at), rest.size());
          list.push_back(rest.substr(at, comma - at));
          at = comma + 1;
        }
      }
      return make_credentials(credentials_options, std::cout);
    }
  } catch (const std::invalid_argument& e) {
    std::cerr << "stopcall-fleet: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "stopcall-fleet: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
