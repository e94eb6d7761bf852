"""The context switcher (K, k9s `:ctx`): kubeconfig contexts with cluster and region, and a switch
without a restart: the dashboard starts on a context whose API server is down (a closed port),
K lists both contexts, enter on the sandbox's rebuilds the monitor and services for it, and the
header and panels show the sandbox cluster read through the real service layer."""

from __future__ import annotations

import socket

import pytest
import yaml

from iagent_tui.app import build_app
from iagent_tui.config import Settings
from iagent_tui.kube_contexts import KubeconfigError, list_contexts
from iagent_tui.services.connection import AwsTarget, from_kubeconfig
from iagent_tui.services.monitor import ClusterMonitor
from screens.connecting import ConnectingScreen
from screens.contexts import ContextSwitcher
from screens.header import ClusterHeader

from .helpers import until

SIZE = (160, 48)
ARN = "arn:aws:eks:eu-west-1:123456789012:cluster/prod-eu"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def eks_kubeconfig() -> dict:
    """The shapes `aws eks update-kubeconfig` writes, plus a kind-like context with no region."""
    return {
        "apiVersion": "v1", "kind": "Config", "current-context": "staging",
        "clusters": [
            {"name": ARN, "cluster": {"server": "https://ABC.gr7.eu-west-1.eks.amazonaws.com"}},
            {"name": "staging-cluster", "cluster": {"server": "https://DEF.yl4.us-east-2.eks.amazonaws.com"}},
            {"name": "by-args", "cluster": {"server": "https://10.0.0.1"}},
            {"name": "kind", "cluster": {"server": "https://127.0.0.1:6443"}},
        ],
        "users": [
            {"name": "eks-args", "user": {"exec": {"command": "aws", "args": [
                "--region", "ap-south-1", "eks", "get-token", "--cluster-name", "batch"]}}},
            {"name": "plain", "user": {"token": "t"}},
        ],
        "contexts": [
            {"name": "prod", "context": {"cluster": ARN, "user": "plain"}},
            {"name": "staging", "context": {"cluster": "staging-cluster", "user": "plain", "namespace": "web"}},
            {"name": "batch", "context": {"cluster": "by-args", "user": "eks-args"}},
            {"name": "kind-dev", "context": {"cluster": "kind", "user": "plain"}},
        ],
    }


def test_contexts_name_their_cluster_and_region(tmp_path):
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(eks_kubeconfig()))
    contexts = {c.name: c for c in list_contexts(str(path))}
    assert (contexts["prod"].region, contexts["prod"].eks_cluster, contexts["prod"].cluster) == ("eu-west-1", "prod-eu", ARN)
    assert contexts["staging"].region == "us-east-2" and contexts["staging"].current
    assert (contexts["batch"].region, contexts["batch"].eks_cluster) == ("ap-south-1", "batch")
    assert contexts["kind-dev"].region == "" and not contexts["kind-dev"].current
    # Several files are merged the way kubectl merges them: the first to define a name wins.
    other = tmp_path / "other"
    other.write_text(yaml.safe_dump({"contexts": [{"name": "prod", "context": {"cluster": "kind"}},
                                                  {"name": "extra", "context": {"cluster": "kind"}}],
                                     "clusters": [], "users": []}))
    merged = {c.name: c for c in list_contexts(f"{path}:{other}:{tmp_path / 'missing'}")}
    assert merged["prod"].cluster == ARN and merged["extra"].server == "https://127.0.0.1:6443"
    bad = tmp_path / "bad"
    bad.write_text("contexts: [unclosed")
    with pytest.raises(KubeconfigError, match=str(bad)):
        list_contexts(str(bad))


@pytest.fixture
def two_contexts(sandbox, sandbox_files, tmp_path):
    """The sandbox's kubeconfig plus a context `down` whose API server port is closed."""
    kubeconfig, _ = sandbox_files
    config = yaml.safe_load(kubeconfig.read_text())
    cluster = dict(config["clusters"][0]["cluster"], server=f"https://127.0.0.1:{closed_port()}")
    config["clusters"].append({"name": "down", "cluster": cluster})
    config["contexts"].append({"name": "down", "context": {"cluster": "down", "user": config["users"][0]["name"]}})
    config["current-context"] = "down"
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path


async def test_switching_from_an_unreachable_context_to_the_sandbox_repopulates_the_panels(sandbox, two_contexts):
    info = sandbox.info
    settings = Settings(cluster=info.cluster_name, region=info.region, kubeconfig=str(two_contexts))
    aws = AwsTarget(region=info.region, endpoint_url=info.aws_endpoint, access_key_id=info.access_key_id,
                    secret_access_key=info.secret_access_key)
    connection = await from_kubeconfig(settings, aws)
    assert connection.kube.context == "down"
    fast = dict(fast_interval=0.2, slow_interval=1.0, watch_max_backoff=1.0)
    app = build_app(settings, connection, source=ClusterMonitor(connection, settings, **fast))
    assert app.context_switch is not None
    app.context_switch.make_source = lambda s, c: ClusterMonitor(c, s, **fast)
    header = lambda: str(app.dashboard.query_one(ClusterHeader).render())  # noqa: E731
    pods = lambda: app.dashboard.query_one("#table-pods").row_count  # noqa: E731
    async with app.run_test(size=SIZE) as pilot:
        connecting = await until(pilot, lambda: isinstance(app.screen, ConnectingScreen) and app.screen.problem
                                 and app.screen, timeout=30, what="the down context said unreachable")
        assert pods() == 0 and "context down" in connecting.problem

        await pilot.press("K")
        switcher = await until(pilot, lambda: isinstance(app.screen, ContextSwitcher) and app.screen,
                               what="the context switcher")
        table = switcher.query_one("#context-table")
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        assert [row[0] for row in rows] == ["  iagent-sandbox", "* down"]  # the current one marked
        assert rows[1][3].startswith("https://127.0.0.1:") and table.cursor_row == 1
        table.move_cursor(row=[c.name for c in switcher.contexts].index("iagent-sandbox"))
        await pilot.press("enter")

        await until(pilot, lambda: app.screen is app.dashboard, timeout=30, what="on the dashboard")
        await until(pilot, lambda: "context iagent-sandbox" in header() and info.cluster_name in header(),
                    timeout=30, what="the header on the sandbox cluster")
        await until(pilot, lambda: pods() > 0, timeout=30, what="the sandbox's pods in the Pods panel")
        assert app.context_switch.current == "iagent-sandbox"
        assert "--context=iagent-sandbox" in app.pod_shell.command("default", "x")
        assert "--context=iagent-sandbox" in app.port_forwards.builder.command("pod", "default", "x", 1, 2)
