"""Fargate profile deletion, in the cluster (DOMAIN.md 3.6): "Any Pods that are running using a
Fargate profile are stopped and put into a pending state when the profile is deleted. If those Pods
match another Fargate profile, then they're scheduled on Fargate with that profile."

When a profile turns DELETING, its pods (label ``eks.amazonaws.com/fargate-profile=<name>``) are
deleted; their ReplicaSets recreate them, and the Fargate admission places the new pods with
another matching profile or leaves them to the default scheduler (Pending when nothing fits).

moto offers no notification when DeleteFargateProfile is called, so the profiles are read once per
wall second: one in-process call that only computes the statuses of a handful of profiles.
"""

from __future__ import annotations

import logging

from ..kube.errors import ApiError
from ..kube.resources import rt
from .awslinks import Wakeup

log = logging.getLogger(__name__)

PROFILE_LABEL = "eks.amazonaws.com/fargate-profile"
PODS = rt("pods")
POLL_WALL_SECONDS = 1.0


class ProfileDeletionController:
    def __init__(self, world) -> None:
        self.world = world
        self.wakeup = Wakeup(world.clock)
        self._stopped: set[str] = set()   # profile ARNs whose pods were already stopped

    def reconcile(self) -> None:
        profiles = self.world.aws.fargate_profiles(self.world.cluster_name)
        deleting = [p for p in profiles if p.get("status") == "DELETING"]
        present = {p.get("fargateProfileArn") or p["fargateProfileName"] for p in profiles}
        self._stopped &= present    # forget profiles that are gone (a new one may reuse the name)
        for profile in deleting:
            key = profile.get("fargateProfileArn") or profile["fargateProfileName"]
            if key in self._stopped:
                continue
            self._stopped.add(key)
            self.stop_pods(profile["fargateProfileName"])

    def stop_pods(self, profile_name: str) -> int:
        store = self.world.store
        pods, _ = store.list(PODS, label_selector=f"{PROFILE_LABEL}={profile_name}")
        stopped = 0
        for pod in pods:
            meta = pod["metadata"]
            if meta.get("deletionTimestamp"):
                continue
            try:
                store.delete(PODS, meta["namespace"], meta["name"])
                stopped += 1
            except ApiError as exc:
                if exc.status != 404:
                    raise
        if stopped:
            log.info("fargate profile %s deleting: stopped %d pod(s)", profile_name, stopped)
        return stopped

    async def run(self) -> None:
        while True:
            self.reconcile()
            await self.wakeup.wait(POLL_WALL_SECONDS * self.world.clock.speed)


async def run(world) -> None:
    await ProfileDeletionController(world).run()
