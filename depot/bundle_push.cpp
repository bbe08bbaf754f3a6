#include "depot/bundle_push.hpp"

#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>

#include "daemon/fleet/command.hpp"
#include "daemon/fleet/protocol.hpp"
#include "daemon/fleet/route_data.hpp"
#include "depot/commands.hpp"
#include "routes/bundle.hpp"
#include "routes/signing.hpp"

namespace stopcall::depot {

namespace {

using json = nlohmann::json;
using daemon::fleet::Audience;

// "<prefix>/bus/<vehicle>/<leaf>" into vehicle and leaf; false for any other topic.
bool split_bus_topic(const std::string& prefix, const std::string& topic, std::string& vehicle,
                     std::string& leaf) {
  const std::string head = prefix + "/bus/";
  if (!topic.starts_with(head)) return false;
  const auto slash = topic.find('/', head.size());
  if (slash == std::string::npos) return false;
  vehicle = topic.substr(head.size(), slash - head.size());
  leaf = topic.substr(slash + 1);
  return true;
}

}  // namespace

int push_bundle(PushOptions o, std::ostream& out, const std::atomic<bool>& stop) {
  const Audience to = audience_of(o.bus, o.route, o.fleet);
  const std::string topic = daemon::fleet::requests_topic(o.prefix, to);
  if (o.bundle_id.empty()) o.bundle_id = routes::Bundle::open(o.bundle).summary().feed_version;
  if (!daemon::fleet::valid_vehicle_id(o.bundle_id))
    throw std::invalid_argument("bundle id \"" + o.bundle_id +
                                "\" is not 1 to 64 of A-Z a-z 0-9 - _ . (give --bundle-id)");
  std::ifstream in(o.bundle, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) throw std::runtime_error("cannot read " + o.bundle);
  const daemon::fleet::BundleOffer offer{o.bundle_id, bytes.size(),
                                         daemon::fleet::blake2b_file(o.bundle),
                                         daemon::fleet::kDefaultChunkSize};
  if (offer.size == 0 || offer.size > daemon::fleet::kMaxBundleSize)
    throw std::invalid_argument(o.bundle + ": not a bundle that can be sent (size)");
  const routes::SecretKey key = routes::load_secret_key(o.key);
  const std::string offer_line = daemon::fleet::bundle_offer_line(offer);
  const std::string nonce = routes::random_hex(16);
  const tracking::Time issued = system_now();
  const std::string envelope = daemon::fleet::sign_command(key, to, issued, offer_line, nonce);
  std::optional<tracking::Time> first_offer;      // set once it went out
  std::map<std::string, std::string> own_nonces;  // each bus's own offers: nonce -> vehicle
  bool reconnected = false;

  std::map<std::string, BundleProgress> buses;
  std::map<std::string, std::string> last_lines;
  long served = 0, reoffers = 0;
  auto report = [&](const std::string& vehicle, json line, bool always = false) {
    line["vehicle"] = vehicle;
    const std::string text = line.dump();
    if (text == last_lines[vehicle] && !always) return;
    last_lines[vehicle] = text;
    out << text << std::endl;
  };
  if (o.broker.client_id.empty())
    o.broker.client_id = "stopcall-fleet-push-" + routes::random_hex(4);
  Link* link_ptr = nullptr;
  Link link(
      o.broker,
      {o.prefix + "/bus/+/bundle/get", o.prefix + "/bus/+/status",
       o.prefix + "/bus/+/requests/ack"},
      [&](const std::string& t, const std::string& payload) {
        std::string vehicle, leaf;
        if (!split_bus_topic(o.prefix, t, vehicle, leaf)) return;
        if (leaf == "bundle/get") {
          const auto req = daemon::fleet::decode_chunk_request(payload);
          if (!req || req->bundle_id != offer.bundle_id || req->chunk >= offer.chunks()) return;
          const std::string_view part =
              std::string_view(bytes).substr(req->chunk * offer.chunk_size, offer.chunk_size);
          link_ptr->publish(o.prefix + "/bus/" + vehicle + "/bundle/chunk",
                            daemon::fleet::encode_chunk(offer.bundle_id, req->chunk, part));
          ++served;
          return;
        }
        const json j = json::parse(payload, nullptr, false);
        if (!j.is_object()) return;
        BundleProgress& b = buses[vehicle];
        if (leaf == "requests/ack") {
          const std::string n = j.value("nonce", "");
          const auto own = own_nonces.find(n);
          if (n != nonce && (own == own_nonces.end() || own->second != vehicle)) return;
          b.addressed = true;
          const bool ok = j.value("accepted", false);
          const std::string message = j.value("message", "");
          if (!ok)
            b.state = "refused";
          else if (message == "already active")
            b.state = "installed";
          else if (b.state.empty())
            b.state = "accepted";
          report(vehicle, {{"state", b.state},
                           {"message", ok ? message : j.value("error", "") + ": " + message}});
          return;
        }
        if (leaf != "status") return;
        b.online = j.value("online", false);
        if (!b.online) return;
        if (to.kind == Audience::Kind::bus) b.addressed = b.addressed || vehicle == to.name;
        if (to.kind == Audience::Kind::route)
          b.addressed = b.addressed || (j.contains("route_id") && j["route_id"] == to.name);
        if (to.kind == Audience::Kind::fleet) b.addressed = true;
        if (!b.addressed) return;
        // A retained status tells what was before the first offer went out: it heard that one.
        if (link_ptr->retained() && !reconnected && first_offer && !b.offered)
          b.offered = first_offer;
        if (j.value("bundle", "") == offer.bundle_id && !j.contains("route_data")) {
          b.state = "installed";
          report(vehicle, {{"state", "installed"}, {"bundle", offer.bundle_id}});
          return;
        }
        const auto rd = j.find("route_data");
        if (rd == j.end() || !rd->is_object() || rd->value("bundle_id", "") != offer.bundle_id) {
          // Nothing of this bundle (any more): what it said before holds no longer.
          if (!final_bundle_state(b.state)) b.state.clear();
          return;
        }
        if (!final_bundle_state(b.state) || rd->value("state", "") == "failed")
          b.state = rd->value("state", "");
        report(vehicle, {{"state", rd->value("state", "")},
                         {"have", rd->value("have", 0)},
                         {"chunks", rd->value("chunks", 0)},
                         {"message", rd->value("message", "")}});
      });
  link_ptr = &link;
  if (!link.connect_and_wait(std::chrono::seconds(10)))
    throw std::runtime_error("cannot reach the broker: " + link.error());
  if (!link.publish_acked(topic, envelope, false, std::chrono::seconds(10)))
    throw std::runtime_error("the broker did not take the offer");
  first_offer = issued;
  for (auto& [v, b] : buses)
    if (b.online && b.addressed && !b.offered) b.offered = first_offer;
  std::cerr << "offered " << offer.bundle_id << " (" << offer.size << " bytes, " << offer.chunks()
            << " chunks) to " << to.text() << "\n";
  // A bus that did not hear it (offline, or not yet on the route) gets one of its own, on its
  // own requests topic: a new nonce, signed now, so that it is neither stale nor replayed.
  auto offer_again = [&](const Reoffer& r) {
    const Audience bus{Audience::Kind::bus, r.vehicle};
    const tracking::Time at = system_now();
    const std::string n = routes::random_hex(16);
    if (!link.publish(daemon::fleet::requests_topic(o.prefix, bus),
                      daemon::fleet::sign_command(key, bus, at, offer_line, n)))
      return;
    own_nonces[n] = r.vehicle;
    buses[r.vehicle].offered = at;
    ++reoffers;
    report(r.vehicle, {{"state", "reoffered"}, {"message", r.reason}}, true);
    std::cerr << "offered " << offer.bundle_id << " again to " << bus.text() << ": " << r.reason
              << "\n";
  };
  const auto until = std::chrono::steady_clock::now() + o.wait;
  // Every addressed bus it heard of is done, including one gone offline before it was.
  auto all_done = [&] {
    int addressed = 0;
    for (const auto& [v, b] : buses) {
      if (!b.addressed) continue;
      ++addressed;
      if (!final_bundle_state(b.state)) return false;
    }
    return addressed > 0;
  };
  while (!stop && std::chrono::steady_clock::now() < until && !all_done()) {
    link.poll(std::chrono::milliseconds(100));
    if (link.down()) {
      reconnected = true;
      link.connect();
      continue;
    }
    if (!link.connected()) continue;
    for (const Reoffer& r : due_offers(buses, system_now(), o.reoffer_gap))
      offer_again(r);
  }
  link.disconnect();
  int installed = 0, failed = 0, open = 0;
  for (const auto& [v, b] : buses) {
    if (!b.addressed) continue;
    if (b.state == "installed")
      ++installed;
    else if (b.state == "failed" || b.state == "refused")
      ++failed;
    else
      ++open;
  }
  std::cerr << offer.bundle_id << ": " << installed << " installed, " << failed
            << " failed or refused, " << open << " not finished; " << served << " chunks served; "
            << reoffers << (reoffers == 1 ? " offer" : " offers") << " sent again\n";
  return failed == 0 && installed > 0 ? 0 : 1;
}

}  // namespace stopcall::depot
