"""The runner's guarantees without a cluster: read-only refuses before any step runs, failures
and cancellation are journaled with the step they stopped at, the journal has who/plan/steps/result
and never a credential; input checks refuse bad names."""

from __future__ import annotations

import asyncio
import json

import pytest

from actions.base import InvalidInput, Plan, PlanStep, ProgressEvent, StepAction, StepFailed
from actions.journal import REDACTED, read, scrub, scrub_text
from actions.runner import ActionRunner
from actions.validate import namespace_name, profile_name


class Recorder(StepAction):
    """An action whose steps only record that they ran (the runner is what is under test)."""

    name = "probe"

    def __init__(self, fail_at: str = "", block_at: str = "") -> None:
        self.ran: list[str] = []
        self.fail_at, self.block_at = fail_at, block_at
        self.blocked = asyncio.Event()

    async def execute(self, step: PlanStep):
        self.ran.append(step.id)
        if step.id == self.fail_at:
            raise StepFailed("it broke; do X")
        if step.id == self.block_at:
            self.blocked.set()
            await asyncio.Event().wait()  # until cancelled
        yield ProgressEvent("info", f"did {step.id}", step.id)


PLAN = Plan("probe", "c1", (
    PlanStep("a", "Create A", "create", "thing A", done=True),
    PlanStep("b", "Wait for B", "wait", "thing B", mutating=False),
    PlanStep("c", "Create C", "create", "thing C"),
    PlanStep("d", "Delete D", "delete", "thing D"),
))


async def collect(runner: ActionRunner, action: StepAction, plan: Plan = PLAN) -> list[ProgressEvent]:
    return [event async for event in runner.run(action, plan)]


async def test_read_only_refuses_every_pending_change_and_runs_nothing(tmp_path):
    action = Recorder()
    runner = ActionRunner(tmp_path, read_only=True, cluster="c1")
    events = await collect(runner, action)
    assert action.ran == []
    refused = [e.step_id for e in events if e.kind == "error"]
    assert refused == ["c", "d"]
    assert runner.last.result == "refused" and not runner.last.ok
    (journal,) = tmp_path.glob("*.jsonl")
    records = read(journal)
    assert records[0]["read_only"] is True and records[-1]["result"] == "refused"


async def test_steps_run_in_order_skipping_done_ones_and_the_journal_says_so(tmp_path):
    action = Recorder()
    runner = ActionRunner(tmp_path, read_only=False, cluster="c1")
    events = await collect(runner, action)
    assert action.ran == ["b", "c", "d"]
    assert [e.kind for e in events][:2] == ["step_skipped", "step_started"]
    records = read(next(tmp_path.glob("*.jsonl")))
    start = records[0]
    assert start["type"] == "start" and "@" in start["who"] and start["cluster"] == "c1"
    assert [s["id"] for s in start["plan"]["steps"]] == ["a", "b", "c", "d"]
    assert records[-1] == {**records[-1], "type": "result", "result": "ok", "stopped_at": ""}


async def test_a_failed_step_stops_the_run_and_names_the_step(tmp_path):
    action = Recorder(fail_at="c")
    runner = ActionRunner(tmp_path, read_only=False, cluster="c1")
    events = await collect(runner, action)
    assert action.ran == ["b", "c"]
    assert events[-1].kind == "done" and events[-1].ok is False
    assert "it broke; do X" in events[-2].message
    last = read(next(tmp_path.glob("*.jsonl")))[-1]
    assert last["result"] == "failed" and last["stopped_at"] == "c"


async def test_cancellation_is_journaled_with_the_step_in_progress(tmp_path):
    action = Recorder(block_at="c")
    runner = ActionRunner(tmp_path, read_only=False, cluster="c1")
    task = asyncio.create_task(collect(runner, action))
    await asyncio.wait_for(action.blocked.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    last = read(next(tmp_path.glob("*.jsonl")))[-1]
    assert last["result"] == "cancelled" and last["stopped_at"] == "c"
    assert "d" not in action.ran


async def test_nothing_to_do_runs_nothing(tmp_path):
    plan = Plan("probe", "c1", (PlanStep("a", "Create A", "create", "A", done=True),
                                PlanStep("b", "Wait B", "wait", "B", mutating=False, done=True)))
    action = Recorder()
    runner = ActionRunner(tmp_path, read_only=False, cluster="c1")
    events = await collect(runner, action, plan)
    assert action.ran == [] and events[-1].message.startswith("Nothing to do")
    assert runner.last.result == "nothing-to-do" and runner.last.ok


def test_scrubbing_removes_credentials_but_keeps_names_and_arns():
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    text = (f"AKIAIOSFODNN7EXAMPLE {secret} Authorization: Bearer abc.def-ghi_jkl "
            "k8s-aws-v1.aHR0cHM6Ly9zdHMu token=s3cr3tvalue")
    cleaned = scrub_text(text)
    for leaked in ("AKIAIOSFODNN7EXAMPLE", secret, "abc.def-ghi_jkl", "k8s-aws-v1.aHR0", "s3cr3tvalue"):
        assert leaked not in cleaned
    keep = "arn:aws:iam::123456789012:role/AmazonEKSLoadBalancerControllerRole fp-kube-system"
    assert scrub_text(keep) == keep
    assert scrub({"aws_secret_access_key": "x" * 8, "password": "hunter22", "name": "fp-prod"}) == \
        {"aws_secret_access_key": REDACTED, "password": REDACTED, "name": "fp-prod"}
    assert scrub_text("my value ABCDEF123 here", known=("ABCDEF123",)) == f"my value {REDACTED} here"


async def test_known_secrets_from_the_environment_never_reach_the_journal(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "plainlowercasesecretvalue")
    plan = Plan("probe", "c1", (PlanStep("x", "Step with plainlowercasesecretvalue", "create", "t"),))
    runner = ActionRunner(tmp_path, read_only=False, cluster="c1")
    await collect(runner, Recorder(), plan)
    assert "plainlowercasesecretvalue" not in next(tmp_path.glob("*.jsonl")).read_text()


@pytest.mark.parametrize("name", ["", "Team", "team_x", "-a", "a-", "a" * 64, "kube-public", "kube-x", "a.b"])
def test_bad_namespace_names_are_refused(name):
    with pytest.raises(InvalidInput):
        namespace_name(name)


@pytest.mark.parametrize("name", ["team-x", "a", "a" * 63, "prod2"])
def test_good_namespace_names_pass(name):
    assert namespace_name(name) == name


def test_profile_names_follow_the_eks_rule():
    assert profile_name("fp-team-x") == "fp-team-x"
    for bad in ("-fp", "fp.x", "f" * 101):
        with pytest.raises(InvalidInput):
            profile_name(bad)


def test_a_torn_last_line_is_skipped_by_the_journal_reader(tmp_path):
    """A process killed mid-write leaves half a record at the end: readers keep what is whole."""
    path = tmp_path / "20260101T000000.000000Z-iagent-cluster-deploy.jsonl"
    whole = [{"type": "start", "who": "a@b"}, {"type": "event", "kind": "step_started", "step_id": "one"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in whole) + '{"type": "event", "kind": "wai')
    assert read(path) == whole
    path.write_text("".join(json.dumps(r) + "\n" for r in whole) + "12")  # cut inside a record, still JSON
    assert read(path) == whole
    path.write_text('{"type": "start"\n' + json.dumps(whole[1]) + "\n")  # damage mid-file is not hidden
    with pytest.raises(ValueError):
        read(path)
