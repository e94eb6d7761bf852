"""One clock: the snapshot's time is the server's now, never before a creationTimestamp the server
wrote, so a node created after the skew was last measured (a server clock that runs faster than
ours) still gets its age from server time, as kubectl shows it, not 0s."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from iagent_tui.model import Node, Snapshot
from iagent_tui.services.monitor import server_now
from screens.format import age

T0 = datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc)


def test_the_estimate_stands_unless_the_server_wrote_a_later_time():
    assert server_now(T0) == T0
    assert server_now(T0, None, T0 - timedelta(minutes=5)) == T0
    assert server_now(T0, T0 + timedelta(minutes=7), None, T0 + timedelta(minutes=2)) == T0 + timedelta(minutes=7)


def test_a_node_created_after_the_skew_was_measured_is_aged_on_server_time():
    # The skew was measured at T0; since then the server's clock ran 9 minutes ahead of the estimate.
    # A Fargate node created 8 minutes ago on the server's clock, and a pod scheduled on it just now:
    node = Node("fargate-ip-10-0-1-1", "fargate", True, "eu-central-1a", "", {}, created=T0 + timedelta(minutes=1))
    pod_created = T0 + timedelta(minutes=9)
    stale = Snapshot(taken_at=T0, cluster=None, connection=None, nodes=(node,))
    assert age(node.created, stale.taken_at) == "0s"  # what the Nodes panel showed before
    now = server_now(T0, node.created, pod_created)
    assert age(node.created, now) == "8m00s"
