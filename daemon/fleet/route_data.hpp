// Route data from the depot over the fleet link (PROTOCOL.md, "Route data"): a signed route bundle
// offered by a signed command, pulled by the bus in chunks (a few in flight), kept in a part file
// in the install directory so that a lost connection or a restart asks only for what is missing,
// checked against the offer (size and BLAKE2b-256) and the depot's signature, and installed
// (routes::install_bundle, previous.db kept for rollback) only between trips.
//
// The messages (pure) and the bus's receiver (files in the install directory; no network, no
// clock: the caller gives the times and carries the chunk requests out).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/fleet/protocol.hpp"
#include "daemon/log/records.hpp"
#include "daemon/tracking/fix.hpp"
#include "routes/signing.hpp"

namespace stopcall::daemon::fleet {

inline constexpr std::uint32_t kDefaultChunkSize = 65536;
inline constexpr std::uint32_t kMaxChunkSize = 262144;       // 256 KiB: well under a broker's limit
inline constexpr std::uint64_t kMaxBundleSize = 1ull << 30;  // 1 GiB
inline constexpr std::size_t kChunksInFlight = 4;
inline constexpr int kChunkWaitTicks = 10;  // seconds without a chunk: ask again

// The control line of an offer: {"cmd":"bundle","bundle_id":…,"size":…,"blake2b":…,
// "chunk_size":…}, inside a signed command like any other.
struct BundleOffer {
  std::string bundle_id;  // 1 to 64 of A-Z a-z 0-9 - _ . (a file name's part)
  std::uint64_t size = 0;
  std::string blake2b;  // 64 lowercase hex digits: BLAKE2b-256 of the file's bytes
  std::uint32_t chunk_size = kDefaultChunkSize;
  std::uint64_t chunks() const { return (size + chunk_size - 1) / chunk_size; }
  bool operator==(const BundleOffer&) const = default;
};
std::string bundle_offer_line(const BundleOffer& offer);
// Whether a control line is an offer ("cmd":"bundle"): the fleet's own, not the control socket's.
bool is_bundle_command(std::string_view line);
struct OfferParse {
  std::optional<BundleOffer> offer;
  std::string error;  // "bad_request" when !offer
  std::string message;
};
OfferParse parse_bundle_offer(std::string_view line);

// bundle/get: {"bundle_id":…,"chunk":k}.
std::string encode_chunk_request(std::string_view bundle_id, std::uint64_t chunk);
struct ChunkRequest {
  std::string bundle_id;
  std::uint64_t chunk = 0;
};
std::optional<ChunkRequest> decode_chunk_request(std::string_view payload);

// bundle/chunk: the header line {"bundle_id":…,"chunk":k} and '\n', then the chunk's raw bytes.
std::string encode_chunk(std::string_view bundle_id, std::uint64_t chunk, std::string_view bytes);
struct Chunk {
  std::string bundle_id;
  std::uint64_t index = 0;
  std::string_view bytes;  // into the payload
};
std::optional<Chunk> decode_chunk(std::string_view payload);

// BLAKE2b-256 of a file's bytes, in hex. Throws std::runtime_error when it cannot be read.
std::string blake2b_file(const std::string& path);

// fleet.bundle_key: the key file's public key; empty path: none. Throws std::runtime_error.
std::optional<routes::PublicKey> load_bundle_key(const std::string& path);

// What the bus does with route data, as its receiver sees it. The install directory holds, besides
// active.db and previous.db (routes/install.hpp):
//   .fleet-offer.json        the offer being fetched or waiting to be installed
//   .fleet-<bundle_id>.part  the bytes that came, in order (chunks that come early wait in memory)
class BundleReceiver {
 public:
  using Record = std::function<void(const log::Record&)>;

  // `install_dir` empty: the bus cannot install (its [routes] bundle is not an install
  // directory's active.db); `key` unset: no bundle_key, no route data is taken. `active`: the
  // feed version of the bundle the daemon runs.
  BundleReceiver(std::string install_dir, std::optional<routes::PublicKey> key, std::string active,
                 Record record);

  // At start: takes up an offer a restart interrupted, with what its part file holds.
  void resume(tracking::Time now);
  // A signed offer. Accepted: the transfer starts or goes on (the same bundle offered again);
  // another bundle's transfer is dropped. Refused: nothing changes.
  RequestAck offer(const BundleOffer& offer, tracking::Time now);
  // The same from the signed command's control line; a malformed one is refused (bad_request).
  RequestAck offer_line(std::string_view line, tracking::Time now);
  // The chunks to ask for now, at most kChunksInFlight asked and not come; marked as asked.
  std::vector<std::uint64_t> to_ask();
  // A new connection: what was asked on the old one is asked again.
  void forget_asked();
  // Once a second: when nothing came for kChunkWaitTicks, everything missing is asked again.
  void tick();
  // One bundle/chunk payload; false when it is not for the transfer in progress (ignored).
  bool on_chunk(std::string_view payload, tracking::Time now);
  // Installs a verified bundle unless a trip is running. True when one was installed: the daemon
  // switches to it.
  bool install_if_between_trips(bool trip_running, tracking::Time now);
  // Nothing in progress or just ended: nullopt.
  std::optional<RouteDataStatus> status() const;
  bool waiting_for_terminus() const { return state_ == "waiting_for_terminus"; }
  std::uint64_t have() const { return have_; }

 private:
  std::string part_path() const;
  std::string offer_path() const;
  void drop_files();
  void fail(std::string reason, std::string message, tracking::Time now);
  void verify(tracking::Time now);
  void save_offer() const;
  void line(std::string event, std::optional<std::string> reason, std::string message,
            tracking::Time now);

  std::string dir_;
  std::optional<routes::PublicKey> key_;
  std::string active_;
  Record record_;
  std::optional<BundleOffer> offer_;
  std::string state_;  // "", downloading, verifying, waiting_for_terminus, installed, failed
  std::string message_;
  std::uint64_t have_ = 0;                      // chunks in the part file, in order
  std::map<std::uint64_t, std::string> early_;  // chunks after a gap, until it is filled
  std::map<std::uint64_t, bool> asked_;         // asked and not come
  int idle_ticks_ = 0;
};

}  // namespace stopcall::daemon::fleet
