// stopcall-routes: the depot tool. Imports GTFS feeds into route bundles, validates, inspects,
// signs and installs them. Exit status: 0 done, 1 refused (the reason is printed), 2 bad usage.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "routes/bundle.hpp"
#include "routes/bundle_check.hpp"
#include "routes/importer.hpp"
#include "routes/install.hpp"
#include "routes/signing.hpp"

namespace {

using namespace stopcall::routes;
using nlohmann::json;

// Each problem with its severity and what the import did about it: "action" is what was done
// for a warning ("link dropped", "this row is ignored"), "refused" for an error.
json to_json(const Problems& problems) {
  json list = json::array();
  for (const auto& p : problems.kept()) {
    bool error = p.severity == Severity::error;
    std::string action = p.action;
    if (error && action.empty()) action = "refused";
    list.push_back({{"severity", error ? "error" : "warning"},
                    {"file", p.file},
                    {"line", p.line},
                    {"field", p.field},
                    {"value", p.value},
                    {"message", p.message},
                    {"action", action}});
  }
  return {{"errors", problems.error_count()},
          {"warnings", problems.warning_count()},
          {"problems", list}};
}

void print_problems(const Problems& problems) {
  for (const auto& p : problems.kept())
    std::cerr << p.to_string() << "\n";
  std::size_t shown = problems.kept().size();
  std::size_t total = problems.error_count() + problems.warning_count();
  if (total > shown) std::cerr << "(" << total - shown << " more not shown)\n";
}

std::string join_names(const Names& names) {
  std::string out;
  for (const auto& [lang, text] : names) {
    if (!out.empty()) out += " | ";
    out += lang + ": " + text;
  }
  return out;
}

std::string hhmm(std::optional<int> s) {
  if (!s) return "--:--";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d", *s / 3600, *s / 60 % 60);
  return buf;
}

int cmd_import(const std::string& feed, const std::string& out, const std::string& extra,
               bool as_json, bool strict) {
  ImportOptions options;
  options.feed = feed;
  options.output = out;
  options.extra_dir = extra;
  options.strict = strict;
  auto report = import_feed(options);
  if (as_json) {
    json j = to_json(report.problems);
    j["written"] = report.written;
    std::cout << j.dump(2) << "\n";
  } else {
    print_problems(report.problems);
  }
  const auto& c = report.counts;
  if (!report.written) {
    std::cerr << "import refused: " << report.problems.error_count() << " error(s) in " << feed
              << (strict ? " (--strict: warnings count as errors)" : "") << "; no bundle written\n";
    return 1;
  }
  std::cerr << "imported " << feed << " -> " << out << ": " << c.agencies << " agencies, "
            << c.routes << " routes, " << c.stops << " stops, " << c.trips << " trips, "
            << c.stop_times << " stop times, " << c.shapes << " shapes (" << c.derived_shapes
            << " built from stops), " << c.translations << " translations, " << c.clips
            << " clips, " << c.message_presets << " message presets; "
            << report.problems.warning_count() << " warning(s)\n";
  return 0;
}

int cmd_validate(const std::string& path, const std::string& extra, bool as_json, bool strict) {
  // A bundle is an SQLite file; anything else is taken as a feed.
  bool is_bundle = false;
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    char magic[16] = {};
    is_bundle = std::fread(magic, 1, sizeof magic, f) == sizeof magic &&
                std::string_view(magic, 15) == "SQLite format 3";
    std::fclose(f);
  }
  Problems problems = is_bundle ? check_bundle(path) : validate_feed(path, extra, strict).problems;
  if (as_json) {
    json j = to_json(problems);
    j["kind"] = is_bundle ? "bundle" : "feed";
    j["usable"] = !problems.has_errors();
    std::cout << j.dump(2) << "\n";
  } else {
    print_problems(problems);
    std::cerr << path << ": " << (problems.has_errors() ? "NOT usable" : "usable") << " ("
              << problems.error_count() << " error(s), " << problems.warning_count()
              << " warning(s))\n";
  }
  return problems.has_errors() ? 1 : 0;
}

// The message presets as the driver's console would offer them, with what each says.
void print_messages(const Bundle& bundle) {
  auto presets = bundle.message_presets();
  if (presets.empty()) std::cout << "no message presets\n";
  for (const auto& m : presets) {
    bool emergency = m.kind == MessageKind::emergency;
    std::cout << m.id << " (" << (emergency ? "emergency" : "service") << ", "
              << (m.interior && m.exterior ? "both"
                  : m.exterior             ? "exterior"
                                           : "interior");
    if (emergency && m.repeat_interval_s > 0)
      std::cout << ", every " << m.repeat_interval_s << " s";
    if (!emergency && m.repeat_count > 0) {
      std::cout << ", said again " << m.repeat_count << (m.repeat_count == 1 ? " time" : " times");
    }
    if (m.expires_after_min > 0) std::cout << ", expires after " << m.expires_after_min << " min";
    std::cout << ")\n";
    if (!m.title.empty()) std::cout << "  title: " << join_names(m.title) << "\n";
    std::cout << "  text: " << join_names(m.text) << "\n";
    if (!m.spoken.empty()) std::cout << "  spoken: " << join_names(m.spoken) << "\n";
  }
}

int cmd_inspect(const std::string& path, const std::string& trip_id, const std::string& route_id,
                const std::string& stop_id, bool messages) {
  auto bundle = Bundle::open(path);
  if (messages) {
    print_messages(bundle);
    return 0;
  }
  if (!trip_id.empty()) {
    auto trip = bundle.load_trip(trip_id);
    std::cout << "trip " << trip.id << " route " << join_names(trip.route.short_names)
              << "\n  headsign: " << join_names(trip.headsigns) << "\n  direction "
              << (trip.direction_id ? std::to_string(*trip.direction_id) : "-") << ", block "
              << (trip.block_id.empty() ? "-" : trip.block_id) << ", service " << trip.service_id
              << ", shape " << trip.shape_id << (trip.shape_derived ? " (built from stops)" : "")
              << ", " << trip.shape.size() << " shape points, "
              << static_cast<long>(trip.shape.empty() ? 0 : trip.shape.back().distance_m) << " m\n";
    for (const auto& ts : trip.stops) {
      std::cout << "  " << ts.stop_sequence << "  " << hhmm(ts.arrival_s) << "  "
                << static_cast<long>(ts.distance_m) << " m  " << ts.stop.id << "  "
                << join_names(ts.stop.names);
      if (ts.stop.wheelchair == Wheelchair::accessible) std::cout << "  [wheelchair]";
      if (ts.stop.wheelchair == Wheelchair::not_accessible) std::cout << "  [no wheelchair]";
      std::cout << "\n";
    }
    return 0;
  }
  if (!route_id.empty()) {
    auto route = bundle.load_route(route_id);
    std::cout << "route " << route.id << ": " << join_names(route.short_names) << "\n  "
              << join_names(route.long_names) << "\n";
    if (!route.exterior_texts.empty()) {
      std::cout << "  exterior: " << join_names(route.exterior_texts) << "\n";
    }
    for (const auto& t : bundle.trips_of_route(route_id)) {
      std::cout << "  " << t.trip_id << "  " << hhmm(t.first_departure_s) << "-"
                << hhmm(t.last_arrival_s) << "  dir "
                << (t.direction_id ? std::to_string(*t.direction_id) : "-") << "  " << t.headsign
                << "\n";
    }
    return 0;
  }
  if (!stop_id.empty()) {
    auto stop = bundle.load_stop(stop_id);
    std::cout << "stop " << stop.id << " (" << stop.position.lat << ", " << stop.position.lon
              << ")\n  names: " << join_names(stop.names) << "\n";
    if (!stop.tts_names.empty()) std::cout << "  spoken: " << join_names(stop.tts_names) << "\n";
    if (!stop.extra_phrases.empty()) {
      std::cout << "  phrases: " << join_names(stop.extra_phrases) << "\n";
    }
    for (const auto& [lang, clip] : stop.name_clips) {
      std::cout << "  clip (" << lang << ", name): " << clip.format << " " << clip.sha256 << "\n";
    }
    std::cout << "  wheelchair boarding: "
              << (stop.wheelchair == Wheelchair::accessible       ? "yes"
                  : stop.wheelchair == Wheelchair::not_accessible ? "no"
                                                                  : "unknown")
              << "\n";
    return 0;
  }
  auto s = bundle.summary();
  std::cout << path << "\n  schema " << s.schema_version << ", feed version "
            << (s.feed_version.empty() ? "-" : s.feed_version) << ", from " << s.source
            << ", imported " << s.imported_at << (s.signed_ ? ", signed" : ", NOT signed")
            << "\n  languages:";
  for (const auto& l : s.languages)
    std::cout << " " << l;
  std::cout << "\n  " << s.agencies << " agencies, " << s.routes << " routes, " << s.stops
            << " stops, " << s.trips << " trips, " << s.stop_times << " stop times, " << s.shapes
            << " shapes (" << s.derived_shapes << " built from stops), " << s.translations
            << " translations, " << s.clips << " clips, " << s.message_presets
            << " message presets\n";
  return 0;
}

int cmd_keygen(const std::string& secret, const std::string& pub) {
  auto pair = generate_keypair(secret, pub);
  std::cerr << "key " << pair.public_key.key_id() << ": secret " << secret << " (keep it at the "
            << "depot), public " << pub << " (goes on every bus)\n";
  return 0;
}

int cmd_sign(const std::string& bundle, const std::string& key_path) {
  auto key = load_secret_key(key_path);
  auto result = sign_bundle(bundle, key);
  std::cerr << bundle << ": signed by key " << result.key_id << " at " << result.signed_at
            << " (content " << result.digest.substr(0, 16) << "...)\n";
  return 0;
}

int cmd_verify(const std::string& bundle, const std::string& pub_path) {
  auto result = verify_bundle(bundle, load_public_key(pub_path));
  std::cerr << result.message << "\n";
  return 0;
}

// The key a bus trusts: --pubkey, else the one installed beside its bundles.
std::optional<PublicKey> bus_key(const std::string& pub_path, const std::string& dir,
                                 bool allow_unsigned) {
  if (!pub_path.empty()) return load_public_key(pub_path);
  std::string trusted = dir + "/trusted.pub";
  if (std::filesystem::exists(trusted)) return load_public_key(trusted);
  if (allow_unsigned) return std::nullopt;
  throw RouteError(
      Errc::key_unreadable,
      "no public key to verify with: pass --pubkey, or put the depot's public key at " + trusted +
          " (--allow-unsigned only for a test bench)");
}

int cmd_install(const std::string& bundle, const std::string& dir, const std::string& pub_path,
                bool allow_unsigned) {
  auto key = bus_key(pub_path, dir, allow_unsigned);
  auto result = install_bundle(bundle, dir, key);
  if (result.leftovers_removed > 0) {
    std::cerr << "removed " << result.leftovers_removed
              << " file(s) left by an interrupted install\n";
  }
  std::cerr << "installed " << bundle << " as " << result.active_path;
  if (!result.key_id.empty())
    std::cerr << " (signed by key " << result.key_id << ")";
  else
    std::cerr << " (NOT verified: no key)";
  std::cerr << (result.previous_kept ? "; the previous bundle is kept for rollback\n" : "\n");
  return 0;
}

int cmd_rollback(const std::string& dir) {
  auto result = rollback_bundle(dir);
  std::cerr << "rolled back: " << result.active_path << " is the previous bundle again; "
            << "the replaced one is kept as " << result.previous_path << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"stopcall-routes: load GTFS route data onto stopcall buses"};
  app.require_subcommand(1);
  std::string feed, out, extra, bundle, trip, route, stop;
  bool as_json = false, strict = false, messages = false;

  auto* import = app.add_subcommand("import", "import a GTFS feed (zip or folder) into a bundle");
  import->add_option("FEED", feed, "GTFS zip or folder")->required();
  import->add_option("-o,--output", out, "bundle file to write")->required();
  import->add_option("--extra", extra, "folder of stopcall announcement data (routes/README.md)");
  import->add_flag("--json", as_json, "print problems as JSON");
  import->add_flag("--strict", strict, "refuse the feed on any warning too");

  auto* validate = app.add_subcommand("validate", "list every problem in a feed or a bundle");
  validate->add_option("PATH", feed, "GTFS zip or folder, or a bundle")->required();
  validate->add_option("--extra", extra, "folder of stopcall announcement data");
  validate->add_flag("--json", as_json, "machine-readable output");
  validate->add_flag("--strict", strict, "count warnings as errors, as import --strict does");

  auto* inspect = app.add_subcommand("inspect", "show what a bundle holds");
  inspect->add_option("BUNDLE", bundle)->required();
  auto* by = inspect->add_option_group("what");
  by->add_option("--trip", trip, "a trip's stops in order, with names per language");
  by->add_option("--route", route, "a route's names and trips");
  by->add_option("--stop", stop, "a stop's names, phrases and clips");
  by->add_flag("--messages", messages, "the message presets with their texts per language");
  by->require_option(0, 1);

  std::string key, pub, dir;
  bool allow_unsigned = false;
  auto* keygen = app.add_subcommand("keygen", "make a depot signing key pair");
  keygen->add_option("--secret", key, "secret key file to write (stays at the depot)")->required();
  keygen->add_option("--public", pub, "public key file to write (goes on the buses)")->required();

  auto* sign = app.add_subcommand("sign", "sign a bundle with the depot's secret key");
  sign->add_option("BUNDLE", bundle)->required();
  sign->add_option("--key", key, "secret key file")->required();

  auto* verify = app.add_subcommand("verify", "check a bundle's signature");
  verify->add_option("BUNDLE", bundle)->required();
  verify->add_option("--pubkey", pub, "public key file")->required();

  auto* install = app.add_subcommand("install", "verify a bundle and make it the active one");
  install->add_option("BUNDLE", bundle)->required();
  install->add_option("--into", dir, "the bus's bundle folder (active.db, previous.db)")
      ->required();
  install->add_option("--pubkey", pub, "public key file (default: DIR/trusted.pub)");
  install->add_flag("--allow-unsigned", allow_unsigned, "install without a key (test benches)");

  auto* rollback = app.add_subcommand("rollback", "make the previous bundle active again");
  rollback->add_option("--into", dir, "the bus's bundle folder")->required();

  CLI11_PARSE(app, argc, argv);
  try {
    if (*import) return cmd_import(feed, out, extra, as_json, strict);
    if (*validate) return cmd_validate(feed, extra, as_json, strict);
    if (*inspect) return cmd_inspect(bundle, trip, route, stop, messages);
    if (*keygen) return cmd_keygen(key, pub);
    if (*sign) return cmd_sign(bundle, key);
    if (*verify) return cmd_verify(bundle, pub);
    if (*install) return cmd_install(bundle, dir, pub, allow_unsigned);
    if (*rollback) return cmd_rollback(dir);
  } catch (const RouteError& e) {
    std::cerr << "stopcall-routes: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "stopcall-routes: unexpected failure: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
