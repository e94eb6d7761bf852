"""`iagent-tui status --json` against the same information gathered with kubectl and the aws CLI
(what the brief's `make status` does), on one sandbox, in one run. Goal: under a third of their time."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from .sandbox_proc import CLI, REPO, SandboxProcess

# The brief's status, step by step, as an operator would script it with the CLIs.
CLI_SCRIPT = r"""
set -e
C=$IAGENT_CLUSTER
aws eks describe-cluster --name "$C" > /dev/null
for p in $(aws eks list-fargate-profiles --cluster-name "$C" --query 'fargateProfileNames[]' --output text); do
  aws eks describe-fargate-profile --cluster-name "$C" --fargate-profile-name "$p" > /dev/null
done
for g in $(aws eks list-nodegroups --cluster-name "$C" --query 'nodegroups[]' --output text); do
  aws eks describe-nodegroup --cluster-name "$C" --nodegroup-name "$g" > /dev/null
done
aws eks describe-addon --cluster-name "$C" --addon-name coredns > /dev/null
kubectl get nodes -o json > /dev/null
kubectl get pods -A -o json > /dev/null
kubectl get pods -n kube-system -l k8s-app=kube-dns -o wide > /dev/null
kubectl get deployments,daemonsets,statefulsets,services,ingresses -A -o json > /dev/null
kubectl get events -A -o json > /dev/null
for lb in $(aws elbv2 describe-load-balancers --query 'LoadBalancers[].LoadBalancerArn' --output text); do :; done
for tg in $(aws elbv2 describe-target-groups --query 'TargetGroups[].TargetGroupArn' --output text); do
  aws elbv2 describe-target-health --target-group-arn "$tg" > /dev/null
done
"""


def _time(cmd: list[str], env: dict[str, str]) -> float:
    started = time.monotonic()
    result = subprocess.run(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    took = time.monotonic() - started
    if result.returncode not in (0, 1):  # status exits 1 when some source read with gaps
        raise RuntimeError(f"{cmd[:3]} failed: {result.stderr.decode()[-1500:]}")
    return took


def run(runs: int = 5) -> dict:
    with SandboxProcess(scenario="migrated") as sandbox:
        env = sandbox.environment()
        _time(CLI + ["status", "--json"], env)  # warm the file cache for both sides
        _time(["bash", "-c", CLI_SCRIPT], env)
        ours = [_time(CLI + ["status", "--json"], env) for _ in range(runs)]
        theirs = [_time(["bash", "-c", CLI_SCRIPT], env) for _ in range(runs)]
    result = {
        "status_json_median_s": statistics.median(ours),
        "kubectl_aws_median_s": statistics.median(theirs),
        "ratio": statistics.median(ours) / statistics.median(theirs),
        "runs": runs,
    }
    print(f"status --json vs kubectl+aws CLI (migrated scenario, {runs} runs each, medians):")
    print(f"  iagent-tui status --json   {result['status_json_median_s']:.2f} s   (runs: {', '.join(f'{x:.2f}' for x in ours)})")
    print(f"  kubectl + aws CLI script   {result['kubectl_aws_median_s']:.2f} s   (runs: {', '.join(f'{x:.2f}' for x in theirs)})")
    print(f"  ratio {result['ratio']:.2f} (goal: under 0.33)")
    return result


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
