"""Pure row building and formatting (no Textual app needed)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from iagent_tui.model import Event
from iagent_tui.insights.assessment import Assessor
from screens.format import duration, money
from screens.rows import View, event_matters, event_rows, filter_rows, pod_rows, profile_rows, target_rows

from .fixtures import NOW, mid_migration


@pytest.mark.parametrize("seconds, text", [
    (None, "-"), (0, "0s"), (59.9, "59s"), (60, "1m00s"), (125, "2m05s"), (600, "10m"), (3600, "1h"),
    (3660, "1h1m"), (86400, "1d"), (90000, "1d1h"), (-5, "0s"),
])
def test_duration(seconds, text):
    assert duration(seconds) == text


def test_money_keeps_fractions_of_a_cent():
    assert money(0.0123425) == "$0.0123"
    assert money(9.01, 2) == "$9.01"
    assert money(None) == "-"


def event(reason: str, component: str = "kubelet", type_: str = "Normal", kind: str = "Pod") -> Event:
    return Event("default", kind, "x", reason, type_, "m", component, 1, NOW)


def test_events_that_matter_to_a_fargate_migration():
    assert event_matters(event("Scheduled", component="fargate-scheduler"))
    assert event_matters(event("FailedScheduling", component="default-scheduler", type_="Warning"))
    assert event_matters(event("Pulled"))
    assert event_matters(event("SuccessfullyReconciled", kind="TargetGroupBinding", component="targetGroupBinding"))
    assert not event_matters(event("Started"))
    assert not event_matters(event("Scheduled", component="default-scheduler"))


def test_rows_follow_the_snapshot_and_the_view():
    snap = mid_migration()
    derived = Assessor()(snap)
    assert [key for key, _ in profile_rows(snap, derived, View())] == ["fp-default", "fp-prod"]
    prod = [key for key, _ in pod_rows(snap, derived, View(namespace="prod"))]
    assert prod == ["prod/web-5c6b7-klmno", "prod/web-5c6b7-pqrst"]
    # A target with no pod behind it is kept whatever the namespace: it may be the broken one.
    assert len(target_rows(snap, derived, View(namespace="prod"))) == 1
    newest_first = [cells[0] for _, cells in event_rows(snap, derived, View())]
    assert newest_first == sorted(newest_first, reverse=True)


def test_start_times_are_measured_from_creation_against_the_target():
    snap = mid_migration()
    derived = Assessor(start_target=120)(snap)
    fast = derived.start["default/api-7d9f8-abcde"]
    assert (fast.scheduled, fast.ready, fast.pull_seconds) == (40.0, 55.0, 9.2)
    cells = dict(pod_rows(snap, derived, View()))
    assert cells["default/api-7d9f8-abcde"][6] == ("55s", "ok")
    assert cells["default/api-7d9f8-fghij"][6] == ("2m20s", "bad")  # slower than two minutes


def test_costs_billed_from_capacity_provisioned_and_projected_otherwise():
    snap = mid_migration()
    derived = Assessor()(snap)
    # eu-central-1: 0.25 x 0.04656 + 0.5 x 0.00511 (DOMAIN.md 2.2)
    assert derived.pod_cost["default/api-7d9f8-abcde"] == pytest.approx(0.25 * 0.04656 + 0.5 * 0.00511)
    assert derived.profile_cost["fp-default"] == pytest.approx(2 * (0.25 * 0.04656 + 0.5 * 0.00511))
    assert "prod/web-5c6b7-klmno" in derived.pod_cost_projected  # on EC2: what Fargate would cost
    assert dict(pod_rows(snap, derived, View()))["prod/web-5c6b7-klmno"][8][0].startswith("~$")


def test_findings_are_worst_first_and_the_compatibility_scan_reruns_only_when_inputs_change(monkeypatch):
    import iagent_tui.insights.assessment as assess_module
    scans = []
    real = assess_module.compatibility_findings
    monkeypatch.setattr(assess_module, "compatibility_findings", lambda *a: scans.append(1) or real(*a))
    snap = mid_migration()
    deriver = Assessor()
    first = deriver(snap).findings
    assert [f.severity for f in first] == sorted((f.severity for f in first),
                                                 key=["error", "warning", "info"].index)
    assert {f.code for f in first} >= {"FG002", "FG010"}
    later = deriver(snap.__class__(**{**snap.__dict__, "taken_at": NOW + timedelta(seconds=5)})).findings
    assert later == first and len(scans) == 1  # same inputs: the scan's result is reused


def test_filter_matches_any_cell_case_insensitively():
    rows = [("a", ("Running", ("fargate", "ok"))), ("b", ("Pending", "-"))]
    assert filter_rows(rows, "FARG") == [rows[0]]
    assert filter_rows(rows, "") == rows


def test_pod_rows_are_reused_while_unchanged_and_rebuilt_when_the_pod_or_its_facts_change():
    assessor = Assessor()
    snap = mid_migration()
    first = dict(pod_rows(snap, assessor(snap), View()))
    again = dict(pod_rows(snap, assessor(snap), View()))
    key = "default/api-7d9f8-abcde"
    assert again[key] is first[key]  # same Pod, same StartTimes, same cost: the row object is kept

    changed = replace(snap, pods=tuple(replace(p, reason="CrashLoopBackOff", resource_version="2")
                                       if p.key == key else p for p in snap.pods))
    rows = dict(pod_rows(changed, assessor(changed), View()))
    assert rows[key][3] == ("CrashLoopBackOff", "bad")
    other = "default/api-7d9f8-fghij"
    assert rows[other] is first[other]
    # Another start target changes the Ready cell's tone for every pod: no row is reused.
    assert dict(pod_rows(changed, Assessor(start_target=30)(changed), View()))[other][6] == ("2m20s", "bad")
    assert dict(pod_rows(changed, Assessor(start_target=600)(changed), View()))[other][6] == ("2m20s", "ok")
