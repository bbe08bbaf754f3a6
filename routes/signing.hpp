// Ed25519 signatures over a route bundle's content, so a bus only loads bundles its depot made.
//
// Key files are two-line text files (anything after the second line that starts with '#' is a
// comment and ignored):
//
//   stopcall-ed25519-secret-v1            stopcall-ed25519-public-v1
//   <base64 of the 64-byte secret key>    <base64 of the 32-byte public key>
//   # key id 1a2b3c4d5e6f7a8b             # key id 1a2b3c4d5e6f7a8b
//
// The secret key is libsodium's (32-byte seed || 32-byte public key); the file is created 0600 and
// refused when other users can read it. A key id is the first 8 bytes of BLAKE2b(public key) in
// hex: the bundle records it, so depot staff can tell which key signed a bundle.
//
// What is signed is the bundle's content (see content_digest), not its bytes: VACUUM or a different
// page layout keeps the signature valid; any change to schema, rows or user_version breaks it.
// The signature lives in the bundle itself, in table kSignatureTable:
//
//   bundle_signature(key_id TEXT, algorithm TEXT, digest TEXT, signature TEXT, signed_at TEXT)
//
// algorithm is "ed25519", digest the content digest in hex, signature base64 of
// crypto_sign_detached("stopcall-bundle-v1" || digest), signed_at ISO-8601 UTC. key_id, digest
// and signed_at are not covered by the signature: they only help explain a failure.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "routes/sqlite.hpp"

namespace stopcall::routes {

inline constexpr std::size_t kPublicKeyBytes = 32;
inline constexpr std::size_t kSecretKeyBytes = 64;
inline constexpr std::size_t kDigestBytes = 32;

using Digest = std::array<unsigned char, kDigestBytes>;

struct PublicKey {
  std::array<unsigned char, kPublicKeyBytes> bytes{};
  // First 8 bytes of BLAKE2b(bytes), hex: "1a2b3c4d5e6f7a8b".
  std::string key_id() const;
};

// Zeroes its bytes when destroyed.
struct SecretKey {
  std::array<unsigned char, kSecretKeyBytes> bytes{};
  SecretKey() = default;
  SecretKey(const SecretKey&) = default;
  SecretKey& operator=(const SecretKey&) = default;
  ~SecretKey();
  PublicKey public_key() const;
  std::string key_id() const { return public_key().key_id(); }
};

struct KeyPair {
  SecretKey secret;
  PublicKey public_key;
};

// Creates a new key pair and writes both files (secret 0600, public 0644). Refuses to overwrite an
// existing file. Throws RouteError(key_unreadable) naming the file on failure.
KeyPair generate_keypair(const std::string& secret_path, const std::string& public_path);

// Throw RouteError(key_unreadable) naming the file and what is wrong with it.
SecretKey load_secret_key(const std::string& path);
PublicKey load_public_key(const std::string& path);

// BLAKE2b-256 over a canonical serialization of the bundle's content:
//   - PRAGMA user_version;
//   - every row of sqlite_schema (type, name, tbl_name, sql), ordered by type, name, except the
//     signature table and SQLite's own bookkeeping (sqlite_autoindex_*, sqlite_sequence,
//     sqlite_stat*): autoindexes follow from the CREATE TABLE text, the others never change a
//     query result;
//   - for each ordinary table, ordered by name: every row. Rowid tables in rowid order with the
//     rowid itself (the R-tree refers to rows by rowid), WITHOUT ROWID tables in primary key
//     order. Virtual tables are skipped: their schema row is hashed and their data lives in
//     ordinary shadow tables (stops_rtree_node, _rowid, _parent), which are hashed like any table.
// Values are framed as type tag + fixed-size or length-prefixed bytes (integers and reals as 8
// bytes little-endian), tables are prefixed with name and column count, rows with a tag, so no two
// different contents serialize alike. Reads inside one read transaction. Throws sql::Error.
Digest content_digest(sql::Db& db);

std::string to_hex(const Digest& digest);

struct SignResult {
  std::string key_id;
  std::string digest;     // hex
  std::string signed_at;  // ISO-8601 UTC
};

// Signs the bundle at `path` in place, replacing any earlier signature. Throws
// RouteError(bundle_unreadable) when the bundle cannot be opened, written or fails quick_check.
SignResult sign_bundle(const std::string& path, const SecretKey& key);

struct VerifyResult {
  std::string key_id;     // the key that signed: the one given
  std::string signed_at;  // as recorded at signing (not itself signed)
  Digest digest{};        // the recomputed content digest
  std::string message;    // "bundle.db: signed by key 1a2b… at 2024-05-01T10:00:00Z"
};

// Opens the bundle read-only and checks it with PRAGMA quick_check. Throws
// RouteError(bundle_unreadable) naming the file when it is missing, not SQLite, or damaged.
sql::Db open_bundle_checked(const std::string& path);

// Checks the bundle's signature against `key`. Returns only when it is valid; otherwise throws
// RouteError: bundle_unreadable (see open_bundle_checked), bundle_unsigned, or signature_mismatch
// (another key signed it, or the content changed after signing). Messages name the bundle file.
VerifyResult verify_bundle(const std::string& path, const PublicKey& key);
// The same on an already opened and checked bundle; `path` is only used in messages.
VerifyResult verify_bundle(sql::Db& db, const std::string& path, const PublicKey& key);

// Ed25519 over any other text signed with the same keys (the fleet's commands): the detached
// signature of `message`, in base64.
std::string sign_text(const SecretKey& key, std::string_view message);
// True only when `signature` is the base64 of `key`'s signature of exactly `message`.
bool verify_text(const PublicKey& key, std::string_view message, std::string_view signature);
// `bytes` random bytes from the system's generator, in hex (ids that must not repeat).
std::string random_hex(std::size_t bytes);

}  // namespace stopcall::routes
