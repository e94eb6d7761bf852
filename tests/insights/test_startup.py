"""Pod start phases and statistics, pinned to the published Fargate timeline (DOMAIN.md 7.1)."""

from datetime import datetime, timezone

import pytest

from iagent_tui.insights.startup import (
    StartPhases,
    nearest_rank,
    parse_go_duration,
    parse_pulled_message,
    parse_time,
    start_time_stats,
)
from iagent_tui.insights import startup
from iagent_tui.services.convert import event_from_raw, pod_from_raw


def pod_start_phases(raw_pod, raw_events=()):
    """The rule on the typed Pod and Events the monitor's converters make of these API dicts."""
    return startup.pod_start_phases(pod_from_raw(raw_pod), [event_from_raw(e) for e in raw_events])


def nginx_pod(uid="u1", ready="2023-09-05T10:12:28Z", running="2023-09-05T10:12:28Z"):
    conditions = [
        {"type": "Initialized", "status": "True", "lastTransitionTime": "2023-09-05T10:12:19Z"},
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2023-09-05T10:12:18Z"},
    ]
    if ready:
        conditions.append({"type": "Ready", "status": "True", "lastTransitionTime": ready})
    state = {"running": {"startedAt": running}} if running else {"waiting": {"reason": "ContainerCreating"}}
    return {
        "metadata": {"name": "nginx", "namespace": "default", "uid": uid, "creationTimestamp": "2023-09-05T10:11:33Z"},
        "status": {"startTime": "2023-09-05T10:12:19Z", "conditions": conditions, "containerStatuses": [{"name": "nginx", "state": state}]},
    }


def event(reason, message, ts, *, name="nginx", uid="u1", namespace="default"):
    return {
        "reason": reason,
        "message": message,
        "firstTimestamp": ts,
        "lastTimestamp": ts,
        "involvedObject": {"kind": "Pod", "name": name, "namespace": namespace, "uid": uid},
    }


EVENTS = [
    event("Pulled", 'Successfully pulled image "nginx" in 8.1s (8.1s including waiting). Image size: 70000000 bytes.', "2023-09-05T10:12:27Z"),
    event("Pulling", 'Pulling image "nginx"', "2023-09-05T10:12:19Z"),
    event("Started", "Started container nginx", "2023-09-05T10:12:28Z"),
    event("Pulling", 'Pulling image "nginx"', "2023-09-05T10:00:00Z", uid="old"),  # predecessor pod
    event("Pulling", 'Pulling image "nginx"', "2023-09-05T10:00:00Z", name="other"),
]


def test_published_fargate_timeline():
    phases = pod_start_phases(nginx_pod(), EVENTS)
    assert phases.to_scheduled == 45  # capacity provisioning + node registration
    assert phases.to_ready == 55
    assert phases.pulling == datetime(2023, 9, 5, 10, 12, 19, tzinfo=timezone.utc)
    assert phases.image_pull == pytest.approx(8.1)  # kubelet's own measurement wins over event seconds
    assert phases.image_bytes == 70_000_000
    assert phases.running_to_ready == 0


def test_pull_falls_back_to_event_times_without_a_parseable_message():
    events = [
        event("Pulling", 'Pulling image "nginx"', "2023-09-05T10:12:19Z"),
        event("Pulled", "pulled", "2023-09-05T10:12:27Z"),
    ]
    assert pod_start_phases(nginx_pod(), events).image_pull is None  # "pulled" isn't a real pull
    events[1]["message"] = 'Successfully pulled image "nginx" in 8s'
    phases = pod_start_phases(nginx_pod(), events)
    assert phases.pulled == datetime(2023, 9, 5, 10, 12, 27, tzinfo=timezone.utc)
    assert phases.image_pull == 8


def test_unfinished_pod_has_open_phases():
    phases = pod_start_phases(nginx_pod(ready=None, running=None), [])
    assert phases.to_scheduled == 45
    assert phases.running is None and phases.ready is None and phases.to_ready is None
    assert phases.image_pull is None


@pytest.mark.parametrize(
    ("message", "image", "seconds", "waiting", "size"),
    [
        ('Successfully pulled image "x" in 9.2s (9.2s including waiting). Image size: 123 bytes.', "x", 9.2, 9.2, 123),
        ('Successfully pulled image "a/b:1" in 1m2.5s (1m3s including waiting)', "a/b:1", 62.5, 63, None),
        ('Successfully pulled image "nginx:latest" in 850.5ms', "nginx:latest", 0.8505, None, None),
    ],
)
def test_pulled_message_forms(message, image, seconds, waiting, size):
    pulled = parse_pulled_message(message)
    assert pulled.image == image
    assert pulled.seconds == pytest.approx(seconds)
    assert pulled.waiting_seconds == (pytest.approx(waiting) if waiting is not None else None)
    assert pulled.size_bytes == size


def test_already_present_is_not_a_pull():
    assert parse_pulled_message('Container image "nginx" already present on machine') is None


@pytest.mark.parametrize(("text", "seconds"), [("0s", 0), ("0", 0), ("2h0m1s", 7201), ("1.5µs", 1.5e-6), ("100ns", 1e-7)])
def test_go_durations(text, seconds):
    assert parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["", "9.2", "1x", "s", "1s junk"])
def test_bad_go_durations(bad):
    with pytest.raises(ValueError, match="Go duration"):
        parse_go_duration(bad)


def test_timestamps():
    assert parse_time("2023-09-05T10:11:33.123456789Z") == datetime(2023, 9, 5, 10, 11, 33, 123456, tzinfo=timezone.utc)
    assert parse_time("2023-09-05T10:11:33+02:00").utcoffset().total_seconds() == 7200
    with pytest.raises(ValueError, match="RFC 3339"):
        parse_time("yesterday")


def test_events_k8s_io_shape():
    ev = {"reason": "Pulling", "note": 'Pulling image "nginx"', "eventTime": "2023-09-05T10:12:19.500000Z",
          "regarding": {"kind": "Pod", "name": "nginx", "namespace": "default", "uid": "u1"}}
    assert pod_start_phases(nginx_pod(), [ev]).pulling == datetime(2023, 9, 5, 10, 12, 19, 500000, tzinfo=timezone.utc)


def test_nearest_rank():
    sample = [15, 20, 35, 40, 50]
    assert nearest_rank(sample, 30) == 20  # the textbook example: rank ceil(0.3*5) = 2
    assert nearest_rank(sample, 50) == 35
    assert nearest_rank(sample, 95) == 50
    assert nearest_rank(sample, 100) == 50
    assert nearest_rank(list(range(1, 101)), 95) == 95
    with pytest.raises(ValueError):
        nearest_rank([], 50)
    with pytest.raises(ValueError):
        nearest_rank(sample, 0)


def phases(namespace, seconds):
    created = datetime(2026, 1, 1, tzinfo=timezone.utc)
    from datetime import timedelta

    ready = None if seconds is None else created + timedelta(seconds=seconds)
    return StartPhases(namespace, "p", created, None, None, None, None, None, ready)


def test_stats_per_namespace_against_target():
    sample = [phases("prod", s) for s in (50, 55, 60, 130, 70)] + [phases("prod", None), phases("dev", 30)]
    prod, dev = start_time_stats(sample)[1], start_time_stats(sample)[0]
    assert (dev.namespace, dev.count, dev.p50, dev.meets_target) == ("dev", 1, 30, True)
    assert (prod.count, prod.not_ready) == (5, 1)
    assert (prod.p50, prod.p95, prod.max) == (60, 130, 130)
    assert prod.over_target == 1 and prod.meets_target is False
    assert start_time_stats(sample, target=200)[1].meets_target is True
    with pytest.raises(ValueError):
        start_time_stats(sample, target=0)
