"""The one comparison of a kubeconfig's API server with an EKS cluster's endpoint and CA."""

from __future__ import annotations

import base64

import pytest

from iagent_tui.services.cluster_match import cluster_mismatch, normalise_url, same_ca

PEM = b"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\nabcDEF==\n-----END CERTIFICATE-----\n"
OTHER = b"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUZ\nxyzXYZ==\n-----END CERTIFICATE-----\n"


@pytest.mark.parametrize("a, b", [
    ("https://ABC.gr7.eu-central-1.eks.amazonaws.com", "https://abc.gr7.eu-central-1.eks.amazonaws.com:443/"),
    ("https://127.0.0.1:6443/", "https://127.0.0.1:6443"),
    ("http://host", "http://host:80"),
])
def test_same_server_written_differently(a, b):
    assert normalise_url(a) == normalise_url(b)


@pytest.mark.parametrize("a, b", [
    ("https://127.0.0.1:6443", "https://127.0.0.1:6444"),
    ("https://a.example.com", "https://b.example.com"),
    ("https://a.example.com", "http://a.example.com"),
])
def test_different_servers(a, b):
    assert normalise_url(a) != normalise_url(b)


def test_ca_compared_without_armour_and_line_breaks_and_within_a_bundle():
    b64 = base64.b64encode(PEM).decode()
    assert same_ca(PEM.replace(b"\n", b"\r\n"), b64)
    assert same_ca(OTHER + PEM, b64)
    assert not same_ca(OTHER, b64)
    assert same_ca(None, b64) and same_ca(PEM, "")  # nothing to compare on one side
    assert not same_ca(PEM, "not base64!")


def test_mismatch_names_both_sides_and_the_fix():
    text = cluster_mismatch("ctx-a", "https://a.example.com", None, "iagent-cluster", "https://b.example.com", None)
    assert "kubeconfig context ctx-a points at https://a.example.com" in text
    assert "EKS cluster iagent-cluster's endpoint is https://b.example.com" in text
    assert "aws eks update-kubeconfig --name iagent-cluster" in text
    assert cluster_mismatch("c", "https://A.example.com:443/", PEM, "x", "https://a.example.com",
                            base64.b64encode(PEM).decode()) == ""
    ca = cluster_mismatch("c", "https://a.example.com", OTHER, "x", "https://a.example.com", base64.b64encode(PEM).decode())
    assert "different certificate authority" in ca
