"""Make moto's own timestamps follow the sandbox clock.

Everything the sandbox writes (Kubernetes objects, profile and add-on dates) is simulated time; moto
stamps what it creates (IAM CreateDate, ALB CreatedTime, node group dates) with the wall clock.
With a speed factor the two drift apart and an "age" column would mix them. moto reads the time
through ``moto.core.utils.utcnow``; replacing it there, and where modules imported it by name,
routes every moto timestamp through the clock of the sandbox that is running.

moto's state is process-global, so this is too: the most recently started sandbox's clock drives
it (one sandbox per process is the normal case; tests that overlap two get the later one's clock).
Without a running sandbox moto gets the real time again.
"""

from __future__ import annotations

import sys
import threading
from datetime import datetime
from functools import cache

from ..clock import SandboxClock
from .simtime import moto_now

_clocks: list[SandboxClock] = []
_lock = threading.Lock()


def _real_utcnow() -> datetime:
    from datetime import timezone

    return datetime.now(timezone.utc).replace(tzinfo=None)


def sandbox_utcnow() -> datetime:
    with _lock:
        clock = _clocks[-1] if _clocks else None
    return moto_now(clock) if clock is not None else _real_utcnow()


@cache
def install() -> None:
    import moto.core.utils as core_utils

    original = core_utils.utcnow
    # Import the backends the sandbox uses first, so their by-name imports exist to be replaced;
    # modules imported after this line bind the replacement directly.
    import moto.ec2.models  # noqa: F401
    import moto.eks.models  # noqa: F401
    import moto.elbv2.models  # noqa: F401
    import moto.iam.models  # noqa: F401
    import moto.sts.models  # noqa: F401

    core_utils.utcnow = sandbox_utcnow  # type: ignore[assignment]
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.") and getattr(module, "utcnow", None) is original:
            module.utcnow = sandbox_utcnow  # type: ignore[attr-defined]


def push(clock: SandboxClock) -> None:
    install()
    with _lock:
        _clocks.append(clock)


def pop(clock: SandboxClock) -> None:
    with _lock:
        if clock in _clocks:
            _clocks.remove(clock)
