"""Stream-level change detection (river's ADWIN and Page-Hinkley) over window statistics.

Each statistic (e.g. ``oov_rate``, ``churn``, ``w2v_loss``) gets its own detectors. Values
are standardised with the mean and standard deviation of the statistic's first
``warmup`` values (frozen afterwards; the std is floored at ``min_std`` times the mean's
magnitude, or ``1e-3``), so one set of thresholds fits statistics of any scale. No alarm
is raised during the warmup. river's detectors restart after an alarm (ADWIN drops the
old part of its window, Page-Hinkley resets), so a lasting change alarms once per
detector rather than on every later window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

DETECTORS = ("adwin", "page_hinkley")


class _Stat:
    def __init__(self, owner: DriftAlarms) -> None:
        self.owner = owner
        self.reset()

    def reset(self) -> None:
        from river import drift  # imported on first use: ~1 s, needed only with alarms

        o = self.owner
        self.warm: list[float] = []
        self.mean = 0.0
        self.std = 1.0
        self.detectors: dict[str, Any] = {}
        if "adwin" in o.detectors:
            self.detectors["adwin"] = drift.ADWIN(
                delta=o.adwin_delta, clock=1, min_window_length=o.min_window, grace_period=1
            )
        if "page_hinkley" in o.detectors:
            self.detectors["page_hinkley"] = drift.PageHinkley(
                min_instances=o.min_window, delta=o.ph_delta, threshold=o.ph_threshold
            )


class DriftAlarms:
    """ADWIN / Page-Hinkley alarms over per-window stream statistics.

    Args:
        statistics: names watched (others passed to ``update`` are ignored); ``None``
            watches every statistic seen.
        detectors: any of ``"adwin"``, ``"page_hinkley"``.
        warmup: values used to fix each statistic's mean and std.
        adwin_delta: ADWIN confidence (smaller: fewer alarms).
        ph_delta: Page-Hinkley tolerated drift, in standard deviations.
        ph_threshold: Page-Hinkley alarm threshold, in standard deviations (cumulative).
        min_window: least values a detector sees before it may alarm.
        min_std: floor of the std relative to the warmup mean's magnitude.
    """

    def __init__(
        self,
        statistics: Sequence[str] | None = ("oov_rate", "churn", "w2v_loss"),
        detectors: tuple[str, ...] = DETECTORS,
        warmup: int = 10,
        adwin_delta: float = 0.002,
        ph_delta: float = 0.5,
        ph_threshold: float = 15.0,
        min_window: int = 5,
        min_std: float = 0.05,
    ) -> None:
        unknown = set(detectors) - set(DETECTORS)
        if unknown:
            raise ValueError(f"unknown detectors {sorted(unknown)}; choose from {DETECTORS}")
        self.statistics = None if statistics is None else list(statistics)
        self.detectors = tuple(detectors)
        self.warmup = max(2, warmup)
        self.adwin_delta = adwin_delta
        self.ph_delta = ph_delta
        self.ph_threshold = ph_threshold
        self.min_window = min_window
        self.min_std = min_std
        self.alarms = 0
        self._stats: dict[str, _Stat] = {}
        self._history: list[tuple[str, dict[str, float]]] = []

    def update(self, stats: dict[str, float], time: str) -> list[dict[str, Any]]:
        """Feed one window's statistics; return alarm events
        ``{"time", "statistic", "detector", "value"}``."""
        self._history.append((time, {k: float(v) for k, v in stats.items()}))
        return self._feed(stats, time)

    def _feed(self, stats: dict[str, float], time: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        for name, value in stats.items():
            if self.statistics is not None and name not in self.statistics:
                continue
            value = float(value)
            if not math.isfinite(value):
                continue
            stat = self._stats.get(name)
            if stat is None:
                stat = self._stats[name] = _Stat(self)
            if len(stat.warm) < self.warmup:
                stat.warm.append(value)
                if len(stat.warm) == self.warmup:
                    mean = sum(stat.warm) / len(stat.warm)
                    var = sum((v - mean) ** 2 for v in stat.warm) / (len(stat.warm) - 1)
                    stat.mean = mean
                    stat.std = max(math.sqrt(var), self.min_std * abs(mean), 1e-3)
                    for v in stat.warm:
                        for det in stat.detectors.values():
                            det.update((v - mean) / stat.std)
                continue
            z = (value - stat.mean) / stat.std
            fired = []
            for det_name, det in stat.detectors.items():
                det.update(z)
                if det.drift_detected:
                    fired.append(det_name)
            for det_name in fired:
                events.append(
                    {"time": time, "statistic": name, "detector": det_name, "value": value}
                )
        self.alarms += len(events)
        return events

    def state_dict(self) -> dict[str, Any]:
        """JSON-able state: the statistics seen so far (detectors are rebuilt by replay)."""
        return {"history": [[t, s] for t, s in self._history]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._stats = {}
        self._history = []
        self.alarms = 0
        for time, stats in state["history"]:
            self._history.append((time, dict(stats)))
            self._feed(stats, time)
