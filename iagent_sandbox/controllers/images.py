"""Container images the twin knows: compressed sizes (what containerd reports as "Image size"),
pull times, and which references cannot be pulled.

Pull time model: a fixed registry round trip plus size over a per-pull throughput drawn from
8-14 MB/s. That reproduces DOMAIN.md 7.1: nginx (~70 MB) in ~9 s on a fresh Fargate node, a
~410 MB image in ~30-50 s, a ~900 MB one in over a minute. Fargate nodes never have an image
cached (one fresh microVM per pod); EC2 nodes keep what they pulled.

Unpullable references (the sandbox's rule, so a test or a demo can break a rollout on purpose):
- any reference containing ``doesnotexist``, ``does-not-exist`` or ``nonexistent`` -> the
  registry answers "not found" (ErrImagePull, then ImagePullBackOff);
- a registry host ending in ``.invalid`` or ``.example`` -> DNS fails ("no such host").
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 1_000_000
ECR_EKS = "602401143452.dkr.ecr.eu-central-1.amazonaws.com/eks"
IAGENT_ECR = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/iagent"

# Repository (normalised, no tag) -> compressed bytes. Sizes are those the registries show for
# the linux/amd64 manifests of recent tags, rounded.
IMAGE_SIZES: dict[str, int] = {
    "docker.io/library/nginx": 72_950_000,
    "public.ecr.aws/nginx/nginx": 20_480_000,  # the sample app uses the -alpine tag
    "docker.io/library/busybox": 2_150_000,
    "docker.io/library/alpine": 3_620_000,
    "public.ecr.aws/docker/library/busybox": 2_150_000,
    "public.ecr.aws/docker/library/alpine": 3_620_000,
    f"{ECR_EKS}/coredns": 19_770_000,
    f"{ECR_EKS}/kube-proxy": 29_340_000,
    f"{ECR_EKS}/pause": 299_000,
    "602401143452.dkr.ecr.eu-central-1.amazonaws.com/amazon-k8s-cni": 47_330_000,
    "602401143452.dkr.ecr.eu-central-1.amazonaws.com/amazon-k8s-cni-init": 61_860_000,
    "602401143452.dkr.ecr.eu-central-1.amazonaws.com/amazon/aws-network-policy-agent": 35_120_000,
    "public.ecr.aws/eks/aws-load-balancer-controller": 48_410_000,
    "602401143452.dkr.ecr.eu-central-1.amazonaws.com/amazon/aws-load-balancer-controller": 48_410_000,
    "public.ecr.aws/aws-observability/aws-for-fluent-bit": 112_600_000,
    "docker.io/nicolaka/netshoot": 187_300_000,
    f"{IAGENT_ECR}/api": 182_400_000,
    f"{IAGENT_ECR}/worker": 412_700_000,
    f"{IAGENT_ECR}/web": 24_900_000,
    f"{IAGENT_ECR}/indexer": 655_200_000,
    f"{IAGENT_ECR}/vectordb": 71_800_000,
    f"{IAGENT_ECR}/batch": 146_300_000,
}
DEFAULT_SIZE = 50 * MB
REGISTRY_ROUND_TRIP_S = 0.8
THROUGHPUT_MB_S = (8.0, 14.0)
_MISSING_MARKERS = ("doesnotexist", "does-not-exist", "nonexistent")
_DEAD_TLDS = (".invalid", ".example")


@dataclass(frozen=True)
class ImageRef:
    registry: str
    repository: str  # path inside the registry
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        """The repository without tag: docker.io/library/nginx."""
        return f"{self.registry}/{self.repository}"

    @property
    def full(self) -> str:
        """How containerd names the reference in its messages."""
        if self.digest:
            return f"{self.name}@{self.digest}"
        return f"{self.name}:{self.tag or 'latest'}"


def parse_image(image: str) -> ImageRef:
    """Docker reference normalisation: "nginx" -> docker.io/library/nginx:latest."""
    if not image or any(ch.isspace() for ch in image):
        raise ValueError(f"invalid image reference {image!r}")
    rest, digest = (image.split("@", 1) + [None])[:2] if "@" in image else (image, None)
    tag = None
    last = rest.rsplit("/", 1)[-1]
    if ":" in last:
        rest, tag = rest.rsplit(":", 1)
    first, _, remainder = rest.partition("/")
    if remainder and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first, remainder
    else:
        registry, repository = "docker.io", rest
        if "/" not in repository:
            repository = f"library/{repository}"
    return ImageRef(registry, repository, tag, digest)


def image_size(image: str) -> int:
    return IMAGE_SIZES.get(parse_image(image).name, DEFAULT_SIZE)


def pull_seconds(image: str, throughput_mb_s: float) -> float:
    return REGISTRY_ROUND_TRIP_S + image_size(image) / MB / throughput_mb_s


def pull_error(image: str) -> str | None:
    """The containerd error a pull of this reference ends with, or None if it can be pulled."""
    ref = parse_image(image)
    full = ref.full
    lowered = image.lower()
    if ref.registry.endswith(_DEAD_TLDS):
        return (f'rpc error: code = Unknown desc = failed to pull and unpack image "{full}": '
                f'failed to resolve reference "{full}": failed to do request: Head '
                f'"https://{ref.registry}/v2/{ref.repository}/manifests/{ref.tag or "latest"}": '
                f"dial tcp: lookup {ref.registry}: no such host")
    if any(marker in lowered for marker in _MISSING_MARKERS):
        return (f'rpc error: code = NotFound desc = failed to pull and unpack image "{full}": '
                f'failed to resolve reference "{full}": {full}: not found')
    return None


def go_duration(seconds: float) -> str:
    """Go's time.Duration String() of a duration truncated to milliseconds ("9.218s", "653ms",
    "1m2.5s"), as the kubelet prints pull times."""
    millis = int(seconds * 1000)
    if millis < 1000:
        return f"{millis}ms"
    minutes, millis = divmod(millis, 60_000)
    hours, minutes = divmod(minutes, 60)
    secs = f"{millis / 1000:.3f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{hours}h{minutes}m{secs}"
    if minutes:
        return f"{minutes}m{secs}"
    return secs
