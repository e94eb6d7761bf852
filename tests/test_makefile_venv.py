"""`make install` (and so `make run`) repairs a .venv left half-built by an interrupted first
install, and one whose python no longer runs, instead of failing on it forever. Runs the real
Makefile in a scratch directory; only the two pip steps are replaced (PIP_UPGRADE, PIP_INSTALL),
so the test does not download anything: what is under test is the venv creation and the stamp."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]



def make(directory: Path, install: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "install", f"PY={sys.executable}", "PIP_UPGRADE=true",
         f"PIP_INSTALL={install}"],
        cwd=directory, capture_output=True, text=True, timeout=120,
        env={k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "VIRTUAL_ENV")})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'scratch'\n")
    return tmp_path


def test_an_interrupted_first_install_is_rebuilt_by_the_next(project: Path):
    first = make(project, "false")  # the install step dies (Ctrl-C, network) after the venv exists
    assert first.returncode != 0
    assert (project / ".venv").is_dir() and not (project / ".venv/.installed").exists()
    (project / ".venv/leftover").write_text("half an install")

    second = make(project, "true")
    assert second.returncode == 0, second.stderr
    assert "half-built" in second.stdout
    assert (project / ".venv/.installed").exists() and not (project / ".venv/leftover").exists()
    assert subprocess.run([project / ".venv/bin/python", "-c", ""]).returncode == 0

    third = make(project, "false")  # up to date: nothing runs, so the failing step is not reached
    assert third.returncode == 0 and "half-built" not in third.stdout


def test_a_venv_whose_python_is_gone_is_rebuilt(project: Path):
    assert make(project, "true").returncode == 0
    python = project / ".venv/bin/python"
    python.unlink()
    python.symlink_to(project / "no-such-python")
    (project / "pyproject.toml").touch()
    os.utime(project / "pyproject.toml", (os.path.getmtime(project / ".venv/.installed") + 5,) * 2)
    again = make(project, "true")
    assert again.returncode == 0, again.stderr
    assert "half-built" in again.stdout
    assert subprocess.run([python, "-c", ""]).returncode == 0
