// hmi_bench's command line (hmi_bench.cpp parses it).
#pragma once

#include <string>

namespace stopcall::hmi::bench {

struct Options {
  std::string daemon;
  std::string routes;
  std::string gps;
  std::string web = STOPCALL_SOURCE_DIR "/hmi/web";
  std::string audio = "fakesink sync=true";
  std::string work;
  std::string figures;
  double speed = 20;
  double window_s = 60;
  double settle_s = 5;
  double linger_s = 3;
  int displays = 50;  // the stalled one included
  int stalled_rcvbuf = 4096;
  double stalled_ping_s = 0;
};

}  // namespace stopcall::hmi::bench
