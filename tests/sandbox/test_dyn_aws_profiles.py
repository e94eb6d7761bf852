"""Deleting a Fargate profile stops its pods; their ReplicaSet recreates them, and the new pods go
to another matching profile (DOMAIN.md 3.6)."""

from __future__ import annotations

from iagent_sandbox.controllers import fargate, kubelet, profiles, scheduler, workloads
from iagent_sandbox.kube.resources import rt

from .dyn_aws_support import harness

CLUSTER = "iagent-cluster"
DEPLOYMENTS, PODS = rt("deployments"), rt("pods")
PROFILE_LABEL = "eks.amazonaws.com/fargate-profile"

WEB = {"metadata": {"name": "web", "namespace": "default"},
       "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                             "spec": {"containers": [{
                                 "name": "web", "image": "public.ecr.aws/nginx/nginx:1.27-alpine",
                                 "resources": {"requests": {"cpu": "250m", "memory": "256Mi"},
                                               "limits": {"cpu": "250m", "memory": "256Mi"}}}]}}}}


def _running(world):
    pods = world.store.list(PODS, "default", label_selector="app=web")[0]
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")
            and (p.get("status") or {}).get("phase") == "Running"]


async def _profile_status(h, name):
    reply = await h.call("eks", "describe_fargate_profile", clusterName=CLUSTER, fargateProfileName=name)
    return reply["fargateProfile"]["status"]


async def test_profile_deletion_stops_its_pods_and_they_move_to_another_matching_profile():
    async with harness("migrated") as h:
        world = h.world
        h.start(fargate, scheduler, kubelet, workloads, profiles)
        world.store.create(DEPLOYMENTS, WEB)
        await h.wait_for(lambda: len(_running(world)) == 2, timeout=30, what="web on Fargate")
        first = _running(world)
        assert {p["metadata"]["labels"][PROFILE_LABEL] for p in first} == {"fp-default"}

        # A second profile for the namespace, then delete the first one.
        original = (await h.call("eks", "describe_fargate_profile", clusterName=CLUSTER,
                                 fargateProfileName="fp-default"))["fargateProfile"]
        await h.call("eks", "create_fargate_profile", clusterName=CLUSTER, fargateProfileName="fp-web",
                     podExecutionRoleArn=original["podExecutionRoleArn"], subnets=original["subnets"],
                     selectors=[{"namespace": "default", "labels": {"app": "web"}}])

        async def active():
            return await _profile_status(h, "fp-web") == "ACTIVE"
        await h.wait_for(active, timeout=30, what="fp-web ACTIVE")
        assert {p["metadata"]["uid"] for p in _running(world)} == {p["metadata"]["uid"] for p in first}

        await h.call("eks", "delete_fargate_profile", clusterName=CLUSTER, fargateProfileName="fp-default")
        old_uids = {p["metadata"]["uid"] for p in first}

        def moved():
            pods = _running(world)
            return (len(pods) == 2 and not old_uids & {p["metadata"]["uid"] for p in pods}
                    and all(p["metadata"]["labels"].get(PROFILE_LABEL) == "fp-web" for p in pods)
                    and all(p["spec"]["nodeName"].startswith("fargate-ip-") for p in pods))
        await h.wait_for(moved, timeout=30, what="pods recreated on fp-web")
        # The old pods were stopped while the profile was still DELETING, not after.
        status = await _profile_status(h, "fp-default")
        assert status == "DELETING" or status is None
