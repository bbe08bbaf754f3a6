#!/usr/bin/env python3
"""Generate stopcall's bundled demo route: bus 101 along Shennan Boulevard (深南大道), Shenzhen.

Writes two folders next to this script:

  shenzhen-101/        a GTFS feed: agency, feed_info, routes, stops, shapes, calendar,
                       calendar_dates, trips, stop_times, translations
  shenzhen-101-extra/  stopcall's own announcement data for `--extra`: stop_phrases.csv,
                       route_exterior.csv, stop_clips.csv, messages.csv and clips/*.wav

Standard library only. Running it again rewrites both folders with identical bytes. The WAV clips
are synthesised with espeak-ng when it is installed; without it the clips already in
shenzhen-101-extra/clips/ are kept (and a clip that is missing is left out of stop_clips.csv).

Demo data: the stops are modelled on the real Shennan Boulevard, but the coordinates are
approximate and the timetable is invented. It is not an official timetable.
"""

import array
import csv
import math
import shutil
import subprocess
import sys
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
FEED_DIR = HERE / "shenzhen-101"
EXTRA_DIR = HERE / "shenzhen-101-extra"

# --------------------------------------------------------------------------------------------
# Geometry: a local equirectangular projection is plenty for a 13 km route.

EARTH_RADIUS_M = 6371008.8
ORIGIN_LAT, ORIGIN_LON = 22.54, 114.03
M_PER_DEG_LAT = math.radians(1) * EARTH_RADIUS_M
M_PER_DEG_LON = M_PER_DEG_LAT * math.cos(math.radians(ORIGIN_LAT))


def to_xy(lat, lon):
    """Degrees to metres east (x) and north (y) of the origin."""
    return ((lon - ORIGIN_LON) * M_PER_DEG_LON, (lat - ORIGIN_LAT) * M_PER_DEG_LAT)


def to_latlon(x, y):
    return (ORIGIN_LAT + y / M_PER_DEG_LAT, ORIGIN_LON + x / M_PER_DEG_LON)


class Polyline:
    """A polyline in metres with cumulative distance ("chainage") along it."""

    def __init__(self, points):
        self.points = list(points)
        self.chainage = [0.0]
        for (x0, y0), (x1, y1) in zip(self.points, self.points[1:]):
            self.chainage.append(self.chainage[-1] + math.hypot(x1 - x0, y1 - y0))

    @property
    def length(self):
        return self.chainage[-1]

    def _segment(self, s):
        """Index i of the segment points[i]..points[i+1] that contains chainage s."""
        lo, hi = 0, len(self.points) - 2
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.chainage[mid] <= s:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def at(self, s):
        """Point and unit tangent at chainage s."""
        i = self._segment(s)
        (x0, y0), (x1, y1) = self.points[i], self.points[i + 1]
        seg = self.chainage[i + 1] - self.chainage[i]
        t = (s - self.chainage[i]) / seg
        return (x0 + t * (x1 - x0), y0 + t * (y1 - y0)), ((x1 - x0) / seg, (y1 - y0) / seg)

    def beside(self, s, right_m):
        """The point right_m metres to the right of chainage s (facing the way chainage grows);
        negative right_m is to the left."""
        (x, y), (tx, ty) = self.at(s)
        return (x + ty * right_m, y - tx * right_m)

    def project(self, p):
        """(chainage, distance) of the point on the polyline nearest to p."""
        best = (math.inf, 0.0)
        px, py = p
        for i, ((x0, y0), (x1, y1)) in enumerate(zip(self.points, self.points[1:])):
            dx, dy = x1 - x0, y1 - y0
            t = max(0.0, min(1.0, ((px - x0) * dx + (py - y0) * dy) / (dx * dx + dy * dy)))
            d = math.hypot(px - (x0 + t * dx), py - (y0 + t * dy))
            if d < best[0]:
                best = (d, self.chainage[i] + t * math.hypot(dx, dy))
        return best[1], best[0]


def catmull_rom(points, steps):
    """A smooth curve through `points` (gentle bends instead of corners), `steps` per span."""
    padded = [points[0]] + list(points) + [points[-1]]
    out = []
    for i in range(1, len(padded) - 2):
        p0, p1, p2, p3 = padded[i - 1:i + 3]
        for k in range(steps):
            t = k / steps
            out.append(tuple(
                0.5 * (2 * b + (c - a) * t + (2 * a - 5 * b + 4 * c - d) * t * t
                       + (3 * b - a - 3 * c + d) * t * t * t)
                for a, b, c, d in zip(p0, p1, p2, p3)))
    out.append(tuple(points[-1]))
    return out


# Centre line of Shennan Boulevard, west to east (lat, lon), from just west of 世界之窗 to 大剧院.
ROAD_WAYPOINTS = [
    (22.5370, 113.9695), (22.5373, 113.9760), (22.5381, 113.9830), (22.5393, 113.9900),
    (22.5404, 113.9970), (22.5410, 114.0040), (22.5411, 114.0110), (22.5406, 114.0180),
    (22.5401, 114.0250), (22.5400, 114.0330), (22.5402, 114.0420), (22.5404, 114.0510),
    (22.5405, 114.0600), (22.5406, 114.0690), (22.5410, 114.0780), (22.5418, 114.0860),
    (22.5430, 114.0940), (22.5440, 114.1010),
]
ROAD = Polyline(catmull_rom([to_xy(*p) for p in ROAD_WAYPOINTS], steps=100))  # ~7 m steps

LANE_OFFSET_M = 10      # each direction's shape runs this far right of the centre line
PLATFORM_OFFSET_M = 16  # a platform is this far right of the centre line (6 m from its shape)
PLATFORM_STAGGER_M = 8  # each platform sits this far past its station (far side of the junction)
SHAPE_OVERRUN_M = 20    # a shape starts this far before its first stop and ends after its last
SHAPE_SPACING_M = 75    # at most this far between shape points

# --------------------------------------------------------------------------------------------
# Stops. Each station (location_type 1) has two platforms on opposite sides of the road:
#   <ID>-E  eastbound, south side, direction_id 0 (世界之窗 → 大剧院)
#   <ID>-W  westbound, north side, direction_id 1 (大剧院 → 世界之窗)


@dataclass
class Station:
    id: str
    zh: str   # stop_name (Simplified Chinese, the feed language)
    yue: str  # Cantonese, Traditional characters
    en: str
    lon: float  # where the station sits along the road


STATIONS = [
    Station("SJZC", "世界之窗", "世界之窗", "Window of the World", 113.9728),
    Station("HQC", "华侨城", "華僑城", "OCT", 113.9868),
    Station("QCD", "侨城东", "僑城東", "Qiaocheng East", 113.9990),
    Station("ZZL", "竹子林", "竹子林", "Zhuzilin", 114.0125),
    Station("CGM", "车公庙", "車公廟", "Chegongmiao", 114.0225),
    Station("XMH", "香蜜湖", "香蜜湖", "Xiangmihu", 114.0345),
    Station("NYL", "农园路", "農園路", "Nongyuan Road", 114.0435),
    Station("SMZX", "市民中心", "市民中心", "Civic Center", 114.0555),
    Station("HZZX", "会展中心", "會展中心", "Convention & Exhibition Center", 114.0615),
    Station("GX", "岗厦", "崗廈", "Gangxia", 114.0680),
    Station("SHBG", "上海宾馆", "上海賓館", "Shanghai Hotel", 114.0745),
    Station("HQLK", "华强路口", "華強路口", "Huaqiang Road", 114.0805),
    Station("KXG", "科学馆", "科學館", "Science Museum", 114.0885),
    Station("DJY", "大剧院", "大劇院", "Grand Theater", 114.0985),
]
STATION = {st.id: st for st in STATIONS}

# tts_stop_name: what a speech engine should be given where it would misread the name.
TTS_ZH = {"GX": "岗夏"}  # 厦 is xià here (as in 厦门); engines say shà (as in 大厦)
TTS_EN = {  # translations of tts_stop_name into English
    "HQC": "O C T",            # an initialism, not the month "Oct"
    "XMH": "Shyang-mee-hoo",   # English engines read pinyin x as "z"
    "ZZL": "Joo zuh lin",      # ... and zh as "zj"
}

# wheelchair_boarding as (station, eastbound platform, westbound platform); everything else is 1.
WHEELCHAIR = {
    "NYL": (0, 0, 1),   # eastbound platform not surveyed yet: unknown (0 here and on the station)
    "SHBG": (1, 1, 2),  # westbound platform: high kerb, no room for the ramp
}

BUSY = {"HQC", "CGM", "SMZX", "HZZX", "HQLK"}       # 30 s dwell; other stops 20 s
TIMEPOINTS = {"SJZC", "CGM", "SMZX", "HQLK", "DJY"}  # timepoint=1; others are approximate

ROUTE_ID = "101"
DIRECTIONS = {  # direction_id -> platform suffix, shape_id, stations in order
    0: ("E", "101-E", [st.id for st in STATIONS]),
    1: ("W", "101-W", [st.id for st in reversed(STATIONS)]),
}


def headsign(direction, lang):
    last = STATION[DIRECTIONS[direction][2][-1]]
    return {"zh-Hans": last.zh, "yue": last.yue, "en": last.en}[lang]


# --------------------------------------------------------------------------------------------
# Timetable


@dataclass
class Service:
    id: str
    code: str        # short form used in trip and block ids
    days: tuple      # Monday .. Sunday
    headway_min: int
    run_min: int     # scheduled first departure to last arrival


# The run time is chosen so that run time + LAYOVER is a whole number of headways: a bus that
# arrives at one end leaves again LAYOVER later on that end's next timetabled departure.
# Weekdays: 45 min (about 19 km/h moving, 17 km/h with dwells); weekends: lighter traffic, 40 min.
SERVICES = [
    Service("WEEKDAY", "WD", (1, 1, 1, 1, 1, 0, 0), headway_min=10, run_min=45),
    Service("WEEKEND", "WE", (0, 0, 0, 0, 0, 1, 1), headway_min=15, run_min=40),
]
FIRST_DEPARTURE_S = 6 * 3600 + 30 * 60
LAST_DEPARTURE_S = 22 * 3600 + 30 * 60
LAYOVER_S = 5 * 60
ACCEL_LOSS_S = 15  # per stop-to-stop run, for slowing down and pulling away
HOLIDAY = "20261001"  # National Day, a Thursday: weekend timetable instead of weekday


def hms(seconds):
    return "%02d:%02d:%02d" % (seconds // 3600, seconds // 60 % 60, seconds % 60)


# --------------------------------------------------------------------------------------------
# Extra announcement data (stopcall's own; see README.md for the formats)

METRO_PHRASES = {  # station -> text per language, on both of its platforms
    "CGM": {"zh-Hans": "可换乘地铁1号线、7号线、9号线、11号线",
            "yue": "可轉乘地鐵1號線、7號線、9號線、11號線",
            "en": "Transfer to Metro Lines 1, 7, 9 and 11"},
    "SMZX": {"zh-Hans": "可换乘地铁2号线、4号线",
             "yue": "可轉乘地鐵2號線、4號線",
             "en": "Transfer to Metro Lines 2 and 4"},
    "HZZX": {"zh-Hans": "可换乘地铁1号线、4号线",
             "yue": "可轉乘地鐵1號線、4號線",
             "en": "Transfer to Metro Lines 1 and 4"},
}
EXTERIOR = {"zh-Hans": "101路，开往{headsign}", "yue": "101號巴士，開往{headsign}",
            "en": "Route 101 to {headsign}"}

# Messages the driver can give (messages.csv): emergencies repeat until acknowledged, service
# messages are said after the current announcement and after stop departures. Per message:
# (id, kind, outputs, repeat_interval_s, repeat_count, expires_after_min,
#  title per language, text per language, spoken form per language where it differs).
MESSAGE_LANGS = ("zh-Hans", "yue", "en")
MESSAGES = [
    ("evacuate", "emergency", "both", 20, "", "",
     ("紧急疏散", "緊急疏散", "Evacuate"),
     ("紧急情况，请保持冷静，从最近的车门有序下车，并听从司机指示。",
      "緊急情況，請保持冷靜，由最近嘅車門有秩序噉落車，並聽從司機指示。",
      "Emergency. Please stay calm, leave the bus by the nearest door and follow the driver's "
      "instructions."),
     ("", "", "")),
    ("fire", "emergency", "both", 15, "", "",
     ("火警", "火警", "Fire"),
     ("车上发生火警，请立即下车，远离车辆。",
      "車上發生火警，請即刻落車，行遠啲，唔好埋近架車。",
      "Fire reported on the bus. Leave the bus now and keep well clear of it."),
     ("", "", "")),
    # Not a danger: said (inside and to the riders waiting outside) after what is playing.
    ("breakdown", "service", "both", "", 1, 60,
     ("车辆故障", "車輛故障", "Breakdown"),
     ("本车发生故障，暂停服务。请下车等候下一班车，换乘免费。",
      "本車發生故障，暫停服務。請落車等下一班車，轉車免費。",
      "This bus has broken down and is out of service. Please get off and wait for the next "
      "bus; your transfer is free."),
     ("", "", "")),
    ("detour", "service", "interior", "", 2, 480,
     ("临时绕行", "臨時改道", "Detour"),
     ("因道路施工，本线临时绕行，不停靠岗厦站，请在会展中心站或上海宾馆站上下车。",
      "由於道路施工，本線臨時改道，唔停崗廈站，請喺會展中心站或者上海賓館站上落車。",
      "Because of roadworks this bus is on a detour and does not stop at Gangxia. Please use "
      "Convention & Exhibition Center or Shanghai Hotel instead."),
     # Said with the stop's tts_stop_name, so that 厦 is read xià.
     ("因道路施工，本线临时绕行，不停靠%s站，请在会展中心站或上海宾馆站上下车。" % TTS_ZH["GX"],
      "", "")),
    ("typhoon", "service", "both", "", 3, 120,
     ("台风停运", "颱風停駛", "Typhoon"),
     ("8号台风信号已生效，本车完成此程后暂停服务，请尽早安排行程。",
      "8號風球已經生效，本車行完呢程之後暫停服務，請盡早安排行程。",
      "Typhoon Signal No. 8 is in force. Service is suspended after this trip; please plan your "
      "journey now."),
     ("八号台风信号已生效，本车完成此程后暂停服务，请尽早安排行程。",
      "八號風球已經生效，本車行完呢程之後暫停服務，請盡早安排行程。",
      "Typhoon signal number eight is in force. Service is suspended after this trip; please "
      "plan your journey now.")),
    ("toilet", "service", "interior", "", 1, "",
     ("无障碍洗手间", "無障礙洗手間", "Accessible toilet"),
     ("终点站设有无障碍洗手间。", "總站有無障礙洗手間。",
      "There is an accessible toilet at the terminus."),
     ("", "", "")),
]

# espeak-ng 1.51's "cmn" voice reads its own pinyin as English ("gang three"); the
# cmn-latn-pinyin voice does not (espeak-ng issue #1236). "cmn" is the fallback.
MANDARIN_VOICES = ("cmn-latn-pinyin", "cmn")
CLIP_RATE = 16000  # Hz, 16-bit mono

CLIPS = [  # (stations, language, purpose, file, text shown, text given to espeak-ng, voices)
    (("GX",), "zh-Hans", "name", "clips/gangxia-name-zh-Hans.wav",
     "岗厦", TTS_ZH["GX"], MANDARIN_VOICES),
    (("HZZX",), "yue", "phrase", "clips/huizhanzhongxin-phrase-yue.wav",
     METRO_PHRASES["HZZX"]["yue"], METRO_PHRASES["HZZX"]["yue"], ("yue",)),
]


# --------------------------------------------------------------------------------------------
# Building the feed


def write_csv(path, header, rows):
    """UTF-8 without BOM, LF line endings, RFC 4180 quoting where needed."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def station_chainage(lon):
    """Chainage along ROAD where it reaches longitude lon (the road runs steadily east)."""
    target_x = to_xy(0, lon)[0]
    lo, hi = 0.0, ROAD.length
    for _ in range(60):
        mid = (lo + hi) / 2
        if ROAD.at(mid)[0][0] < target_x:
            lo = mid
        else:
            hi = mid
    return lo


def build_stops():
    """stops.txt rows, and each platform's position in metres keyed by stop_id."""
    rows, positions = [], {}
    for i, st in enumerate(STATIONS, start=1):
        s = station_chainage(st.lon)
        wc_station, wc_east, wc_west = WHEELCHAIR.get(st.id, (1, 1, 1))
        tts = TTS_ZH.get(st.id, "")
        lat, lon = to_latlon(*ROAD.at(s)[0])
        rows.append([st.id, "", st.zh, tts, "%.6f" % lat, "%.6f" % lon, 1, "", wc_station])
        for suffix, along, right, code, wc in (
                ("E", s + PLATFORM_STAGGER_M, PLATFORM_OFFSET_M, 20100 + i, wc_east),
                ("W", s - PLATFORM_STAGGER_M, -PLATFORM_OFFSET_M, 20200 + i, wc_west)):
            stop_id = "%s-%s" % (st.id, suffix)
            p = ROAD.beside(along, right)
            positions[stop_id] = p
            lat, lon = to_latlon(*p)
            rows.append([stop_id, code, st.zh, tts, "%.6f" % lat, "%.6f" % lon, 0, st.id, wc])
    return rows, positions


def build_shape(direction):
    """The shape's points in metres: the lane LANE_OFFSET_M right of the centre line."""
    stations = DIRECTIONS[direction][2]
    first = station_chainage(STATION[stations[0]].lon)
    last = station_chainage(STATION[stations[-1]].lon)
    step = 1 if direction == 0 else -1  # which way along the centre line the bus travels
    start = first + step * (PLATFORM_STAGGER_M - SHAPE_OVERRUN_M)
    end = last + step * (PLATFORM_STAGGER_M + SHAPE_OVERRUN_M)
    n = math.ceil(abs(end - start) / SHAPE_SPACING_M)
    return Polyline(ROAD.beside(start + (end - start) * k / n, step * LANE_OFFSET_M)
                    for k in range(n + 1))


def stop_offsets(direction, shape, positions, service):
    """Per stop: (stop_id, station, distance along shape, arrival and departure in seconds
    after the trip's first departure)."""
    suffix, _, stations = DIRECTIONS[direction]
    stops = []
    for sid in stations:
        stop_id = "%s-%s" % (sid, suffix)
        dist, off = shape.project(positions[stop_id])
        assert off < 15, (stop_id, off)
        stops.append((stop_id, sid, dist))
    dwell = [0] + [30 if sid in BUSY else 20 for _, sid, _ in stops[1:-1]] + [0]
    weights = [(b[2] - a[2]) / 8.0 + ACCEL_LOSS_S for a, b in zip(stops, stops[1:])]
    moving = service.run_min * 60 - sum(dwell)
    out, t = [], 0.0
    for k, (stop_id, station, dist) in enumerate(stops):
        if k > 0:
            t += moving * weights[k - 1] / sum(weights)
        arrival = round(t)
        t += dwell[k]
        out.append((stop_id, station, dist, arrival, round(t)))
    return out


def build_feed():
    FEED_DIR.mkdir(parents=True, exist_ok=True)
    for old in FEED_DIR.glob("*.txt"):
        old.unlink()

    def write(name, header, rows):
        write_csv(FEED_DIR / name, header, rows)

    write("agency.txt",
          ["agency_id", "agency_name", "agency_url", "agency_timezone", "agency_lang"],
          [["SZBUS", "深圳巴士集团", "https://www.szbus.com.cn/", "Asia/Shanghai", "zh-Hans"]])
    write("feed_info.txt",
          ["feed_publisher_name", "feed_publisher_url", "feed_lang", "feed_start_date",
           "feed_end_date", "feed_version"],
          [["stopcall demo data (not an official timetable)", "https://example.org/stopcall",
            "zh-Hans", "20260101", "20271231", "2026.11-demo"]])
    write("routes.txt",
          ["route_id", "agency_id", "route_short_name", "route_long_name", "route_type",
           "route_color", "route_text_color"],
          [[ROUTE_ID, "SZBUS", "101", "世界之窗—大剧院", 3, "0057A8", "FFFFFF"]])

    stop_rows, positions = build_stops()
    write("stops.txt",
          ["stop_id", "stop_code", "stop_name", "tts_stop_name", "stop_lat", "stop_lon",
           "location_type", "parent_station", "wheelchair_boarding"], stop_rows)

    shapes = {d: build_shape(d) for d in DIRECTIONS}
    shape_rows = []
    for d, shape in shapes.items():
        for k, (p, dist) in enumerate(zip(shape.points, shape.chainage), start=1):
            lat, lon = to_latlon(*p)
            shape_rows.append([DIRECTIONS[d][1], "%.6f" % lat, "%.6f" % lon, k, "%.1f" % dist])
    write("shapes.txt",
          ["shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence",
           "shape_dist_traveled"], shape_rows)

    write("calendar.txt",
          ["service_id", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
           "sunday", "start_date", "end_date"],
          [[svc.id, *svc.days, "20260101", "20271231"] for svc in SERVICES])
    write("calendar_dates.txt", ["service_id", "date", "exception_type"],
          [["WEEKDAY", HOLIDAY, 2], ["WEEKEND", HOLIDAY, 1]])

    trip_rows, time_rows = [], []
    for svc in SERVICES:
        offsets = {d: stop_offsets(d, shapes[d], positions, svc) for d in DIRECTIONS}
        trips = [(dep, d) for dep in range(FIRST_DEPARTURE_S, LAST_DEPARTURE_S + 1,
                                           svc.headway_min * 60) for d in DIRECTIONS]
        # Blocks: a bus arriving at one end takes the first departure there at least LAYOVER_S
        # later; terminal 0 is 世界之窗 (where direction 0 starts), terminal 1 is 大剧院.
        waiting = {0: [], 1: []}  # terminal -> [(ready_s, block number)], earliest first
        blocks = 0
        for dep, d in trips:
            if waiting[d] and waiting[d][0][0] <= dep:
                block = waiting[d].pop(0)[1]
            else:
                blocks += 1
                block = blocks
            waiting[1 - d].append((dep + svc.run_min * 60 + LAYOVER_S, block))
            suffix, shape_id, _ = DIRECTIONS[d]
            trip_id = "101-%s-%s-%s" % (svc.code, suffix, hms(dep)[:5].replace(":", ""))
            trip_rows.append([ROUTE_ID, svc.id, trip_id, headsign(d, "zh-Hans"), d,
                              "101-%s-%02d" % (svc.code, block), shape_id, 1])
            last = len(offsets[d])
            for seq, (stop_id, station, dist, arr, dpt) in enumerate(offsets[d], start=1):
                time_rows.append([trip_id, hms(dep + arr), hms(dep + dpt), stop_id, seq,
                                  1 if seq == last else 0, 1 if seq == 1 else 0,
                                  "%.1f" % dist, 1 if station in TIMEPOINTS else 0])
    write("trips.txt",
          ["route_id", "service_id", "trip_id", "trip_headsign", "direction_id", "block_id",
           "shape_id", "wheelchair_accessible"], trip_rows)
    write("stop_times.txt",
          ["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence",
           "pickup_type", "drop_off_type", "shape_dist_traveled", "timepoint"], time_rows)

    tr = []  # table_name, field_name, language, translation, record_id, record_sub_id, field_value
    tr.append(["agency", "agency_name", "en", "Shenzhen Bus Group", "SZBUS", "", ""])
    tr.append(["agency", "agency_name", "yue", "深圳巴士集團", "SZBUS", "", ""])
    tr.append(["routes", "route_long_name", "en", "Window of the World – Grand Theater",
               ROUTE_ID, "", ""])
    tr.append(["routes", "route_long_name", "yue", "世界之窗—大劇院", ROUTE_ID, "", ""])
    for d in DIRECTIONS:
        for lang in ("en", "yue"):
            tr.append(["trips", "trip_headsign", lang, headsign(d, lang), "", "",
                       headsign(d, "zh-Hans")])
    for row in stop_rows:
        st = STATION[row[0].split("-")[0]]
        tr.append(["stops", "stop_name", "en", st.en, row[0], "", ""])
        tr.append(["stops", "stop_name", "yue", st.yue, row[0], "", ""])
        if st.id in TTS_EN:
            tr.append(["stops", "tts_stop_name", "en", TTS_EN[st.id], row[0], "", ""])
    write("translations.txt",
          ["table_name", "field_name", "language", "translation", "record_id", "record_sub_id",
           "field_value"], tr)
    return positions


# --------------------------------------------------------------------------------------------
# Extra folder


def synthesise(text, voices, path):
    """Speak text with the first espeak-ng voice that works; store it as CLIP_RATE Hz 16-bit
    mono WAV with the silence at both ends trimmed. False if espeak-ng could not do it."""
    espeak = shutil.which("espeak-ng")
    if not espeak:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        for voice in voices:
            done = subprocess.run([espeak, "-v", voice, "-w", str(raw), text],
                                  capture_output=True)
            if done.returncode == 0 and raw.exists() and raw.stat().st_size > 44:
                break
        else:
            return False
        with wave.open(str(raw), "rb") as w:
            assert w.getnchannels() == 1 and w.getsampwidth() == 2, "espeak-ng: not 16-bit mono"
            rate = w.getframerate()
            samples = array.array("h", w.readframes(w.getnframes()))
    if sys.byteorder == "big":
        samples.byteswap()
    loud = [i for i, v in enumerate(samples) if abs(v) > 300]
    if loud:
        pad = rate // 20
        samples = samples[max(0, loud[0] - pad):loud[-1] + pad]
    if rate > CLIP_RATE:
        # [1 2 1]/4 smoothing against aliasing, then linear interpolation.
        smooth = [(samples[max(i - 1, 0)] + 2 * samples[i] + samples[min(i + 1, len(samples) - 1)])
                  / 4 for i in range(len(samples))]
        out = array.array("h")
        for k in range(int((len(smooth) - 1) * CLIP_RATE / rate) + 1):
            pos = k * rate / CLIP_RATE
            i = int(pos)
            j = min(i + 1, len(smooth) - 1)
            out.append(int(round(smooth[i] + (smooth[j] - smooth[i]) * (pos - i))))
        samples, rate = out, CLIP_RATE
    if sys.byteorder == "big":
        samples.byteswap()
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return True


def build_extra(positions):
    EXTRA_DIR.mkdir(parents=True, exist_ok=True)
    langs = ("zh-Hans", "yue", "en")

    def platforms(station):
        return [p for p in ("%s-E" % station, "%s-W" % station) if p in positions]

    write_csv(EXTRA_DIR / "stop_phrases.csv", ["stop_id", "language", "text"],
              [[stop_id, lang, texts[lang]]
               for station, texts in METRO_PHRASES.items()
               for stop_id in platforms(station) for lang in langs])
    write_csv(EXTRA_DIR / "route_exterior.csv", ["route_id", "language", "text"],
              [[ROUTE_ID, lang, EXTERIOR[lang]] for lang in langs])

    write_csv(EXTRA_DIR / "messages.csv",
              ["message_id", "kind", "outputs", "repeat_interval_s", "repeat_count",
               "expires_after_min"]
              + ["%s_%s" % (purpose, lang) for purpose in ("title", "text", "spoken")
                 for lang in MESSAGE_LANGS],
              [[mid, kind, outputs, interval, count, expires, *titles, *texts, *spoken]
               for mid, kind, outputs, interval, count, expires, titles, texts, spoken
               in MESSAGES])

    rows = []
    for stations, lang, purpose, file, shown, spoken, voices in CLIPS:
        path = EXTRA_DIR / file
        if not synthesise(spoken, voices, path):
            if path.exists():
                print("espeak-ng unavailable: keeping %s" % file, file=sys.stderr)
            else:
                print("espeak-ng unavailable and %s missing: left out" % file, file=sys.stderr)
                continue
        for station in stations:
            rows.extend([stop_id, lang, purpose, file, shown] for stop_id in platforms(station))
    write_csv(EXTRA_DIR / "stop_clips.csv", ["stop_id", "language", "purpose", "file", "text"],
              rows)


def main():
    positions = build_feed()
    build_extra(positions)
    print("wrote %s and %s" % (FEED_DIR.relative_to(HERE), EXTRA_DIR.relative_to(HERE)))


if __name__ == "__main__":
    main()
