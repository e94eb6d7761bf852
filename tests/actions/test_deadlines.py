"""Deadlines and the plan's honesty without a cluster: the table and the waits: setting, a wait
that explains itself at its deadline or at once on a hopeless pod, and "Nothing to do" only when
no step — waits included — is left."""

from __future__ import annotations

import pytest

from actions.base import Plan, PlanStep, StepFailed
from actions.context import PollPolicy
from actions.evidence import Seen, latest_warning, pod_verdict
from actions.waits import wait_until
from iagent_tui.config import load_settings
from iagent_tui.deadlines import DEADLINES, check_waits, deadline_seconds


def test_every_kind_has_a_deadline_and_a_source():
    for kind, (seconds, what, source) in DEADLINES.items():
        assert what and source, kind
        assert deadline_seconds(kind) > 0
    assert deadline_seconds("profile-active") == 600
    assert deadline_seconds("rollout") == 900  # default progressDeadlineSeconds 600, with the margin
    assert deadline_seconds("rollout", base=60) == 90
    assert deadline_seconds("rollout", {"rollout": 30, "scale": 0.5}, base=60) == 15
    assert deadline_seconds("lbc-ready", {"scale": 1 / 200}) == 3


def test_waits_setting_is_checked_with_one_sentence_per_problem():
    assert check_waits({"profile_active": 900, "scale": "2"}) == {"profile-active": 900.0, "scale": 2.0}
    with pytest.raises(ValueError, match="unknown wait 'profile'.*known: scale, profile-active"):
        check_waits({"profile": 1})
    with pytest.raises(ValueError, match="scale must be a factor greater than 0"):
        check_waits({"scale": -1})
    assert load_settings(env={"IAGENT_WAITS__SCALE": "0.005"}).waits == {"scale": 0.005}


def _pending(message: str, reason: str = "") -> dict:
    return {"metadata": {"name": "p"}, "status": {"conditions": [
        {"type": "PodScheduled", "status": "False", "reason": reason, "message": message}]}}


def test_hopeless_pods_are_told_from_pods_that_may_still_start():
    assert pod_verdict(_pending("Pod not supported on Fargate: invalid SecurityContext fields: Privileged",
                                "POD_UNSUPPORTED_ON_FARGATE")).startswith("Pod not supported on Fargate")
    assert pod_verdict(_pending("Your pod's cpu/memory requirements exceed the max Fargate configuration",
                                "POD_CPU_MEM_EXCEEDS_MAX_FARGATE_SIZE"))
    # A claim not bound yet shows transiently (DOMAIN 5.2); capacity and taints can change.
    assert not pod_verdict(_pending("Pod not supported on Fargate: volumes not supported: data not supported "
                                    "because: PVC data not bound"))
    assert not pod_verdict(_pending("0/3 nodes are available: 3 Insufficient cpu.", "Unschedulable"))
    assert not pod_verdict(_pending("Pod provisioning timed out (will retry) for pod"))


def test_the_telling_warning_is_preferred_over_the_kubelets_echo():
    def event(message: str, when: str) -> dict:
        return {"type": "Warning", "reason": "Failed", "message": message, "lastTimestamp": when,
                "involvedObject": {"kind": "Pod", "name": "p", "namespace": "n"}}
    events = [event('Failed to pull image "x": not found', "2024-01-01T00:00:01Z"),
              event("Error: ImagePullBackOff", "2024-01-01T00:00:09Z"),
              {**event("other pod", "2024-01-01T00:00:10Z"), "involvedObject": {"kind": "Pod", "name": "q"}}]
    assert latest_warning(events, {("Pod", "p")})["message"] == 'Failed to pull image "x": not found'


class _Ctx:
    """What wait_until reads from an ActionContext."""

    def __init__(self, waits: dict) -> None:
        self.poll = PollPolicy(0.01, 0.01)
        self.waits = waits

    def deadline(self, kind: str, base: float | None = None) -> float:
        return deadline_seconds(kind, self.waits, base)


class _Evidence:
    namespace, workloads = "prod", ()

    def __init__(self, seen: Seen) -> None:
        self.seen = seen

    async def look(self, ctx) -> Seen:
        return self.seen

    def describe_command(self) -> str:
        return "kubectl describe pods -n prod -l app=api"


async def _drain(gen) -> None:
    async for _ in gen:
        pass


async def test_a_wait_past_its_deadline_says_what_it_saw_and_what_to_do_next():
    async def never() -> tuple[bool, str]:
        return False, "0/2 ready"

    evidence = _Evidence(Seen(warning="Pod prod/api-1: FailedScheduling: 0/3 nodes are available: 3 Insufficient cpu."))
    with pytest.raises(StepFailed) as caught:
        await _drain(wait_until(never, "pods of prod/api ready", "restart", _Ctx({"rollout": 0.05}), "rollout",
                                evidence=evidence))
    message = str(caught.value)
    for part in ("Gave up waiting for pods of prod/api ready", "Last seen: 0/2 ready",
                 "Latest warning event: Pod prod/api-1: FailedScheduling: 0/3 nodes are available",
                 "`kubectl describe pods -n prod -l app=api`", "run the action again", "waits.rollout"):
        assert part in message


async def test_a_hopeless_pod_ends_the_wait_at_once():
    rounds = 0

    async def never() -> tuple[bool, str]:
        nonlocal rounds
        rounds += 1
        return False, "1 pending"

    evidence = _Evidence(Seen(hopeless="pod prod/api-1: Pod not supported on Fargate: fields not supported: HostNetwork"))
    with pytest.raises(StepFailed, match="Waiting longer cannot fix this") as caught:
        await _drain(wait_until(never, "pods of prod/api ready", "restart", _Ctx({}), "rollout", evidence=evidence))
    assert rounds == 1 and "HostNetwork" in str(caught.value)


def test_a_pending_wait_is_work_left_not_nothing_to_do():
    done = PlanStep("lbc-helm", "Install", "change", "release", done=True)
    wait = PlanStep("lbc-ready", "Wait for the controller", "wait", "deployment", mutating=False)
    assert not Plan("deploy", "c", (done, wait)).nothing_to_do
    assert Plan("deploy", "c", (done, PlanStep(**{**wait.__dict__, "done": True}))).nothing_to_do
    plan = Plan("smoke", "c", (PlanStep("apply", "Apply", "create", "x"), wait,
                               PlanStep("r", "Restart", "restart", "y", reschedules=("ns/a", "ns/b"))))
    assert plan.summary() == "1 to create, 0 to change, 0 to delete, 1 to restart; 1 wait(s); 2 pod(s) rescheduled"
