"""Fixtures for the service-layer tests: a moto server in a thread for the AWS reads."""

from __future__ import annotations

import os
import urllib.request

import pytest

FAKE_KEYS = {"AWS_ACCESS_KEY_ID": "AKIAIAGENTTEST000001", "AWS_SECRET_ACCESS_KEY": "iagent-test-secret", "AWS_DEFAULT_REGION": "eu-central-1"}


@pytest.fixture(scope="session")
def moto_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(monkeypatch):
    """Throw-away credentials so nothing reaches a real account or a developer's profile."""
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    for key, value in FAKE_KEYS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    return FAKE_KEYS


@pytest.fixture
def moto(moto_endpoint, aws_env):
    """A clean moto state for each test (moto's server keeps state between requests)."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")).read()
    return moto_endpoint
