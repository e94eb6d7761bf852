"""Fargate profile deletion, in the cluster (DOMAIN.md 3.6): "Any Pods that are running using a
Fargate profile are stopped and put into a pending state when the profile is deleted. If those Pods
match another Fargate profile, then they're scheduled on Fargate with that profile."

When a profile turns DELETING, its pods (label ``eks.amazonaws.com/fargate-profile=<name>``) are
deleted; their ReplicaSets recreate them, and the Fargate admission places the new pods with
another matching profile or leaves them to the default scheduler (Pending when nothing fits).

moto offers no notification when DeleteFargateProfile is called, so the profiles are read once per
wall second (more often only when the clock runs so fast that a deletion would fit between two
reads): one in-process call that computes the statuses of a handful of profiles.
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
POLL_SIM_SECONDS = 15.0     # a deletion lasts ~2 simulated minutes: see it while it happens
MIN_POLL_WALL = 0.05


class ProfileDeletionController:
    def __init__(self, world) -> None:
        self.world = world
        self.wakeup = Wakeup(world.clock)
        self._stopped: set[str] = set()   # DELETING profiles whose pods were already stopped
        self._known: set[str] = set()

    def reconcile(self) -> None:
        profiles = self.world.aws.fargate_profiles(self.world.cluster_name)
        seen = {p["fargateProfileName"]: p.get("status") for p in profiles}
        # A profile that vanished between two reads went through DELETING unseen (fast clocks):
        # its pods are stopped all the same.
        for name in self._known - set(seen):
            if name not in self._stopped:
                self.stop_pods(name)
        for name, status in seen.items():
            if status == "DELETING" and name not in self._stopped:
                self._stopped.add(name)
                self.stop_pods(name)
        self._stopped &= set(seen)    # a new profile may reuse a deleted one's name
        self._known = set(seen)

    def stop_pods(self, profile_name: str) -> int:
        store = self.world.store
        pods = store.scan(PODS, label_selector=f"{PROFILE_LABEL}={profile_name}")
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
            clock = self.world.clock
            await self.wakeup.wait(max(MIN_POLL_WALL * clock.rate(),
                                       min(POLL_WALL_SECONDS * clock.rate(), POLL_SIM_SECONDS)))


async def run(world) -> None:
    await ProfileDeletionController(world).run()
