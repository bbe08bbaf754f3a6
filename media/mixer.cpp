#include "media/mixer.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace stopcall::media::detail {

using std::chrono::steady_clock;

bool PreparedPlay::valid() const {
  if (valid_until && steady_clock::now() >= *valid_until) return false;
  return true;
}

Mixer::Mixer(Output which, std::chrono::milliseconds start_lead, std::chrono::milliseconds lead,
             std::chrono::milliseconds fade, MixerSink& sink)
    : which_(which),
      start_lead_(std::clamp<std::int64_t>(ms_to_samples(start_lead), 0, ms_to_samples(lead))),
      lead_(ms_to_samples(lead)),
      fade_(std::max<std::int64_t>(1, ms_to_samples(fade))),
      sink_(sink),
      mix_(kChunk),
      out_(kChunk) {}

void Mixer::play(std::shared_ptr<const PreparedPlay> play, bool timed) {
  if (current_ && play->priority > current_->play->priority && timed) {
    if (!play->valid()) {
      sink_.result({play->id, which_, Result::Outcome::expired, {}});
      return;
    }
    stop_current(Cue::Event::cut, Result::Outcome::interrupted);
    begin(std::move(play));
    return;
  }
  const auto at = std::find_if(pending_.begin(), pending_.end(),
                               [&](const auto& p) { return p->priority < play->priority; });
  pending_.insert(at, std::move(play));
}

void Mixer::cancel(const std::string& id) {
  drop_pending(id, Result::Outcome::cancelled);
  if (current_ && current_->play->id == id) {
    stop_current(Cue::Event::withdrawn, Result::Outcome::cancelled);
  }
}

void Mixer::drop_pending(const std::string& id, Result::Outcome outcome) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    if ((*it)->id == id) {
      sink_.result({id, which_, outcome, {}});
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
}

void Mixer::expire(const std::string& id) {
  drop_pending(id, Result::Outcome::expired);
  if (current_ && current_->play->id == id) current_->stale = true;
}

// Takes the current announcement off at write_pos_: its open segment fades out over `fade`.
void Mixer::stop_current(Cue::Event why, Result::Outcome outcome) {
  Active a = std::move(*current_);
  current_.reset();
  const std::int64_t cut = write_pos_;
  const auto& segs = a.play->segments;
  if (!a.last_started && why == Cue::Event::cut) {
    // Interrupted before its first sample: nothing was heard, so it waits its turn instead.
    pending_.insert(pending_.begin(), a.play);
    return;
  }
  const bool open = a.seg < segs.size() && a.off > 0;
  if (open) {
    const std::int64_t end = std::min(a.seg_start + segs[a.seg].length, cut + fade_);
    schedule_cue(a, a.seg, why, cut, a.seg_start, end);
    schedule_result(a, outcome, end);
    a.fade_from = cut;
    fading_.push_back(std::move(a));
    return;
  }
  if (why == Cue::Event::withdrawn && a.last_started) {
    schedule_cue(a, *a.last_started, why, cut, a.last_start, a.last_end);
  }
  schedule_result(a, outcome, cut);
}

void Mixer::begin(std::shared_ptr<const PreparedPlay> play) {
  current_ = Active{};
  current_->play = std::move(play);
  sink_.begins(current_->play->priority);
}

bool Mixer::start_next(std::int64_t at) {
  while (!pending_.empty()) {
    auto play = pending_.front();
    pending_.erase(pending_.begin());
    if (!play->valid()) {
      sink_.result({play->id, which_, Result::Outcome::expired, samples_to_ns(at)});
      continue;
    }
    begin(std::move(play));
    return true;
  }
  return false;
}

void Mixer::schedule_cue(const Active& a, std::size_t seg, Cue::Event ev, std::int64_t at,
                         std::int64_t start, std::int64_t end) {
  const PreparedSegment& s = a.play->segments[seg];
  Cue c;
  c.event = ev;
  c.announcement_id = a.play->id;
  c.segment = s.index;
  c.kind = s.kind;
  c.lang = s.lang;
  c.text = s.text;
  c.output = which_;
  c.priority = a.play->priority;
  c.start = samples_to_ns(start);
  c.end = samples_to_ns(end);
  events_.emplace(at, std::move(c));
}

void Mixer::schedule_result(const Active& a, Result::Outcome o, std::int64_t at) {
  events_.emplace(at, Result{a.play->id, which_, o, samples_to_ns(at)});
}

void Mixer::fill(std::int64_t now) {
  if (!current_ && !pending_.empty()) {
    // An idle output starts the announcement just ahead of the clock; the loop below then writes
    // up to `lead` ahead at once, so the pipeline has the first chunks well before it needs them.
    if (fading_.empty()) write_pos_ = std::max(write_pos_, now + start_lead_);
    start_next(write_pos_);
  }
  while ((current_ || !fading_.empty()) && write_pos_ < now + lead_) {
    if (write_pos_ < now - kLateSlack) {
      // Fell behind the clock (overload, or a new sink took over): skip ahead, leaving a gap.
      if (current_ && !current_->late_reported) {
        current_->late_reported = true;
        sink_.problem(
            {Problem::Kind::late, current_->play->id, 0, which_,
             "output fell behind by " + std::to_string((now - write_pos_) * 1000 / kRate) + " ms"});
      }
      write_pos_ = now + lead_;
    }
    compose_chunk();
  }
}

void Mixer::compose_chunk() {
  std::fill(mix_.begin(), mix_.end(), 0);
  std::int64_t i = 0;
  while (i < kChunk) {
    if (!current_ && !start_next(write_pos_ + i)) break;
    i = render_current(i);
  }
  std::erase_if(fading_, [&](Active& a) { return !render_fading(a); });
  for (std::size_t k = 0; k < out_.size(); ++k) {
    out_[k] = static_cast<std::int16_t>(std::clamp(mix_[k], -32768, 32767));
  }
  sink_.chunk(out_, write_pos_);
  write_pos_ += kChunk;
}

std::int64_t Mixer::render_current(std::int64_t i) {
  Active& a = *current_;
  const auto& segs = a.play->segments;
  while (i < kChunk) {
    const std::int64_t pos = write_pos_ + i;
    if (a.seg >= segs.size()) {
      schedule_result(a, Result::Outcome::finished, pos);
      current_.reset();
      return i;
    }
    const PreparedSegment& s = segs[a.seg];
    if (a.off == 0) {
      if (a.seg > 0 && (a.stale || !a.play->valid())) {  // went stale between segments
        if (a.last_started) {
          schedule_cue(a, *a.last_started, Cue::Event::withdrawn, pos, a.last_start, a.last_end);
        }
        schedule_result(a, Result::Outcome::expired, pos);
        current_.reset();
        return i;
      }
      a.seg_start = pos;
      a.last_started = a.seg;
      a.last_start = pos;
      a.last_end = pos + s.length;
      schedule_cue(a, a.seg, Cue::Event::start, pos, pos, pos + s.length);
    }
    const std::int64_t take = std::min(kChunk - i, s.length - a.off);
    if (s.pcm) {
      const auto avail = static_cast<std::int64_t>(s.pcm->size());
      for (std::int64_t k = 0; k < take && a.off + k < avail; ++k) {
        mix_[static_cast<std::size_t>(i + k)] += (*s.pcm)[static_cast<std::size_t>(a.off + k)];
      }
    }
    a.off += take;
    i += take;
    if (a.off >= s.length) {
      ++a.seg;
      a.off = 0;
    }
  }
  return i;
}

bool Mixer::render_fading(Active& a) {
  const PreparedSegment& s = a.play->segments[a.seg];
  const auto avail = s.pcm ? static_cast<std::int64_t>(s.pcm->size()) : 0;
  for (std::int64_t k = 0; k < kChunk; ++k) {
    const std::int64_t into_fade = write_pos_ + k - a.fade_from;
    if (a.off >= s.length || into_fade >= fade_) return false;
    if (a.off < avail) {
      const double gain = 1.0 - static_cast<double>(into_fade) / static_cast<double>(fade_);
      mix_[static_cast<std::size_t>(k)] +=
          static_cast<std::int32_t>(std::lround((*s.pcm)[static_cast<std::size_t>(a.off)] * gain));
    }
    ++a.off;
  }
  return true;
}

void Mixer::emit_due(std::int64_t rendered, steady_clock::time_point at) {
  while (!events_.empty() && events_.begin()->first <= rendered) {
    auto node = events_.extract(events_.begin());
    if (auto* cue = std::get_if<Cue>(&node.mapped())) {
      cue->rendered_at = at - std::chrono::duration_cast<steady_clock::duration>(
                                  samples_to_ns(rendered - node.key()));
      sink_.cue(std::move(*cue));
    } else {
      sink_.result(std::move(std::get<Result>(node.mapped())));
    }
  }
}

std::optional<std::int64_t> Mixer::next_fill() const {
  if (idle() && pending_.empty()) return std::nullopt;
  return write_pos_ - lead_;
}

std::optional<std::int64_t> Mixer::next_event() const {
  if (events_.empty()) return std::nullopt;
  return events_.begin()->first;
}

}  // namespace stopcall::media::detail
