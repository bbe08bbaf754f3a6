// Announcements that fit the stretch: how long an announcement lasts, and which of its forms ends
// before the next one is due. Pure: lengths and the time it has come in as arguments.
//
// Where stops are close together the full form ("ding-dong", three languages, the transfer hint)
// is still playing when the bus gets there: the next announcement waits behind it, and the
// languages not yet started are dropped once the bus has reached the stop. The announcer
// therefore picks, before it starts, the longest form that ends in time (announcer.hpp lists
// the forms).
//
// Lengths: what the media engine's cache says the rendered audio lasts (Engine::length) when it
// has it; otherwise an estimate from the text (estimated_length below), on the long side, so
// that an unknown length never lets a form through that does not fit.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string_view>

#include "media/types.hpp"

namespace stopcall::daemon {

using std::chrono::milliseconds;

// The forms of a stop announcement, longest first (announcer.hpp says what each one says).
enum class Form : std::uint8_t { full, no_transfer, no_chime, brief, fewer_languages, skipped };

std::string_view form_name(Form form);  // "full", "no_transfer", …

// How long a segment sounds when it is known (e.g. rendered and cached); nullopt: unknown.
using SegmentLength = std::function<std::optional<milliseconds>(const media::Segment&)>;

// A segment's length from its kind and text alone: a pause its length; the chime 800 ms (the
// built-in two-tone chime); speech (and a clip, which falls back to speech) from what is spoken,
// measured on espeak-ng at its default rate and rounded up: 300 ms per Chinese character (one
// syllable each), 75 ms per Latin letter or digit, 150 ms per punctuation mark (a pause), 20 ms per
// space, at least 300 ms.
milliseconds estimated_length(const media::Segment& segment);

// The segment's length: `known` when it knows it, else the estimate.
milliseconds length_of(const media::Segment& segment, const SegmentLength& known);
// The whole announcement's: every segment one after the other.
milliseconds length_of(const media::Announcement& announcement, const SegmentLength& known);

// When the stop announcement must be over, as the tracker predicts it.
struct FitTiming {
  // Time until it must be over (Pipeline::time_to_say): for `next_stop` until `approaching` for
  // the stop may be due, for `approaching` until the bus may have left the stop. Unset: no
  // prediction, the full form is said as before.
  std::optional<milliseconds> until;
  // The interior is still busy this long with stop announcements started before (they play one
  // after the other): this one starts only then.
  milliseconds busy{0};
  // For `approaching`: "next stop" did not say the stop's name in every language (skipped): this
  // is the rider's only chance, so every language says it (at least `brief`), even where the last
  // languages may not end before the bus leaves a stop it drives through.
  bool only_chance = false;
};

// The time a stop announcement has: `until` less `busy`. nullopt without a prediction.
std::optional<milliseconds> time_available(const FitTiming& timing);

}  // namespace stopcall::daemon
