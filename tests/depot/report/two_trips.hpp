// The report tests' event log: two trips of one bus on 2 March 2026, with every figure counted
// by hand. The per-bus report's tests and the fleet report's tests (tests/depot) read it.
#pragma once

namespace stopcall::testing::report {

// Two trips on 2 March 2026 (UTC), written the way the daemon writes its event log. What each
// figure must be is counted by hand in the comments (and summed up after the log).
inline constexpr const char* kLog = R"(
{"type":"trip_started","time":"2026-03-02T08:00:00.000Z","trip_id":"T1","stop_id":"S0","stop_sequence":1,"stop_index":0,"distance_m":0.0}
{"type":"request","time":"2026-03-02T08:00:01.000Z","id":"req-1","kind":"wheelchair","stop_id":"S2","fate":"pending"}
{"type":"departed","time":"2026-03-02T08:00:30.000Z","trip_id":"T1","stop_id":"S0","stop_sequence":1,"stop_index":0,"distance_m":10.0}
{"type":"next_stop","time":"2026-03-02T08:00:30.000Z","trip_id":"T1","stop_id":"S1","stop_sequence":2,"stop_index":1,"distance_m":10.0}
{"type":"announcement","time":"2026-03-02T08:00:30.020Z","id":"T1:1:next_stop","kind":"next_stop","priority":"stop","outputs":["interior"],"languages":["zh-Hans","en"],"segments":["chime","speech","pause","speech"],"text":{"zh-Hans":"下一站，甲站","en":"Next stop: Alpha"}}
{"type":"sound","time":"2026-03-02T08:00:30.100Z","id":"T1:1:next_stop","output":"interior","after_ms":80.0,"mono_ns":1000}
{"type":"announcement_result","time":"2026-03-02T08:00:33.000Z","id":"T1:1:next_stop","output":"interior","outcome":"finished"}
{"type":"approaching","time":"2026-03-02T08:01:30.000Z","trip_id":"T1","stop_id":"S1","stop_sequence":2,"stop_index":1,"distance_m":480.0}
{"type":"announcement","time":"2026-03-02T08:01:30.020Z","id":"T1:1:approaching","kind":"approaching","priority":"stop","outputs":["interior"],"languages":["en"],"segments":["chime","speech"],"text":{"en":"Arriving at Alpha"}}
{"type":"sound","time":"2026-03-02T08:01:30.100Z","id":"T1:1:approaching","output":"interior","after_ms":80.0,"mono_ns":2000}
{"type":"announcement_result","time":"2026-03-02T08:01:33.000Z","id":"T1:1:approaching","output":"interior","outcome":"finished"}
{"type":"arrived","time":"2026-03-02T08:01:40.000Z","trip_id":"T1","stop_id":"S1","stop_sequence":2,"stop_index":1,"distance_m":500.0}
{"type":"signal","time":"2026-03-02T08:01:41.000Z","signal":"door","source":"control","door":1,"state":"open"}
{"type":"announcement","time":"2026-03-02T08:01:41.010Z","id":"T1:exterior:doors open:2026-03-02T08:01:41.000Z","kind":"exterior_route","priority":"stop","outputs":["exterior"],"languages":["en"],"segments":["speech"],"text":{"en":"Route 7 to Charlie"}}
{"type":"sound","time":"2026-03-02T08:01:42.000Z","id":"T1:exterior:doors open:2026-03-02T08:01:41.000Z","output":"exterior","after_ms":990.0,"mono_ns":3000}
{"type":"announcement_result","time":"2026-03-02T08:01:45.000Z","id":"T1:exterior:doors open:2026-03-02T08:01:41.000Z","output":"exterior","outcome":"finished"}
{"type":"signal","time":"2026-03-02T08:01:50.000Z","signal":"door","source":"control","door":1,"state":"closed"}
{"type":"departed","time":"2026-03-02T08:02:00.000Z","trip_id":"T1","stop_id":"S1","stop_sequence":2,"stop_index":1,"distance_m":510.0}
{"type":"next_stop","time":"2026-03-02T08:02:00.000Z","trip_id":"T1","stop_id":"S2","stop_sequence":3,"stop_index":2,"distance_m":510.0}
{"type":"announcement","time":"2026-03-02T08:02:00.020Z","id":"T1:2:next_stop","kind":"next_stop","priority":"stop","outputs":["interior"],"languages":["en"],"segments":["chime","speech"],"text":{"en":"Next stop: Bravo <Market>"}}
{"type":"sound","time":"2026-03-02T08:02:00.100Z","id":"T1:2:next_stop","output":"interior","after_ms":80.0,"mono_ns":4000}
{"type":"announcement_result","time":"2026-03-02T08:02:03.000Z","id":"T1:2:next_stop","output":"interior","outcome":"finished"}
{"type":"gps_lost","time":"2026-03-02T08:02:10.000Z","trip_id":"T1","distance_m":600.0}
{"type":"gps_restored","time":"2026-03-02T08:02:55.500Z","trip_id":"T1","distance_m":900.0}
{"type":"approaching","time":"2026-03-02T08:03:00.000Z","trip_id":"T1","stop_id":"S2","stop_sequence":3,"stop_index":2,"distance_m":960.0}
{"type":"announcement","time":"2026-03-02T08:03:00.020Z","id":"T1:2:approaching","kind":"approaching","priority":"stop","outputs":["interior"],"languages":["en"],"segments":["chime","speech"],"text":{"en":"Arriving at Bravo <Market>"}}
{"type":"arrived","time":"2026-03-02T08:03:05.000Z","trip_id":"T1","stop_id":"S2","stop_sequence":3,"stop_index":2,"distance_m":1000.0}
{"type":"announcement_result","time":"2026-03-02T08:03:05.100Z","id":"T1:2:approaching","output":"interior","outcome":"expired"}
{"type":"signal","time":"2026-03-02T08:03:06.000Z","signal":"door","source":"control","door":1,"state":"open"}
{"type":"announcement","time":"2026-03-02T08:03:06.010Z","id":"T1:exterior:doors open:2026-03-02T08:03:06.000Z","kind":"exterior_route","priority":"stop","outputs":["exterior"],"languages":["en"],"segments":["speech"],"text":{"en":"Route 7 to Charlie"}}
{"type":"sound","time":"2026-03-02T08:03:07.000Z","id":"T1:exterior:doors open:2026-03-02T08:03:06.000Z","output":"exterior","after_ms":990.0,"mono_ns":5000}
{"type":"signal","time":"2026-03-02T08:03:08.000Z","signal":"ramp","source":"control","state":"deployed"}
{"type":"prompt","time":"2026-03-02T08:03:20.000Z","to":"driver","kind":"ramp_moving_alarm","id":"ramp-alarm","active":true,"text":{"en":"RAMP DEPLOYED WHILE MOVING"}}
{"type":"signal","time":"2026-03-02T08:03:40.000Z","signal":"ramp","source":"control","state":"stowed"}
{"type":"prompt","time":"2026-03-02T08:03:40.100Z","to":"driver","kind":"ramp_moving_alarm","id":"ramp-alarm","active":false}
{"type":"request","time":"2026-03-02T08:03:45.000Z","id":"req-1","kind":"wheelchair","stop_id":"S2","fate":"served","why":"ramp cycle at the stop"}
{"type":"signal","time":"2026-03-02T08:03:50.000Z","signal":"door","source":"control","door":1,"state":"closed"}
{"type":"departed","time":"2026-03-02T08:04:00.000Z","trip_id":"T1","stop_id":"S2","stop_sequence":3,"stop_index":2,"distance_m":1010.0}
{"type":"next_stop","time":"2026-03-02T08:04:00.000Z","trip_id":"T1","stop_id":"S3","stop_sequence":4,"stop_index":3,"distance_m":1010.0}
{"type":"announcement","time":"2026-03-02T08:04:00.020Z","id":"T1:3:next_stop","kind":"next_stop","priority":"stop","outputs":["interior"],"languages":["en"],"segments":["chime","speech"],"text":{"en":"Next stop: Charlie"}}
{"type":"sound","time":"2026-03-02T08:04:00.100Z","id":"T1:3:next_stop","output":"interior","after_ms":80.0,"mono_ns":6000}
{"type":"approaching","time":"2026-03-02T08:05:00.000Z","trip_id":"T1","stop_id":"S3","stop_sequence":4,"stop_index":3,"distance_m":1460.0}
{"type":"announcement","time":"2026-03-02T08:05:00.020Z","id":"T1:3:approaching","kind":"approaching","priority":"stop","outputs":["interior"],"languages":["en"],"segments":["chime","speech"],"text":{"en":"Arriving at Charlie"}}
{"type":"sound","time":"2026-03-02T08:05:00.100Z","id":"T1:3:approaching","output":"interior","after_ms":80.0,"mono_ns":7000}
{"type":"arrived","time":"2026-03-02T08:05:10.000Z","trip_id":"T1","stop_id":"S3","stop_sequence":4,"stop_index":3,"distance_m":1500.0}
{"type":"trip_ended","time":"2026-03-02T08:05:10.000Z","trip_id":"T1","stop_id":"S3","stop_sequence":4,"stop_index":3,"distance_m":1500.0}
{"type":"signal","time":"2026-03-02T08:05:11.000Z","signal":"door","source":"control","door":1,"state":"open"}
{"type":"trip_started","time":"2026-03-02T08:10:00.000Z","trip_id":"T2","stop_id":"S3","stop_sequence":1,"stop_index":0,"distance_m":0.0}
{"type":"request","time":"2026-03-02T08:10:05.000Z","id":"req-2","kind":"blind","stop_id":"S5","fate":"pending"}
{"type":"departed","time":"2026-03-02T08:10:30.000Z","trip_id":"T2","stop_id":"S3","stop_sequence":1,"stop_index":0,"distance_m":10.0}
{"type":"next_stop","time":"2026-03-02T08:10:30.000Z","trip_id":"T2","stop_id":"S4","stop_sequence":2,"stop_index":1,"distance_m":10.0}
{"type":"announcement","time":"2026-03-02T08:10:30.020Z","id":"T2:1:next_stop","kind":"next_stop","priority":"stop","outputs":["interior"],"languages":["en"],"segments":["chime","speech"],"text":{"en":"Next stop: Delta"}}
{"type":"approaching","time":"2026-03-02T08:11:30.000Z","trip_id":"T2","stop_id":"S4","stop_sequence":2,"stop_index":1,"distance_m":480.0}
{"type":"announcement","time":"2026-03-02T08:11:30.020Z","id":"T2:1:approaching","kind":"approaching","priority":"stop","outputs":["interior"],"languages":["en"],"segments":["chime","speech"],"text":{"en":"Arriving at Delta"}}
{"type":"sound","time":"2026-03-02T08:11:30.100Z","id":"T2:1:approaching","output":"interior","after_ms":80.0,"mono_ns":8000}
{"type":"passed","time":"2026-03-02T08:11:40.000Z","trip_id":"T2","stop_id":"S4","stop_sequence":2,"stop_index":1,"distance_m":500.0}
{"type":"next_stop","time":"2026-03-02T08:11:40.000Z","trip_id":"T2","stop_id":"S5","stop_sequence":3,"stop_index":2,"distance_m":500.0}
{"type":"announcement","time":"2026-03-02T08:11:40.020Z","id":"T2:2:next_stop","kind":"next_stop","priority":"stop","outputs":["interior"],"languages":["en"],"segments":["chime","speech"],"text":{"en":"Next stop: Echo"}}
{"type":"sound","time":"2026-03-02T08:11:40.100Z","id":"T2:2:next_stop","output":"interior","after_ms":80.0,"mono_ns":9000}
{"type":"announcement_result","time":"2026-03-02T08:11:42.000Z","id":"T2:2:next_stop","output":"interior","outcome":"interrupted"}
{"type":"announcement","time":"2026-03-02T08:11:45.000Z","id":"T2:2:next_stop:repeat1","kind":"repeat","priority":"stop","outputs":["interior"],"languages":["en"],"segments":["chime","speech"],"text":{"en":"Next stop: Echo"}}
{"type":"sound","time":"2026-03-02T08:11:45.100Z","id":"T2:2:next_stop:repeat1","output":"interior","after_ms":80.0,"mono_ns":10000}
{"type":"announcement_result","time":"2026-03-02T08:11:48.000Z","id":"T2:2:next_stop:repeat1","output":"interior","outcome":"finished"}
{"type":"approaching","time":"2026-03-02T08:12:30.000Z","trip_id":"T2","stop_id":"S5","stop_sequence":3,"stop_index":2,"distance_m":960.0}
{"type":"announcement","time":"2026-03-02T08:12:30.020Z","id":"T2:2:approaching","kind":"approaching","priority":"stop","outputs":["interior"],"languages":["en"],"segments":["chime","speech"],"text":{"en":"Arriving at Echo"}}
{"type":"announcement_result","time":"2026-03-02T08:12:30.050Z","id":"T2:2:approaching","output":"interior","outcome":"failed"}
{"type":"sound","time":"2026-03-02T08:12:31.000Z","id":"T2:2:approaching","output":"interior","after_ms":980.0,"mono_ns":11000}
{"type":"passed","time":"2026-03-02T08:12:40.000Z","trip_id":"T2","stop_id":"S5","stop_sequence":3,"stop_index":2,"distance_m":1000.0}
{"type":"request","time":"2026-03-02T08:12:40.000Z","id":"req-2","kind":"blind","stop_id":"S5","fate":"missed","why":"the bus passed the stop"}
{"type":"next_stop","time":"2026-03-02T08:12:40.000Z","trip_id":"T2","stop_id":"S6","stop_sequence":4,"stop_index":3,"distance_m":1000.0}
{"type":"position_uncertain","time":"2026-03-02T08:13:00.000Z","trip_id":"T2","distance_m":1200.0}
{"type":"arrived","time":"2026-03-02T08:13:20.000Z","trip_id":"T2","stop_id":"S6","stop_sequence":4,"stop_index":3,"distance_m":1500.0}
{"type":"trip_ended","time":"2026-03-02T08:13:20.000Z","trip_id":"T2","stop_id":"S6","stop_sequence":4,"stop_index":3,"distance_m":1500.0}
)";
// Counted by hand:
//
// T1 (day 2026-03-02):
//   stops: arrived 1, arrived 2, arrived 3 (index 0 is not counted)                      = 3
//   next stop heard: T1:1, T1:2, T1:3 each have an interior sound                        = 3
//   arriving heard: T1:1 and T1:3; T1:2 expired (the bus was there) and never sounded   = 2
//   exterior: arrived/doors at 1 and 2 (3 is the terminus, not counted) = 2 stops, both
//             had an exterior_route with an exterior sound                                = 2 of 2
//   failures: approaching expired 1; never heard: T1:2:approaching                      = 1, 1
//   ramp: deployed 08:03:08, stowed 08:03:40 = 1 cycle; 1 ramp_moving_alarm prompt (active)
//   requests: req-1 (wheelchair) served at 08:03:45 while T1 runs                        = 1
//   GPS: lost 08:02:10.000 -> restored 08:02:55.500                                      = 45.5 s
// T2 (day 2026-03-02):
//   stops: passed 1, passed 2, arrived 3                                                 = 3
//   next stop heard: T2:1 never sounded (no result either); T2:2 sounded, then was
//             interrupted, and its repeat finished (heard); T2:3 was never announced    = 1
//   arriving heard: T2:1 yes; T2:2 "failed" inside before its sound (not counted);
//             T2:3 never announced                                                       = 1
//   exterior: no doors; arrived only at 3, the terminus                                  = 0 of 0
//   failures: next_stop interrupted 1, approaching failed 1; never heard: T2:1:next_stop
//   requests: req-2 (blind) missed at 08:12:40                                           = 1
//   GPS: position_uncertain 08:13:00 -> trip_ended 08:13:20 (never restored)            = 20 s
// Total: stops 6, next stop 4 (0.667), arriving 3 (0.500), exterior 2 of 2, expired 1,
//   interrupted 1, cancelled 0, failed 1, never heard 2, ramp cycles 1, alarms 1, served 1,
//   missed 1, GPS 65.5 s. Announcements: next_stop 5 (4 heard), approaching 5 (4 heard: T2:2
//   did sound after failing), exterior_route 2, repeat 1.

}  // namespace stopcall::testing::report
