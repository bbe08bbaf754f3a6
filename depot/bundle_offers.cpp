#include "depot/bundle_offers.hpp"

namespace stopcall::depot {

bool final_bundle_state(std::string_view state) {
  return state == "installed" || state == "failed" || state == "refused";
}

bool bundle_in_progress(std::string_view state) {
  return state == "accepted" || state == "downloading" || state == "verifying" ||
         state == "waiting_for_terminus";
}

std::vector<Reoffer> due_offers(const std::map<std::string, BundleProgress>& buses,
                                tracking::Time now, std::chrono::seconds gap) {
  std::vector<Reoffer> out;
  for (const auto& [vehicle, b] : buses) {
    if (!b.addressed || !b.online || final_bundle_state(b.state) || bundle_in_progress(b.state))
      continue;
    if (!b.offered) {
      out.push_back({vehicle, "online, and it has heard no offer"});
      continue;
    }
    const auto since = std::chrono::duration_cast<std::chrono::seconds>(now - *b.offered);
    if (since >= gap) {
      out.push_back(
          {vehicle, "no progress " + std::to_string(since.count()) + " s after the offer it had"});
    }
  }
  return out;
}

}  // namespace stopcall::depot
