#include "daemon/fleet/route_data.hpp"

#include <sodium.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <system_error>

#include "daemon/tracking/events.hpp"
#include "routes/install.hpp"
#include "routes/problem.hpp"

namespace stopcall::daemon::fleet {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

bool is_hex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

template <class T>
bool unsigned_field(const json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned()) return false;
  out = it->get<T>();
  return true;
}

}  // namespace

std::string bundle_offer_line(const BundleOffer& o) {
  return json{{"cmd", "bundle"},
              {"bundle_id", o.bundle_id},
              {"size", o.size},
              {"blake2b", o.blake2b},
              {"chunk_size", o.chunk_size}}
      .dump();
}

bool is_bundle_command(std::string_view line) {
  const json j = json::parse(line, nullptr, false);
  return j.is_object() && j.value("cmd", "") == "bundle";
}

OfferParse parse_bundle_offer(std::string_view line) {
  OfferParse out;
  out.error = "bad_request";
  const json j = json::parse(line, nullptr, false);
  if (!j.is_object() || j.value("cmd", "") != "bundle") {
    out.message = "not a route data offer ({\"cmd\":\"bundle\",…})";
    return out;
  }
  BundleOffer o;
  o.bundle_id = j.value("bundle_id", "");
  if (!valid_vehicle_id(o.bundle_id)) {
    out.message = "bundle_id must be 1 to 64 letters, digits, '-', '_' or '.'";
    return out;
  }
  if (!unsigned_field(j, "size", o.size) || o.size == 0 || o.size > kMaxBundleSize) {
    out.message = "size must be 1 to " + std::to_string(kMaxBundleSize) + " bytes";
    return out;
  }
  o.blake2b = j.value("blake2b", "");
  if (!is_hex64(o.blake2b)) {
    out.message = "blake2b must be 64 lowercase hex digits (BLAKE2b-256 of the file)";
    return out;
  }
  if (j.contains("chunk_size") && (!unsigned_field(j, "chunk_size", o.chunk_size) ||
                                   o.chunk_size < 1024 || o.chunk_size > kMaxChunkSize)) {
    out.message = "chunk_size must be 1024 to " + std::to_string(kMaxChunkSize);
    return out;
  }
  out.offer = std::move(o);
  out.error.clear();
  return out;
}

std::string encode_chunk_request(std::string_view bundle_id, std::uint64_t chunk) {
  return json{{"bundle_id", bundle_id}, {"chunk", chunk}}.dump();
}

std::optional<ChunkRequest> decode_chunk_request(std::string_view payload) {
  const json j = json::parse(payload, nullptr, false);
  ChunkRequest r;
  if (!j.is_object() || !unsigned_field(j, "chunk", r.chunk)) return std::nullopt;
  r.bundle_id = j.value("bundle_id", "");
  if (!valid_vehicle_id(r.bundle_id)) return std::nullopt;
  return r;
}

std::string encode_chunk(std::string_view bundle_id, std::uint64_t chunk, std::string_view bytes) {
  std::string out = encode_chunk_request(bundle_id, chunk);
  out += '\n';
  out.append(bytes);
  return out;
}

std::optional<Chunk> decode_chunk(std::string_view payload) {
  const auto nl = payload.find('\n');
  if (nl == std::string_view::npos || nl > 256) return std::nullopt;
  auto head = decode_chunk_request(payload.substr(0, nl));
  if (!head) return std::nullopt;
  return Chunk{std::move(head->bundle_id), head->chunk, payload.substr(nl + 1)};
}

std::string blake2b_file(const std::string& path) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot start");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, routes::kDigestBytes);
  std::vector<char> buffer(1 << 16);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = in.gcount();
    if (got > 0) {
      crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(buffer.data()),
                                static_cast<unsigned long long>(got));
    }
  }
  if (in.bad()) throw std::runtime_error("cannot read " + path);
  routes::Digest digest{};
  crypto_generichash_final(&state, digest.data(), digest.size());
  return routes::to_hex(digest);
}

std::optional<routes::PublicKey> load_bundle_key(const std::string& path) {
  if (path.empty()) return std::nullopt;
  try {
    return routes::load_public_key(path);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("fleet: bundle_key: ") + e.what());
  }
}

// --- the receiver

BundleReceiver::BundleReceiver(std::string install_dir, std::optional<routes::PublicKey> key,
                               std::string active, Record record)
    : dir_(std::move(install_dir)),
      key_(std::move(key)),
      active_(std::move(active)),
      record_(std::move(record)) {}

std::string BundleReceiver::part_path() const {
  return (fs::path(dir_) / (".fleet-" + offer_->bundle_id + ".part")).string();
}

std::string BundleReceiver::offer_path() const {
  return (fs::path(dir_) / ".fleet-offer.json").string();
}

void BundleReceiver::line(std::string event, std::optional<std::string> reason, std::string message,
                          tracking::Time now) {
  if (!record_) return;
  record_(log::RouteData{tracking::format_time(now), offer_ ? offer_->bundle_id : std::string(),
                         std::move(event), std::move(reason), std::move(message)});
}

void BundleReceiver::save_offer() const {
  // Written whole under another name, then renamed: a restart reads the old offer or the new.
  const std::string tmp = offer_path() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << bundle_offer_line(*offer_) << "\n";
    if (!out) throw std::runtime_error("cannot write " + tmp);
  }
  fs::rename(tmp, offer_path());
}

void BundleReceiver::drop_files() {
  std::error_code ignored;
  if (offer_) fs::remove(part_path(), ignored);
  fs::remove(offer_path(), ignored);
}

void BundleReceiver::fail(std::string reason, std::string message, tracking::Time now) {
  state_ = "failed";
  message_ = message;
  line("failed", std::move(reason), std::move(message), now);
  drop_files();
  early_.clear();
  asked_.clear();
}

void BundleReceiver::resume(tracking::Time now) {
  if (dir_.empty()) return;
  std::ifstream in(offer_path());
  std::string text;
  if (!in || !std::getline(in, text)) return;
  OfferParse parsed = parse_bundle_offer(text);
  if (!parsed.offer) {
    drop_files();
    return;
  }
  offer_ = *parsed.offer;
  std::error_code ec;
  const auto bytes = fs::file_size(part_path(), ec);
  // Only whole chunks count: the last one may have been cut by a power loss.
  have_ = ec ? 0 : std::min<std::uint64_t>(bytes / offer_->chunk_size, offer_->chunks());
  if (!ec && bytes >= offer_->size) have_ = offer_->chunks();
  fs::resize_file(part_path(), std::min<std::uint64_t>(have_ * offer_->chunk_size, offer_->size),
                  ec);
  if (ec) std::ofstream(part_path(), std::ios::binary | std::ios::trunc);
  state_ = "downloading";
  message_ = "resumed with " + std::to_string(have_) + " of " + std::to_string(offer_->chunks()) +
             " chunks";
  if (have_ == offer_->chunks()) verify(now);
}

RequestAck BundleReceiver::offer(const BundleOffer& o, tracking::Time now) {
  RequestAck ack;
  ack.id = o.bundle_id;
  ack.request_id = o.bundle_id;
  auto refuse = [&](std::string error, std::string message) {
    ack.accepted = false;
    ack.error = std::move(error);
    ack.message = std::move(message);
    return ack;
  };
  if (dir_.empty()) {
    return refuse("not_installable",
                  "this bus's [routes] bundle is not an install directory's active.db");
  }
  if (!key_) return refuse("no_bundle_key", "this bus has no fleet.bundle_key: no route data");
  ack.accepted = true;
  if (o.bundle_id == active_) {
    ack.message = "already active";
    return ack;
  }
  if (offer_ && *offer_ == o && state_ != "failed" && state_ != "installed") {
    ack.message = state_ == "waiting_for_terminus"
                      ? "verified; waiting for the end of the trip"
                      : "already downloading (" + std::to_string(have_) + " of " +
                            std::to_string(o.chunks()) + " chunks)";
    return ack;
  }
  if (offer_) drop_files();  // another bundle's transfer, or a failed one: start afresh
  offer_ = o;
  have_ = 0;
  early_.clear();
  asked_.clear();
  idle_ticks_ = 0;
  try {
    fs::create_directories(dir_);
    std::ofstream part(part_path(), std::ios::binary | std::ios::trunc);
    if (!part) throw std::runtime_error("cannot write " + part_path());
    save_offer();
  } catch (const std::exception& e) {
    offer_.reset();
    state_.clear();
    return refuse("install_failed", e.what());
  }
  state_ = "downloading";
  message_ = std::to_string(o.size) + " bytes in " + std::to_string(o.chunks()) + " chunks";
  line("offer_taken", std::nullopt, message_, now);
  ack.message = "downloading " + message_;
  return ack;
}

RequestAck BundleReceiver::offer_line(std::string_view line, tracking::Time now) {
  OfferParse parsed = parse_bundle_offer(line);
  if (parsed.offer) return offer(*parsed.offer, now);
  RequestAck ack;
  ack.error = std::move(parsed.error);
  ack.message = std::move(parsed.message);
  return ack;
}

std::vector<std::uint64_t> BundleReceiver::to_ask() {
  std::vector<std::uint64_t> out;
  if (!offer_ || state_ != "downloading") return out;
  for (std::uint64_t k = have_; k < offer_->chunks() && asked_.size() < kChunksInFlight; ++k) {
    if (asked_.contains(k) || early_.contains(k)) continue;
    asked_[k] = true;
    out.push_back(k);
  }
  return out;
}

void BundleReceiver::forget_asked() {
  asked_.clear();
  idle_ticks_ = 0;
}

void BundleReceiver::tick() {
  if (state_ != "downloading" || asked_.empty()) return;
  if (++idle_ticks_ >= kChunkWaitTicks) forget_asked();
}

bool BundleReceiver::on_chunk(std::string_view payload, tracking::Time now) {
  auto chunk = decode_chunk(payload);
  if (!chunk || !offer_ || state_ != "downloading" || chunk->bundle_id != offer_->bundle_id ||
      chunk->index >= offer_->chunks() || chunk->index < have_) {
    return false;
  }
  const std::uint64_t k = chunk->index;
  // Only chunks asked for and not yet come: what waits in memory stays within the few in flight.
  if (!asked_.contains(k)) return false;
  const std::uint64_t expected =
      k + 1 == offer_->chunks() ? offer_->size - k * offer_->chunk_size : offer_->chunk_size;
  asked_.erase(k);
  idle_ticks_ = 0;
  if (chunk->bytes.size() != expected) {
    fail("bad_chunk",
         "chunk " + std::to_string(k) + " has " + std::to_string(chunk->bytes.size()) +
             " bytes, not " + std::to_string(expected),
         now);
    return true;
  }
  early_[k] = std::string(chunk->bytes);
  std::ofstream part(part_path(), std::ios::binary | std::ios::app);
  while (!early_.empty() && early_.begin()->first == have_) {
    const std::string& bytes = early_.begin()->second;
    part.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    early_.erase(early_.begin());
    ++have_;
  }
  part.close();
  if (!part) {
    fail("install_error", "cannot write " + part_path(), now);
    return true;
  }
  if (have_ == offer_->chunks()) verify(now);
  return true;
}

void BundleReceiver::verify(tracking::Time now) {
  state_ = "verifying";
  std::error_code ec;
  const auto bytes = fs::file_size(part_path(), ec);
  if (ec || bytes != offer_->size) {
    return fail("size_mismatch",
                "the bundle has " + std::to_string(ec ? 0 : bytes) + " bytes, the offer says " +
                    std::to_string(offer_->size),
                now);
  }
  std::string hash;
  try {
    hash = blake2b_file(part_path());
  } catch (const std::exception& e) {
    return fail("install_error", e.what(), now);
  }
  if (hash != offer_->blake2b) {
    return fail("hash_mismatch",
                "the bundle's BLAKE2b is " + hash + ", the signed offer says " + offer_->blake2b,
                now);
  }
  try {
    routes::verify_bundle(part_path(), *key_);
  } catch (const std::exception& e) {
    return fail("signature", e.what(), now);
  }
  state_ = "waiting_for_terminus";
  message_ = "verified (size, BLAKE2b, signed by key " + key_->key_id() +
             "); installed at the end of the trip";
}

bool BundleReceiver::install_if_between_trips(bool trip_running, tracking::Time now) {
  if (state_ != "waiting_for_terminus" || trip_running) return false;
  try {
    const routes::InstallResult r = routes::install_bundle(part_path(), dir_, key_);
    state_ = "installed";
    message_ = "installed as " + r.active_path +
               (r.previous_kept ? "; the bundle before kept as previous.db" : "");
    line("installed", std::nullopt, message_, now);
    drop_files();
    active_ = offer_->bundle_id;
    return true;
  } catch (const routes::RouteError& e) {
    const bool signature =
        e.code() == routes::Errc::signature_mismatch || e.code() == routes::Errc::bundle_unsigned;
    fail(signature ? "signature" : "install_error", e.what(), now);
  } catch (const std::exception& e) {
    fail("install_error", e.what(), now);
  }
  return false;
}

std::optional<RouteDataStatus> BundleReceiver::status() const {
  if (!offer_ || state_.empty()) return std::nullopt;
  return RouteDataStatus{offer_->bundle_id, state_, have_, offer_->chunks(), message_};
}

}  // namespace stopcall::daemon::fleet
