// Installing a route bundle on the bus so that the daemon never sees broken or half-copied data,
// whatever happens (power cut, kill -9) in the middle.
//
// Layout of the install directory DIR:
//   DIR/active.db            the bundle the daemon opens; once there, it always exists
//   DIR/previous.db          the bundle active before the last install, for rollback
//   DIR/.incoming-XXXXXX.db  a bundle being copied in (removed by the next install if left over)
//   DIR/.previous.db.tmp     a second name for a bundle while previous.db is being replaced
//   DIR/.install.lock        held (flock) while an install or rollback runs
//
// Crash safety: every change to active.db is one rename(2), which replaces the name atomically,
// of a file that is complete and fsynced. Keeping the old bundle as previous.db is done with a
// hard link first (active.db keeps its name the whole time), never by moving active.db away, so
// there is no moment without an active.db. See install.cpp for the step by step reasoning.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "routes/signing.hpp"

namespace stopcall::routes {

inline constexpr std::string_view kActiveBundleName = "active.db";
inline constexpr std::string_view kPreviousBundleName = "previous.db";

struct InstallResult {
  std::string active_path;     // DIR/active.db
  std::string previous_path;   // DIR/previous.db when previous_kept, else empty
  bool previous_kept = false;  // the bundle active before is kept for rollback
  std::string key_id;          // the key the bundle was verified with; empty without a key
  std::string signed_at;       // as recorded in the bundle; empty without a key
  Digest digest{};             // content digest of the bundle now active
  int leftovers_removed = 0;   // files left by an interrupted install, removed first
};

// Called between the steps of an install or rollback with the step's name; lets tests stop the
// process at every point. Steps: "source-checked", "locked", "leftovers-removed", "copying"
// (after each MiB), "copied", "copy-verified", "previous-linked", "previous-replaced",
// "active-replaced", "synced"; rollback: "locked", "leftovers-removed", "previous-checked",
// "active-linked", "active-replaced", "previous-replaced", "synced".
using InstallStepHook = std::function<void(std::string_view step)>;

// Installs the bundle at `bundle_path` as DIR/active.db, keeping the current one as previous.db.
// Before DIR is touched the bundle must pass PRAGMA quick_check, be signed by `key` (when given),
// and have PRAGMA user_version == kSchemaVersion; the copy in DIR is checked again (quick_check,
// signature, same content digest) before it becomes active. Creates DIR if needed.
// Throws RouteError: bundle_unreadable, bundle_unsigned, signature_mismatch,
// bundle_wrong_version (DIR untouched), install_failed (the active bundle is unchanged unless the
// message says otherwise).
InstallResult install_bundle(const std::string& bundle_path, const std::string& dir,
                             const std::optional<PublicKey>& key,
                             const InstallStepHook& on_step = {});

// Makes previous.db active again and keeps the replaced bundle as previous.db (so a second
// rollback undoes the first). Throws RouteError: nothing_to_roll_back, bundle_unreadable or
// bundle_wrong_version (previous.db is damaged or too old), install_failed.
InstallResult rollback_bundle(const std::string& dir, const InstallStepHook& on_step = {});

}  // namespace stopcall::routes
