"""Checks on `iagent-tui sandbox`'s options, made before the sandbox starts, so a bad value ends in
one click usage error (exit 2) instead of a traceback after a minute of start-up, or in faults
that silently never fire."""

from __future__ import annotations

import math
import os
from pathlib import Path

import click


def check_rates(speed: float, throttle_rate: float, error_rate: float, latency: float) -> None:
    for value, hint, rule in ((speed, "--speed", "a number greater than 0"),
                              (throttle_rate, "--aws-throttle-rate", "a fraction from 0 to 1"),
                              (error_rate, "--aws-error-rate", "a fraction from 0 to 1"),
                              (latency, "--aws-latency", "a number of seconds, 0 or more")):
        if not math.isfinite(value):  # click's FloatRange lets nan and inf through
            raise click.BadParameter(f"{value} is not {rule}", param_hint=hint)
    if speed <= 0:
        raise click.BadParameter("must be greater than 0", param_hint="--speed")
    if latency < 0:
        raise click.BadParameter("must be 0 or more seconds", param_hint="--aws-latency")
    # One draw per call decides throttle, error or neither: the two fractions share one call.
    if throttle_rate + error_rate > 1:
        raise click.BadParameter(
            f"--aws-error-rate {error_rate:g} + --aws-throttle-rate {throttle_rate:g} = {error_rate + throttle_rate:g}; "
            "together they must be at most 1 (they are fractions of the same AWS calls)",
            param_hint="--aws-error-rate/--aws-throttle-rate")


def path_problem(path: Path) -> str:
    """"" when a file can be written at ``path`` (its missing parents created), else why not.
    Asked of the file system without creating anything, so a refused start leaves no trace."""
    if path.is_dir():
        return f"{path} is a directory"
    if path.exists():
        return "" if os.access(path, os.W_OK) else f"{path} is not writable"
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"{ancestor} is not a directory, so {path} cannot be created"
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return f"cannot create {path}: {ancestor} is not writable"
    return ""


def check_output_paths(kubeconfig: Path, env_file: Path) -> None:
    if kubeconfig.resolve() == env_file.resolve():
        raise click.BadParameter(f"{kubeconfig} is also the --env-file; give two different files",
                                 param_hint="--kubeconfig")
    for path, hint in ((kubeconfig, "--kubeconfig"), (env_file, "--env-file")):
        problem = path_problem(path)
        if problem:
            raise click.BadParameter(problem, param_hint=hint)
    helm = env_file.resolve().parent / "bin" / "helm"  # the env file's helm goes next to it
    problem = "" if helm.parent.is_dir() else path_problem(helm)
    if problem or (helm.parent.is_dir() and not os.access(helm.parent, os.W_OK | os.X_OK)):
        raise click.BadParameter(f"the sandbox's helm goes to {helm}: {problem or f'{helm.parent} is not writable'}",
                                 param_hint="--env-file")


def check_read_only_paths(kubeconfig: Path, env_file: Path, ro_kubeconfig: Path | None,
                          ro_env_file: Path | None) -> None:
    """The read-only identity's files: both or neither, and none of them another output file."""
    if (ro_kubeconfig is None) != (ro_env_file is None):
        given, missing = (("--read-only-kubeconfig", "--read-only-env-file") if ro_kubeconfig
                          else ("--read-only-env-file", "--read-only-kubeconfig"))
        raise click.BadParameter(f"{given} needs {missing} too (the env file points KUBECONFIG "
                                 "at the read-only kubeconfig)", param_hint=given)
    if ro_kubeconfig is None or ro_env_file is None:
        return
    taken = {kubeconfig.resolve(): "--kubeconfig", env_file.resolve(): "--env-file"}
    for path, hint in ((ro_kubeconfig, "--read-only-kubeconfig"), (ro_env_file, "--read-only-env-file")):
        if path.resolve() in taken:
            raise click.BadParameter(f"{path} is also the {taken[path.resolve()]}; give a file of its own",
                                     param_hint=hint)
        taken[path.resolve()] = hint
        problem = path_problem(path)
        if problem:
            raise click.BadParameter(problem, param_hint=hint)
