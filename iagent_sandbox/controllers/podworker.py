"""One pod's life on its node, as the kubelet drives it: pick-up, sandbox and IP, image pulls
(with ErrImagePull/ImagePullBackOff), init containers, container start, probes, crash loops, and
graceful termination ending in the final delete.

Each container runs in its own task (the kubelet restarts containers independently); the pod's
status is recomputed from the containers' in-memory state and written whenever it changes.
Timestamps come from the sandbox clock, so every condition, startTime and startedAt agrees with
the events (DOMAIN.md 7.3 measures start phases from exactly these fields).
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import logging
import math
from datetime import datetime, timedelta

from ..clock import parse_rfc3339, rfc3339
from . import behaviour, images, ipam
from . import kubeutil as ku

log = logging.getLogger(__name__)
BACKOFF_START_S, BACKOFF_MAX_S = 10.0, 300.0  # kubelet's container and image back-off


# The pod's own simulated timeline (sim seconds, as SandboxClock.elapsed counts them), one per
# asyncio task: containers run in parallel tasks and each advances only by its own waits. A planned
# 9.2 s pull stamps 9.2 s later than the pull began, even if a busy event loop (a fast clock
# multiplies every millisecond of lag) woke the task later than that.
_TIMELINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("pod_timeline", default=None)


def backoff(attempt: int) -> float:
    return min(BACKOFF_START_S * 2 ** max(0, attempt), BACKOFF_MAX_S)


def _hex(key: str, length: int) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:length]


class PodWorker:
    def __init__(self, kubelet, pod: dict) -> None:
        self.kubelet = kubelet
        self.world = kubelet.world
        self.store = kubelet.world.store
        self.clock = kubelet.world.clock
        meta = pod["metadata"]
        self.namespace, self.name, self.uid = meta["namespace"], meta["name"], meta["uid"]
        self.node_name = pod["spec"]["nodeName"]
        self.pod = pod
        self._changed = asyncio.Event()
        self.containers: dict[str, dict] = {}  # name -> containerStatus being maintained
        self.init_done = False
        self.finished = False
        self.task: asyncio.Task | None = None

    # -- plumbing ---------------------------------------------------------------------------
    @property
    def deleting(self) -> bool:
        return bool(self.pod["metadata"].get("deletionTimestamp"))

    def notify(self, pod: dict) -> None:
        self.pod = pod
        event, self._changed = self._changed, asyncio.Event()
        event.set()
        if pod["spec"].get("readinessGates") and self.containers:
            self.sync_status()  # a gate condition set by another controller changes Ready

    def sim_now(self) -> float:
        value = _TIMELINE.get()
        return self.clock.elapsed() if value is None else value

    def _advance(self, to: float) -> None:
        _TIMELINE.set(min(to, self.clock.elapsed()))

    def start_timeline(self, at: datetime) -> None:
        self._advance(self.clock.elapsed() - (self.clock.now() - at).total_seconds())

    async def pause(self, sim_seconds: float) -> bool:
        """Sleep simulated seconds (math.inf: until the pod changes); True if the pod is being
        deleted, which cuts every wait short."""
        began = self.sim_now()
        # Catch up: a timeline that fell behind the clock waits only for what is left.
        left = sim_seconds if math.isinf(sim_seconds) else max(0.0, began + sim_seconds - self.clock.elapsed())
        interrupted = await self._wait(left)
        if interrupted or math.isinf(sim_seconds):
            self._advance(self.clock.elapsed())
        else:
            self._advance(began + sim_seconds)
        return interrupted

    async def _wait(self, sim_seconds: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = None if math.isinf(sim_seconds) else loop.time() + self.clock.wall_seconds(sim_seconds)
        while not self.deleting:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                await asyncio.sleep(0)  # stay fair to the other pods while catching up
                return self.deleting
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                return False
            if deadline is None:
                return self.deleting
        return True

    def draw(self, key: str, low: float, high: float) -> float:
        return self.clock.draw(f"{key}:{self.uid}", low, high)

    def now_dt(self) -> datetime:
        return self.clock.now() - timedelta(seconds=self.clock.elapsed() - self.sim_now())

    def now(self) -> str:
        return rfc3339(self.now_dt())

    def event(self, reason: str, message: str, type: str = "Normal", container: str | None = None) -> None:
        field_path = None
        if container is not None:
            kind = "initContainers" if container in self._init_names() else "containers"
            field_path = f"spec.{kind}{{{container}}}"
        ku.record_event_at(self.store, self.now_dt(), self.pod, reason, message, type=type,
                           component="kubelet", host=self.node_name, field_path=field_path)

    def _init_names(self) -> set[str]:
        return {c["name"] for c in self.pod["spec"].get("initContainers") or ()}

    def write(self, fn) -> None:
        updated = self.store.mutate(ku.PODS, self.namespace, self.name, fn, status=True)
        if updated is not None:
            self.pod = updated

    # -- lifecycle --------------------------------------------------------------------------
    async def run(self) -> None:
        scheduled = ku.get_condition(self.pod, "PodScheduled") or {}
        if scheduled.get("status") == "True" and scheduled.get("lastTransitionTime"):
            self.start_timeline(parse_rfc3339(scheduled["lastTransitionTime"]))
        try:
            if not self.deleting:
                await self._live()
            while not self.deleting:  # a finished pod stays until someone deletes it
                await self.pause(math.inf)
            await self.terminate()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - say which pod broke instead of a silent task death
            log.exception("kubelet: pod %s/%s failed", self.namespace, self.name)

    async def _live(self) -> None:
        status = self.pod.get("status") or {}
        if not status.get("startTime"):
            if await self.pause(self.draw("pickup", 0.5, 1.5)):
                return
            self.start_sandbox()
        else:
            self.adopt(status)
        for spec in self.pod["spec"].get("initContainers") or ():
            if self.containers.get(spec["name"], {}).get("state", {}).get("terminated", {}).get("exitCode") == 0:
                continue
            if not await self.run_init(spec):
                return
        self.init_done = True
        self.sync_status()
        tasks = [asyncio.ensure_future(self.run_container(spec))
                 for spec in self.pod["spec"].get("containers") or ()]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()

    def start_sandbox(self) -> None:
        node = self.store.get(ku.NODES, None, self.node_name) or {"metadata": {"name": self.node_name}}
        host_ip = ku.node_internal_ip(node)
        if ku.is_fargate_node(node) or self.pod["spec"].get("hostNetwork") or not host_ip:
            pod_ip = host_ip  # Fargate: the microVM's address is the pod's (DOMAIN.md 3.7)
        else:
            pod_ip = ipam.allocate_ip(self.world, ipam.subnet_for_ip(self.world, host_ip), self.uid)
        now = self.now()
        has_init = bool(self.pod["spec"].get("initContainers"))
        self.init_done = not has_init  # no init containers: Initialized at startTime
        for spec in (self.pod["spec"].get("initContainers") or []) + self.pod["spec"].get("containers", []):
            self.containers[spec["name"]] = {
                "name": spec["name"], "image": spec["image"], "imageID": "", "ready": False,
                "restartCount": 0, "started": False, "lastState": {},
                "state": {"waiting": {"reason": "PodInitializing" if has_init else "ContainerCreating"}}}

        def apply(pod: dict) -> None:
            st = pod.setdefault("status", {})
            st["phase"] = "Pending"
            st["startTime"] = now
            st["qosClass"] = qos_class(pod["spec"])
            if host_ip:
                st["hostIP"] = host_ip
                st["hostIPs"] = [{"ip": host_ip}]
            if pod_ip:
                st["podIP"] = pod_ip
                st["podIPs"] = [{"ip": pod_ip}]
            ku.set_condition(st, "PodReadyToStartContainers", "True", now)
        self.write(apply)
        self.sync_status()

    def adopt(self, status: dict) -> None:
        """Pick up a pod this kubelet already ran (controllers restarted): keep what it shows."""
        for cs in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
            self.containers[cs["name"]] = dict(cs)

    # -- images -----------------------------------------------------------------------------
    async def pull(self, spec: dict) -> bool:
        """Pull the container's image (or find it on the node); False if the pod went away."""
        name, image = spec["name"], spec["image"]
        policy = spec.get("imagePullPolicy") or "IfNotPresent"
        cached = self.kubelet.image_cached(self.node_name, image)
        if cached and policy != "Always":
            self.event("Pulled", f'Container image "{image}" already present on machine', container=name)
            return True
        if policy == "Never":
            message = f'Container image "{image}" is not present with pull policy of Never'
            self.set_waiting(name, "ErrImageNeverPull", message)
            self.event("Failed", f"Error: ErrImageNeverPull", "Warning", name)
            while not await self.pause(math.inf):
                pass  # parked until the pod is deleted, as the kubelet leaves it
            return False
        attempt = 0
        while True:
            self.event("Pulling", f'Pulling image "{image}"', container=name)
            error = images.pull_error(image)
            if error is None:
                seconds = (self.draw(f"repull:{name}", 0.3, 0.9) if cached else
                           images.pull_seconds(image, self.draw(f"pull:{name}:{attempt}",
                                                                *images.THROUGHPUT_MB_S)))
                if await self.pause(seconds):
                    return False
                self.kubelet.remember_image(self.node_name, image)
                took = images.go_duration(seconds)
                self.event("Pulled", f'Successfully pulled image "{image}" in {took} ({took} including '
                                     f"waiting). Image size: {images.image_size(image)} bytes.",
                           container=name)
                return True
            if await self.pause(self.draw(f"pullfail:{name}:{attempt}", 0.5, 2.0)):
                return False
            self.event("Failed", f'Failed to pull image "{image}": {error}', "Warning", name)
            self.event("Failed", "Error: ErrImagePull", "Warning", name)
            self.set_waiting(name, "ErrImagePull", error)
            if await self.pause(1.0):
                return False
            back_off = f'Back-off pulling image "{image}"'
            self.event("BackOff", back_off, container=name)
            self.event("Failed", "Error: ImagePullBackOff", "Warning", name)
            self.set_waiting(name, "ImagePullBackOff", back_off)
            if await self.pause(backoff(attempt)):
                return False
            attempt += 1

    # -- containers -------------------------------------------------------------------------
    async def start(self, spec: dict) -> bool:
        if not await self.pull(spec):
            return False
        name = spec["name"]
        if await self.pause(self.draw(f"create:{name}", 0.1, 0.4)):
            return False
        self.event("Created", f"Created container {name}", container=name)
        if await self.pause(self.draw(f"start:{name}", 0.1, 0.4)):
            return False
        self.event("Started", f"Started container {name}", container=name)
        cs = self.containers[name]
        restarts = cs.get("restartCount", 0)
        cs["containerID"] = "containerd://" + _hex(f"{self.uid}:{name}:{restarts}", 64)
        ref = images.parse_image(spec["image"])
        cs["imageID"] = f"{ref.name}@sha256:{_hex(spec['image'], 64)}"
        self._retire(cs)
        cs["state"] = {"running": {"startedAt": self.now()}}
        cs["started"] = True
        cs["ready"] = False
        self.sync_status()
        return True

    async def run_init(self, spec: dict) -> bool:
        """Run an init container to completion, restarting it with back-off while it fails."""
        name = spec["name"]
        while True:
            if not await self.start(spec):
                return False
            plan = behaviour.exit_plan(spec, self.draw(f"initrun:{name}", 1.0, 3.0)) or \
                behaviour.ExitPlan(self.draw(f"initrun:{name}", 1.0, 3.0), 0)
            if await self.pause(plan.after_seconds):
                return False
            self.terminated(name, plan.exit_code)
            if plan.exit_code == 0:
                return True
            if not await self.crash_backoff(spec):
                return False

    async def run_container(self, spec: dict) -> None:
        name = spec["name"]
        cs = self.containers[name]
        if not ("running" in cs.get("state", {}) and cs.get("started")):
            if not await self.start(spec):
                return
        while True:
            outcome = await self.supervise(spec)
            if outcome is None:
                return
            exit_code, reason = outcome
            self.terminated(name, exit_code, reason)
            policy = self.pod["spec"].get("restartPolicy") or "Always"
            if policy == "Never" or (policy == "OnFailure" and exit_code == 0):
                self.finished = True
                self.sync_status()
                return
            if not await self.crash_backoff(spec):
                return
            if not await self.start(spec):
                return

    async def crash_backoff(self, spec: dict) -> bool:
        """The kubelet restarts at once after a first failure, then waits 10 s, 20 s, ... 5 min."""
        name = spec["name"]
        cs = self.containers[name]
        restarts = cs.get("restartCount", 0)
        if restarts > 0:
            delay = backoff(restarts - 1)
            message = (f"back-off {images.go_duration(delay)} restarting failed container={name} "
                       f"pod={self.name}_{self.namespace}({self.uid})")
            self.set_waiting(name, "CrashLoopBackOff", message)
            self.event("BackOff", f"Back-off restarting failed container {name} in pod "
                                  f"{self.name}_{self.namespace}({self.uid})", "Warning", name)
            if await self.pause(delay):
                return False
        cs["restartCount"] = restarts + 1
        return True

    async def supervise(self, spec: dict) -> tuple[int, str] | None:
        """Watch a running container: probes, readiness switches, planned exits. Returns
        (exit code, reason) when it stops by itself or is killed, None if the pod goes away."""
        name = spec["name"]
        started = self.sim_now()
        batch = (self.pod["spec"].get("restartPolicy") or "Always") != "Always"
        plan = behaviour.exit_plan(spec, self.draw(f"crash:{name}:{self.containers[name]['restartCount']}", 1.0, 3.0),
                                   batch=batch)
        exit_at = started + plan.after_seconds if plan else math.inf
        live = spec.get("livenessProbe")
        kill_at = math.inf
        if live and behaviour.liveness_fails(spec):
            kill_at = started + live.get("initialDelaySeconds", 0) + \
                live.get("periodSeconds", 10) * live.get("failureThreshold", 3)
        probe = spec.get("readinessProbe")
        ready_at = started + (probe.get("initialDelaySeconds", 0) if probe else 0)
        period = (probe or {}).get("periodSeconds", 10)
        threshold = (probe or {}).get("failureThreshold", 3)
        failures = 0
        next_probe = ready_at
        while True:
            now = self.sim_now()
            if now >= exit_at:
                return plan.exit_code, "Completed" if plan.exit_code == 0 else "Error"
            if now >= kill_at:
                message = behaviour.probe_failure_message(live, 500)
                self.event("Unhealthy", f"Liveness probe failed: {message}", "Warning", name)
                self.event("Killing", f"Container {name} failed liveness probe, will be restarted",
                           container=name)
                return 137, "Error"
            wake = min(exit_at, kill_at)
            if now >= next_probe:
                failing = bool(probe) and behaviour.readiness_fails(spec, self.pod)
                if failing:
                    failures += 1
                    message = behaviour.probe_failure_message(probe, 503)
                    self.event("Unhealthy", f"Readiness probe failed: {message}", "Warning", name)
                    if failures >= threshold or not self.containers[name]["ready"]:
                        self.set_ready(name, False)
                else:
                    failures = 0
                    self.set_ready(name, True)
                # Probing only matters while the answer could change: keep ticking while it
                # fails; otherwise sleep until the pod changes (an annotation flips the knob).
                next_probe = now + period if failing else math.inf
            elif now < ready_at:
                wake = min(wake, ready_at)
            wake = min(wake, next_probe)
            if math.isinf(wake):
                if await self.pause(math.inf):
                    return None
                if probe and behaviour.readiness_fails(spec, self.pod):
                    next_probe = self.sim_now()  # probe again now that the knob flipped
                continue
            if await self.pause(max(0.0, wake - self.sim_now())):
                return None

    # -- status -----------------------------------------------------------------------------
    def set_waiting(self, name: str, reason: str, message: str | None = None) -> None:
        waiting = {"reason": reason}
        if message:
            waiting["message"] = message
        cs = self.containers[name]
        self._retire(cs)
        cs["state"] = {"waiting": waiting}
        cs["ready"] = False
        cs["started"] = False
        self.sync_status()

    @staticmethod
    def _retire(cs: dict) -> None:
        """A terminated instance becomes lastState once the kubelet moves on (back-off, restart)."""
        if "terminated" in cs.get("state", {}):
            cs["lastState"] = {"terminated": cs["state"]["terminated"]}

    def set_ready(self, name: str, ready: bool) -> None:
        cs = self.containers[name]
        if cs["ready"] != ready:
            cs["ready"] = ready
            self.sync_status()

    def terminated(self, name: str, exit_code: int, reason: str | None = None) -> None:
        cs = self.containers[name]
        started_at = cs.get("state", {}).get("running", {}).get("startedAt", self.now())
        term = {"exitCode": exit_code, "reason": reason or ("Completed" if exit_code == 0 else "Error"),
                "startedAt": started_at, "finishedAt": self.now(),
                "containerID": cs.get("containerID", "")}
        cs["state"] = {"terminated": term}  # lastState keeps the instance before this one
        cs["ready"] = False
        cs["started"] = False
        self.sync_status()

    def sync_status(self) -> None:
        now = self.now()
        spec = self.pod["spec"]
        init_names = [c["name"] for c in spec.get("initContainers") or ()]
        app_names = [c["name"] for c in spec.get("containers") or ()]
        init_statuses = [self._public(self.containers[n]) for n in init_names if n in self.containers]
        app_statuses = [self._public(self.containers[n]) for n in app_names if n in self.containers]
        unready = [s["name"] for s in app_statuses if not s["ready"]]
        gates = [g["conditionType"] for g in spec.get("readinessGates") or ()]
        phase = pod_phase(app_statuses, spec.get("restartPolicy") or "Always")

        def apply(pod: dict) -> None:
            st = pod.setdefault("status", {})
            if init_statuses:
                st["initContainerStatuses"] = init_statuses
            st["containerStatuses"] = app_statuses
            st["phase"] = phase
            if self.init_done:
                ku.set_condition(st, "Initialized", "True", now, probe_time=True)
            else:
                waiting = [n for n in init_names
                           if self.containers.get(n, {}).get("state", {}).get("terminated", {}).get("exitCode") != 0]
                ku.set_condition(st, "Initialized", "False", now, "ContainersNotInitialized",
                                 f"containers with incomplete status: [{' '.join(waiting)}]", probe_time=True)
            if unready:
                reason, message = "ContainersNotReady", f"containers with unready status: [{' '.join(unready)}]"
                ku.set_condition(st, "ContainersReady", "False", now, reason, message, probe_time=True)
                ku.set_condition(st, "Ready", "False", now, reason, message, probe_time=True)
                return
            ku.set_condition(st, "ContainersReady", "True", now, probe_time=True)
            gate_problem = readiness_gate_problem(st, gates)
            if gate_problem:
                ku.set_condition(st, "Ready", "False", now, "ReadinessGatesNotReady", gate_problem,
                                 probe_time=True)
            else:
                ku.set_condition(st, "Ready", "True", now, probe_time=True)
        self.write(apply)

    @staticmethod
    def _public(cs: dict) -> dict:
        out = {k: v for k, v in cs.items() if k in (
            "name", "image", "imageID", "containerID", "ready", "restartCount", "started",
            "state", "lastState")}
        if not out.get("containerID"):
            out.pop("containerID", None)
        return out

    # -- termination ------------------------------------------------------------------------
    async def terminate(self) -> None:
        """Stop the containers (SIGTERM; the apps exit quickly, well inside the grace period),
        then the final delete that removes the pod from the API."""
        if self.store.get(ku.PODS, self.namespace, self.name) is None:
            return
        running = [n for n, cs in self.containers.items() if "running" in cs.get("state", {})]
        if running and self.deleting:
            self._advance(self.clock.elapsed())
            for name in running:
                self.event("Killing", f"Stopping container {name}", container=name)
            grace = self.pod["metadata"].get("deletionGracePeriodSeconds")
            if grace is None:
                grace = self.pod["spec"].get("terminationGracePeriodSeconds", 30)
            stop = min(float(grace), self.draw("stop", 0.5, 3.0))
            await self.clock.sleep(stop)
            self._advance(self.clock.elapsed())
            for name in running:
                self.terminated(name, 0 if stop < grace else 137)
        if self.deleting:
            self.store.finalize_pod(self.namespace, self.name)


def pod_phase(statuses: list[dict], restart_policy: str) -> str:
    if not statuses:
        return "Pending"
    states = [s.get("state", {}) for s in statuses]
    if restart_policy != "Always" and all("terminated" in s for s in states):
        return "Succeeded" if all(s["terminated"].get("exitCode") == 0 for s in states) else "Failed"
    if all(s.get("started") or "terminated" in s.get("lastState", {}) or "terminated" in s.get("state", {})
           or s.get("restartCount", 0) > 0 for s in statuses):
        return "Running"
    return "Pending"


def readiness_gate_problem(status: dict, gates: list[str]) -> str | None:
    for gate in gates:
        cond = next((c for c in status.get("conditions") or () if c.get("type") == gate), None)
        if cond is None:
            return f'corresponding condition of pod readiness gate "{gate}" does not exist.'
        if cond.get("status") != "True":
            return f'the status of pod readiness gate "{gate}" is not "True", but {cond.get("status")}'
    return None


def qos_class(spec: dict) -> str:
    containers = (spec.get("containers") or []) + (spec.get("initContainers") or [])
    any_set, guaranteed = False, True
    for c in containers:
        res = c.get("resources") or {}
        requests, limits = res.get("requests") or {}, res.get("limits") or {}
        if requests or limits:
            any_set = True
        for resource in ("cpu", "memory"):
            if resource not in limits or requests.get(resource, limits[resource]) != limits[resource]:
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"
