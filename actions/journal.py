"""The journal: one JSON-lines file per action run — who, when, which cluster, the plan, every
event, and the result (or where it stopped). Anything that looks like a credential is scrubbed
before it is written, so a journal can be attached to a ticket."""

from __future__ import annotations

import dataclasses
import getpass
import json
import os
import re
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .base import Plan, ProgressEvent

REDACTED = "[redacted]"
# Keys whose values are secrets whatever they look like.
_SECRET_KEY = re.compile(r"(secret|token|password|passwd|credential|private.?key|access.?key|session.?key|authorization|bearer)",
                         re.IGNORECASE)
# Values that are secrets wherever they appear.
_SECRET_VALUES = [
    re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b"),            # AWS access key ids
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),                 # bearer tokens
    re.compile(r"k8s-aws-v1\.[A-Za-z0-9_-]+"),                           # EKS tokens
    re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*"),  # JWTs
    re.compile(r"(?i)((?:secret|token|password)[\w-]*\s*[=:]\s*)\S+"),      # key=value in messages
]
# AWS secret access keys: 40 base64 characters mixing cases and digits (ARNs and names do not).
_SECRET_KEY_VALUE = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")


def _looks_like_secret_key(candidate: str) -> bool:
    return (any(c.isdigit() for c in candidate) and any(c.isupper() for c in candidate)
            and any(c.islower() for c in candidate))


def scrub_text(text: str, known: tuple[str, ...] = ()) -> str:
    for secret in known:
        if secret and len(secret) >= 6:
            text = text.replace(secret, REDACTED)
    for pattern in _SECRET_VALUES:
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
        else:
            text = pattern.sub(REDACTED, text)
    return _SECRET_KEY_VALUE.sub(lambda m: REDACTED if _looks_like_secret_key(m.group(0)) else m.group(0), text)


def scrub(value: Any, known: tuple[str, ...] = ()) -> Any:
    if isinstance(value, dict):
        return {k: (REDACTED if isinstance(k, str) and _SECRET_KEY.search(k) and v not in (None, "", [], {})
                    else scrub(v, known)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v, known) for v in value]
    if isinstance(value, str):
        return scrub_text(value, known)
    return value


@dataclass(frozen=True)
class RunTarget:
    """Where a run acted: the kubeconfig context, the Kubernetes API endpoint, and whether that
    is the sandbox (told by whoever built the connection, never guessed from the URL)."""

    context: str
    server: str
    sandbox: bool


def who() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no login name (containers): the uid says who
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"


def default_dir() -> Path:
    return Path("~/.local/state/iagent-tui/journal").expanduser()


class Journal:
    """Append-only writer for one run. Each line is flushed, so a killed run keeps its trail."""

    def __init__(self, directory: Path, action: str, cluster: str, known_secrets: tuple[str, ...] = ()) -> None:
        self.started = datetime.now(timezone.utc)
        directory = Path(directory).expanduser()
        directory.mkdir(parents=True, exist_ok=True)
        stamp = self.started.strftime("%Y%m%dT%H%M%S.%fZ")
        self.path = directory / f"{stamp}-{cluster}-{action}.jsonl"
        self.action = action
        self.cluster = cluster
        self._known = tuple(s for s in known_secrets if s)
        self._fh = open(self.path, "a", encoding="utf-8")
        os.chmod(self.path, 0o600)

    def write(self, record: dict) -> None:
        record = {"time": datetime.now(timezone.utc).isoformat(), "action": self.action,
                  "cluster": self.cluster, **record}
        self._fh.write(json.dumps(scrub(record, self._known), default=str, sort_keys=False) + "\n")
        self._fh.flush()

    def start(self, plan: Plan, read_only: bool, target: RunTarget | None = None) -> None:
        self.write({"type": "start", "who": who(), "read_only": read_only,
                    "target": dataclasses.asdict(target) if target else None, "plan": dataclasses.asdict(plan)})

    def lock(self, outcome: str, message: str = "", holder: str = "", previous: str = "") -> None:
        """acquired | taken-over | refused | released | lost: who held the cluster, and when."""
        self.write({"type": "lock", "outcome": outcome, "holder": holder, "previous": previous, "message": message})

    def event(self, event: ProgressEvent) -> None:
        self.write({"type": "event", **dataclasses.asdict(event)})

    def finish(self, result: str, stopped_at: str = "", message: str = "") -> None:
        self.write({"type": "result", "result": result, "stopped_at": stopped_at, "message": message})

    def close(self) -> None:
        self._fh.close()


def read(path: Path) -> list[dict]:
    """Every record; a last line cut short (the process was killed mid-write) is skipped."""
    records = []
    lines = [line for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except ValueError:
            if number == len(lines):
                break
            raise
        if isinstance(record, dict):
            records.append(record)
        elif number != len(lines):  # a cut line can still parse (a bare number): only at the end
            raise ValueError(f"{path}: line {number} is not a journal record")
    return records
