"""The smallest EC2 node group for the pods that stay on EC2, DaemonSet overhead included."""

from __future__ import annotations

import pytest

from iagent_tui.insights.business_case import stay_on_ec2_objects
from iagent_tui.insights.ec2_fit import Request, smallest_node_group
from iagent_tui.insights.ec2_pricing import EC2_PRICES, SHAPES, InstanceShape, ec2_prices
from iagent_tui.insights.finding import Finding

MI, GI = 2**20, 2**30


def r(key: str, millicores: int, mib: int) -> Request:
    return Request(key, millicores, mib * MI)


def test_allocatable_follows_the_eks_ami_rule():
    # t3.large: 2000m - 60 - 10 = 1930m (as the sandbox's nodes report); 8 GiB - (255 + 11 x 35 + 100) MiB.
    assert SHAPES["t3.large"].allocatable_millicores == 1930
    assert SHAPES["t3.large"].allocatable_bytes == 8 * GI - 740 * MI
    assert SHAPES["m5.2xlarge"].allocatable_millicores == 8000 - 60 - 10 - 5 - 5 - 4 * 2.5  # 0.25 % of a core = 2.5m


def test_nothing_to_keep_needs_no_nodes():
    fit = smallest_node_group([], [r("ds", 100, 100)], EC2_PRICES["eu-central-1"])
    assert fit.count == 0 and fit.hourly == 0


def test_cheapest_type_that_holds_pods_and_daemonsets():
    prices = {"t3.small": 0.024, "t3.medium": 0.048, "t3.large": 0.096}
    pods = [r("a", 200, 256), r("b", 100, 128)]
    assert smallest_node_group(pods, [], prices).instance_type == "t3.small"
    # 1.5 GiB of DaemonSets leave a t3.small (2 GiB - 476 MiB allocatable) no room for the pods.
    fit = smallest_node_group(pods, [r("ds", 100, 1536)], prices)
    assert (fit.instance_type, fit.count) == ("t3.medium", 1)


def test_daemonset_overhead_is_paid_on_every_node():
    prices = {"t3.large": 0.096, "t3.xlarge": 0.192}
    pods = [r(f"p{i}", 1500, 512) for i in range(3)]
    # Alone, one 1500m pod per t3.large (1930m): three of them beat two t3.xlarge.
    fit = smallest_node_group(pods, [], prices)
    assert (fit.instance_type, fit.count, fit.hourly) == ("t3.large", 3, pytest.approx(0.288))
    # With 500m of DaemonSets per node a t3.large holds none; a t3.xlarge (3920m - 500m) holds two.
    fit = smallest_node_group(pods, [r("ds", 500, 100)], prices)
    assert (fit.instance_type, fit.count) == ("t3.xlarge", 2)
    assert sorted(len(n) for n in fit.placement) == [1, 2]


def test_max_pods_counts_daemonset_pods():
    shapes = {"tiny.large": InstanceShape(8, 64, 3)}
    fit = smallest_node_group([r("a", 10, 10), r("b", 10, 10)], [r("ds1", 10, 10), r("ds2", 10, 10)],
                              {"tiny.large": 1.0}, shapes)
    assert fit.count == 2  # 3 pods per node, 2 of them DaemonSets


def test_none_when_no_priced_type_holds_a_pod():
    assert smallest_node_group([r("huge", 64000, 1024)], [], {"t3.large": 0.096, "m5.large": 0.115}) is None
    assert smallest_node_group([r("a", 100, 100)], [], {"unknown.type": 0.01}) is None  # no shape: not guessed


def test_overrides_extend_and_replace_the_table():
    prices = ec2_prices("eu-central-1", {"eu-central-1": {"ec2": {"t3.large": 0.5, "x1.big": 1}}})
    assert prices["t3.large"] == 0.5 and prices["x1.big"] == 1 and prices["m5.large"] == 0.115
    assert ec2_prices("ap-south-1") == {}
    with pytest.raises(ValueError, match="non-negative"):
        ec2_prices("eu-central-1", {"eu-central-1": {"ec2": {"t3.large": -1}}})


def finding(code: str, obj: str, severity: str = "error", category: str = "blocker") -> Finding:
    return Finding(code, severity, category, obj, "t", "m", (), ("fix",), namespace=obj.split("/")[1])


def test_what_stays_on_ec2_is_read_from_blocker_findings():
    found = stay_on_ec2_objects([
        finding("FG003", "Pod/legacy/netdebug", severity="info"),   # outside the plan: shown as info, still stays
        finding("FG008", "StatefulSet/prod/db"),
        finding("FG015", "Deployment/prod/api", severity="warning"),  # runs on Fargate, only a warning
        finding("FG017", "Deployment/prod/web", severity="info", category="advice"),
    ])
    assert found == {"Pod/legacy/netdebug", "StatefulSet/prod/db"}
