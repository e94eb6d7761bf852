"""Fargate profile changes under EKS's one-at-a-time rule (DOMAIN.md 3.2): before creating or
deleting a profile, wait until no other profile of the cluster is CREATING or DELETING; then wait
for this one to reach ACTIVE (or to be gone). Used by deploy, add-namespace and rollback."""

from __future__ import annotations

from collections.abc import AsyncIterator

from iagent_tui.services.errors import ServiceError

from .base import ProgressEvent, StepFailed
from .cluster_state import TRANSITIONAL, health_text, profile, profiles
from .context import ActionContext
from .waits import wait_until

# A create can still lose a race with a profile someone else started; retry that many times.
CONFLICT_RETRIES = 5


def profile_selectors(namespace: str, labels: dict[str, str] | None = None) -> dict:
    return {"namespace": namespace, **({"labels": dict(labels)} if labels else {})}


def namespace_selectors(fargate_settings, namespace: str) -> dict:
    """The selector deploy and add-namespace give a namespace's profile: the namespace and the move
    label (``profile_scope: label``, the default), or the whole namespace (``namespace``)."""
    if fargate_settings.profile_scope == "label":
        key, value = fargate_settings.move_label_pair
        return profile_selectors(namespace, {key: value})
    return profile_selectors(namespace)


def is_label_scoped(profile: dict, fargate_settings, namespace: str) -> bool:
    """Whether every selector of ``profile`` for ``namespace`` requires the move label: then only
    labelled pods land on it, and removing the label moves a workload off it by a rolling update."""
    key, value = fargate_settings.move_label_pair
    mine = [s for s in profile.get("selectors") or () if s.get("namespace") == namespace]
    return bool(mine) and all((s.get("labels") or {}).get(key) == value for s in mine)


async def wait_for_quiet_profiles(ctx: ActionContext, step_id: str, own: str) -> AsyncIterator[ProgressEvent]:
    async def check() -> tuple[bool, str]:
        busy = sorted(f"{n} {p.get('status')}" for n, p in (await profiles(ctx)).items()
                      if n != own and p.get("status") in TRANSITIONAL)
        return (not busy), (", ".join(busy) or "none in transition")

    async for event in wait_until(check, "other Fargate profiles to finish (one change at a time)", step_id, ctx,
                                  "profiles-quiet", next_step=f"aws eks list-fargate-profiles --cluster-name {ctx.cluster_name}"):
        yield event


async def create_profile(ctx: ActionContext, step_id: str, name: str, role_arn: str, subnets: list[str],
                         selectors: list[dict]) -> AsyncIterator[ProgressEvent]:
    for _attempt in range(CONFLICT_RETRIES):
        current = await profile(ctx, name)
        if current is not None and current.get("status") != "DELETING":
            break
        if current is not None:  # a profile of this name is being deleted: wait it out, then create
            async for event in _wait_gone(ctx, step_id, name):
                yield event
        async for event in wait_for_quiet_profiles(ctx, step_id, name):
            yield event
        try:
            created = await ctx.aws_changes.create_fargate_profile(ctx.cluster_name, name, role_arn, subnets, selectors)
            yield ProgressEvent("info", f"Fargate profile {name} requested (status {created.get('status')})", step_id)
            break
        except ServiceError as err:
            if err.kind == "conflict" and "currently has Fargate profile" in err.message:
                yield ProgressEvent("warning", f"Another profile started changing first: {err.code}; waiting again", step_id)
                continue
            raise
    else:
        raise StepFailed(f"Could not create Fargate profile {name}: other profiles kept changing. Run deploy again later.")
    async for event in _wait_active(ctx, step_id, name):
        yield event


async def _wait_active(ctx: ActionContext, step_id: str, name: str) -> AsyncIterator[ProgressEvent]:
    async def check() -> tuple[bool, str]:
        current = await profile(ctx, name)
        if current is None:
            raise StepFailed(f"Fargate profile {name} disappeared while it was being created. Run the action again.")
        status = current.get("status", "")
        if status in ("CREATE_FAILED", "DELETE_FAILED"):
            raise StepFailed(f"Fargate profile {name} is {status}: {health_text(current) or 'no detail from EKS'}. "
                             f"Fix the cause (pod execution role, subnets), delete the profile "
                             f"(aws eks delete-fargate-profile --cluster-name {ctx.cluster_name} "
                             f"--fargate-profile-name {name}) and run the action again.")
        return status == "ACTIVE", status

    async for event in wait_until(check, f"Fargate profile {name} to be ACTIVE", step_id, ctx, "profile-active",
                                  next_step=f"aws eks describe-fargate-profile --cluster-name {ctx.cluster_name} "
                                            f"--fargate-profile-name {name}"):
        yield event


async def _wait_gone(ctx: ActionContext, step_id: str, name: str) -> AsyncIterator[ProgressEvent]:
    async def check() -> tuple[bool, str]:
        current = await profile(ctx, name)
        if current is None:
            return True, "deleted"
        if current.get("status") == "DELETE_FAILED":
            raise StepFailed(f"Deleting Fargate profile {name} failed: {health_text(current) or 'no detail from EKS'}. "
                             "Check it in the EKS console, then run the action again.")
        return False, current.get("status", "")

    async for event in wait_until(check, f"Fargate profile {name} to be deleted", step_id, ctx, "profile-deleted",
                                  next_step=f"aws eks describe-fargate-profile --cluster-name {ctx.cluster_name} "
                                            f"--fargate-profile-name {name}"):
        yield event


async def delete_profile(ctx: ActionContext, step_id: str, name: str) -> AsyncIterator[ProgressEvent]:
    for _attempt in range(CONFLICT_RETRIES):
        current = await profile(ctx, name)
        if current is None:
            return
        if current.get("status") == "DELETING":
            break
        async for event in wait_for_quiet_profiles(ctx, step_id, name):
            yield event
        try:
            await ctx.aws_changes.delete_fargate_profile(ctx.cluster_name, name)
            yield ProgressEvent("info", f"Fargate profile {name} deletion requested", step_id)
            break
        except ServiceError as err:
            if err.kind == "not_found":
                return
            if err.kind == "conflict" and "currently has Fargate profile" in err.message:
                yield ProgressEvent("warning", f"Another profile started changing first: {err.code}; waiting again", step_id)
                continue
            raise
    else:
        raise StepFailed(f"Could not delete Fargate profile {name}: other profiles kept changing. Run the action again later.")
    async for event in _wait_gone(ctx, step_id, name):
        yield event
