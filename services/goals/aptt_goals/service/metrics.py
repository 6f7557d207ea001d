"""The goals service's own metrics: how goals fare, never who (no student or guardian ids)."""

from __future__ import annotations

from prometheus_client import Counter

SMART_CHECKS = Counter(
    "aptt_goal_smart_checks",
    "SMART checks run through the check route, by check and result (passed, failed).",
    ["check", "result"],
)
GOALS_SET = Counter("aptt_goals_set", "Goals set by guardians.")
GOALS_CLOSED = Counter(
    "aptt_goals_closed",
    "Goals closed, by outcome (met, not_met) and reason (ended, closed_early).",
    ["outcome", "reason"],
)
PRACTICE_LOGGED = Counter("aptt_goal_practice_logged", "Practice sessions logged by families.")

for _check in ("specific", "measurable", "action_oriented", "realistic", "time_bound"):
    for _result in ("passed", "failed"):
        SMART_CHECKS.labels(_check, _result)
for _outcome in ("met", "not_met"):
    for _reason in ("ended", "closed_early"):
        GOALS_CLOSED.labels(_outcome, _reason)
