"""The CronJob controller's schedule parser: next activations as robfig/cron computes them."""

from datetime import datetime, timezone

import pytest

from iagent_sandbox.kube.cron import CronError, Schedule

AT = datetime(2026, 12, 2, 10, 57, 30, tzinfo=timezone.utc)  # a Wednesday


@pytest.mark.parametrize("text, expected", [
    ("*/1 * * * *", datetime(2026, 12, 2, 10, 58)),
    ("*/5 * * * *", datetime(2026, 12, 2, 11, 0)),
    ("@hourly", datetime(2026, 12, 2, 11, 0)),
    ("0 3 * * mon-fri", datetime(2026, 12, 3, 3, 0)),
    ("30 2 1 * *", datetime(2027, 1, 1, 2, 30)),
    ("0 0 * * 0", datetime(2026, 12, 6, 0, 0)),
    ("0 12 15 * 5", datetime(2026, 12, 4, 12, 0)),  # day-of-month OR day-of-week when both set
])
def test_next_activation(text, expected):
    assert Schedule(text).next_after(AT) == expected.replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("text", ["* * * *", "61 * * * *", "*/0 * * * *", "x * * * *"])
def test_bad_schedules_are_refused(text):
    with pytest.raises(CronError):
        Schedule(text)


def test_api_refuses_a_cronjob_with_a_bad_schedule():
    from iagent_sandbox.clock import SandboxClock
    from iagent_sandbox.kube.errors import ApiError
    from iagent_sandbox.kube.resources import rt
    from iagent_sandbox.kube.store import ObjectStore
    store = ObjectStore(SandboxClock(speed=1))
    body = {"metadata": {"name": "bad"}, "spec": {"schedule": "every minute", "jobTemplate": {"spec": {
        "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}}}
    with pytest.raises(ApiError) as err:
        store.create(rt("cronjobs"), body)
    assert err.value.status == 422
    assert err.value.message == ('CronJob.batch "bad" is invalid: spec.schedule: Invalid value: '
                                 '"every minute": expected exactly 5 fields, found 2: every minute')
