"""How a simulated container behaves once started: the sandbox's knobs for making one fail.

A container runs for ever and answers its probes, unless its spec says otherwise:

- ``env SANDBOX_CRASH=1`` (or ``true``): the process exits with code 1 a couple of seconds after
  it starts (``SANDBOX_CRASH_AFTER=<seconds>`` sets when), so the pod goes into CrashLoopBackOff;
- a command or args that ``exit N`` (``sh -c "exit 3"``) or run ``false``: the process exits with
  that code about a second after starting (exit 0 completes the container);
- in a pod whose restartPolicy is ``Never`` or ``OnFailure`` (a Job's pod, ``kubectl run
  --restart=Never``), the command is a batch run: it exits 0 after a short run (one to three
  simulated seconds; ``SANDBOX_RUN_SECONDS=<seconds>`` sets how long), so the pod ends Succeeded;
- ``env SANDBOX_UNREADY=1``, or the pod annotation ``sandbox.iagent.dev/unready: "true"``
  (switchable at run time with ``kubectl annotate``): the readiness probe fails with HTTP 503;
- ``env SANDBOX_LIVENESS_FAIL=1``: the liveness probe fails with HTTP 500 and the kubelet
  restarts the container after failureThreshold periods.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UNREADY_ANNOTATION = "sandbox.iagent.dev/unready"
_TRUE = {"1", "true", "yes", "on"}
_EXIT = re.compile(r"(?:^|[;&|\s])exit\s+(\d+)")


def _env(container: dict) -> dict[str, str]:
    return {e.get("name"): str(e.get("value", "")) for e in container.get("env") or () if "name" in e}


@dataclass(frozen=True)
class ExitPlan:
    after_seconds: float
    exit_code: int


def exit_plan(container: dict, drawn_seconds: float, batch: bool = False) -> ExitPlan | None:
    """When and how the container's process ends, or None if it keeps running. ``batch``: the pod
    is not restarted on exit (restartPolicy Never/OnFailure), so its command runs to completion."""
    env = _env(container)
    if env.get("SANDBOX_CRASH", "").lower() in _TRUE:
        after = env.get("SANDBOX_CRASH_AFTER")
        try:
            seconds = float(after) if after else drawn_seconds
        except ValueError:
            seconds = drawn_seconds
        return ExitPlan(max(0.1, seconds), 1)
    words = [str(w) for w in (container.get("command") or []) + (container.get("args") or [])]
    line = " ".join(words)
    match = _EXIT.search(line)
    if match:
        return ExitPlan(1.0, int(match.group(1)) % 256)
    if words and words[0] in ("false", "/bin/false"):
        return ExitPlan(1.0, 1)
    if words and words[0] in ("true", "/bin/true"):
        return ExitPlan(1.0, 0)
    if batch:
        try:
            seconds = float(env.get("SANDBOX_RUN_SECONDS") or drawn_seconds)
        except ValueError:
            seconds = drawn_seconds
        return ExitPlan(max(0.1, seconds), 0)
    return None


def readiness_fails(container: dict, pod: dict) -> bool:
    annotations = pod["metadata"].get("annotations") or {}
    return (_env(container).get("SANDBOX_UNREADY", "").lower() in _TRUE
            or str(annotations.get(UNREADY_ANNOTATION, "")).lower() in _TRUE)


def liveness_fails(container: dict) -> bool:
    return _env(container).get("SANDBOX_LIVENESS_FAIL", "").lower() in _TRUE


def probe_failure_message(probe: dict, status_code: int) -> str:
    """The kubelet's prober output for the probe kind."""
    if "httpGet" in probe:
        return f"HTTP probe failed with statuscode: {status_code}"
    if "tcpSocket" in probe:
        port = probe["tcpSocket"].get("port")
        return f"dial tcp: connect to port {port}: connection refused"
    if "grpc" in probe:
        return "timeout: failed to connect service within 1s"
    return f"command terminated with non-zero exit code: exit status 1"
