// The feeder thread of one output: it takes the callers' commands and GStreamer's messages, keeps
// the Mixer composing just ahead of the clock, delivers what was rendered, and sleeps until the
// next of these is due. Its pipelines are in output_pipeline.cpp.
#include "media/output.hpp"

#include <algorithm>
#include <utility>

#include "media/realtime.hpp"

namespace stopcall::media::detail {

using std::chrono::steady_clock;
using namespace std::chrono_literals;

OutputPlayer::OutputPlayer(Output which, OutputConfig config, PlayerSettings settings,
                           Reporter& reporter)
    : which_(which),
      config_(std::move(config)),
      settings_(std::move(settings)),
      reporter_(reporter),
      mixer_(which_, settings_.start_lead, settings_.lead, settings_.fade, *this),
      timeline_(steady_clock::now()),
      gain_db_(config_.gain_db) {
  thread_ = std::thread([this] { run(); });
}

OutputPlayer::~OutputPlayer() {
  stop();
}

void OutputPlayer::play(std::shared_ptr<const PreparedPlay> play) {
  {
    std::lock_guard lock(mu_);
    commands_.push_back({Command::Type::play, std::move(play), {}, 0});
  }
  cv_.notify_one();
}

void OutputPlayer::cancel(const std::string& id) {
  {
    std::lock_guard lock(mu_);
    commands_.push_back({Command::Type::cancel, nullptr, id, 0});
  }
  cv_.notify_one();
}

void OutputPlayer::expire(const std::string& id) {
  {
    std::lock_guard lock(mu_);
    commands_.push_back({Command::Type::expire, nullptr, id, 0});
  }
  cv_.notify_one();
}

void OutputPlayer::set_gain_db(double db) {
  {
    std::lock_guard lock(mu_);
    commands_.push_back({Command::Type::gain, nullptr, {}, db});
  }
  cv_.notify_one();
}

void OutputPlayer::set_auto_gain_db(double db) {
  {
    std::lock_guard lock(mu_);
    commands_.push_back({Command::Type::auto_gain, nullptr, {}, db});
  }
  cv_.notify_one();
}

std::optional<steady_clock::time_point> OutputPlayer::last_sounded() const {
  if (sounding_.load()) return steady_clock::now();
  const auto t = last_sounded_.load();
  if (t == 0) return std::nullopt;
  return steady_clock::time_point(steady_clock::duration(t));
}

OutputState OutputPlayer::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

void OutputPlayer::stop() {
  {
    std::lock_guard lock(mu_);
    commands_.push_back({Command::Type::stop, nullptr, {}, 0});
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void OutputPlayer::post_hook(HookEvent e) {
  {
    std::lock_guard lock(mu_);
    hooks_.push_back(std::move(e));
  }
  cv_.notify_one();
}

void OutputPlayer::run() {
  // Like audio servers do: the feeder wakes every 20 ms for microseconds and must not be
  // starved by busy neighbours.
  make_current_thread_realtime(settings_.realtime_priority);
  timeline_ = Timeline(steady_clock::now());
  try {
    pipe_ = build(config_.sink, false);
  } catch (const std::exception& e) {
    pipe_failed(e.what());
  }
  auto deadline = steady_clock::now();
  for (;;) {
    std::deque<Command> commands;
    std::deque<HookEvent> hooks;
    {
      std::unique_lock lock(mu_);
      cv_.wait_until(lock, deadline, [&] { return !commands_.empty() || !hooks_.empty(); });
      commands.swap(commands_);
      hooks.swap(hooks_);
    }
    for (const HookEvent& h : hooks)
      handle_hook(h);
    for (Command& c : commands)
      handle_command(c);
    if (stopping_) break;
    maintain_pipes();
    pump();
    const bool sounding = mixer_.sounding();
    if (sounding || sounding_.load()) {
      last_sounded_ = steady_clock::now().time_since_epoch().count();  // before sounding_ clears
    }
    sounding_ = sounding;
    if (sounding != streaming_realtime_) {
      streaming_realtime_ = sounding;
      apply_streaming_priority();
    }
    deadline = next_deadline();
  }
  finish_stream();
}

void OutputPlayer::handle_command(Command& c) {
  switch (c.type) {
    case Command::Type::play:
      mixer_.play(std::move(c.play), timeline_.available());
      return;
    case Command::Type::cancel:
      mixer_.cancel(c.id);
      return;
    case Command::Type::expire:
      mixer_.expire(c.id);
      return;
    case Command::Type::gain:
      gain_db_ = c.gain_db;
      apply_gain();
      return;
    case Command::Type::auto_gain:
      auto_db_pending_ = c.gain_db;
      if (mixer_.idle()) {  // else when the next announcement begins
        auto_db_ = auto_db_pending_;
        apply_gain();
      }
      return;
    case Command::Type::stop:
      stopping_ = true;
      return;
  }
}

void OutputPlayer::pump() {
  if (!timeline_.available()) return;
  mixer_.fill(now_pos());
  emit_due();
}

void OutputPlayer::emit_due() {
  if (!mixer_.next_event()) return;
  const std::int64_t rendered = rendered_pos();
  mixer_.emit_due(rendered, steady_clock::now());
}

steady_clock::time_point OutputPlayer::next_deadline() {
  const auto now = steady_clock::now();
  auto deadline = now + 1h;
  auto after = [&](std::int64_t samples) {
    // Round up so the wake-up is never before the moment.
    const auto ns = samples_to_ns(std::max<std::int64_t>(samples, 0)) + 1us;
    return now + std::chrono::duration_cast<steady_clock::duration>(ns);
  };
  if (timeline_.available()) {
    if (const auto fill = mixer_.next_fill())
      deadline = std::min(deadline, after(*fill - now_pos()));
    if (const auto event = mixer_.next_event()) {
      deadline = std::min(deadline, after(*event - rendered_pos()));
    }
  }
  return std::min(deadline, pipes_deadline(now));
}

void OutputPlayer::set_state(OutputState s, const std::string& error) {
  {
    std::lock_guard lock(mu_);
    state_ = s;
  }
  OutputStatus status{which_, s, config_.sink, error, {}};
  if (s == OutputState::failed) {
    status.retry_in = backoff_;
  }
  reporter_.status(std::move(status));
}

void OutputPlayer::cue(Cue c) {
  reporter_.cue(std::move(c));
}

void OutputPlayer::result(Result r) {
  reporter_.result(std::move(r));
}

void OutputPlayer::problem(Problem p) {
  reporter_.problem(std::move(p));
}

void OutputPlayer::begins(Priority priority) {
  safety_ = priority == Priority::safety;
  auto_db_ = auto_db_pending_;
  apply_gain();
}

}  // namespace stopcall::media::detail
