"""Settings: iagent.yaml, then IAGENT_* environment variables, then command-line flags.

Which file: ``--config`` (passed as ``config_path``), else ``$IAGENT_CONFIG``, else ``./iagent.yaml``
if it exists. Nested fields come from the environment with ``__``: ``IAGENT_FARGATE__NAMESPACES``.
List fields accept JSON (``["a","b"]``) or a comma-separated string (``a,b``).

A bad setting raises ConfigError with one sentence per problem naming where it came from (the file,
the environment variable or the flag), the field, and what is allowed. No pydantic dump.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

from .names import is_dns1123_label, is_label_key, is_label_value
from .deadlines import check_waits
from .keymap import check_keymap
from .regions import HOW_TO_LIST, is_known_region

DEFAULT_CONFIG_FILE = "iagent.yaml"
ENV_PREFIX = "IAGENT_"

_CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$")  # EKS CreateCluster name rule
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d+$")
_SUBNET = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")

# What each constrained field allows, said the way a person would read it in an error.
_ALLOWED: dict[str, str] = {
    "cluster": "an EKS cluster name: letters, digits, '-' and '_', starting with a letter or digit, at most 100 characters",
    "region": f"an AWS region code such as eu-central-1 that botocore knows ({HOW_TO_LIST})",
    "namespaces": "a list of Kubernetes namespace names (lowercase letters, digits and '-', at most 63 characters)",
    "fargate.namespaces": "a non-empty list of Kubernetes namespace names (lowercase letters, digits and '-', at most 63 characters)",
    "fargate.profile_prefix": "lowercase letters, digits and '-' (profile names are <prefix><namespace>)",
    "fargate.pod_execution_role_name": "an IAM role name (letters, digits and +=,.@_-, at most 64 characters, no path)",
    "fargate.subnets": "a list of subnet ids such as subnet-0abc12345def67890 (empty = discover private subnets)",
    "startup_target_seconds": "a number of seconds greater than 0",
    "read_only": "true or false",
    "fargate.profile_scope": "label (profiles select the namespace and fargate.move_label) or namespace",
    "fargate.move_label": "a Kubernetes label as key=value, e.g. iagent.io/compute=fargate",
    "keymap": "",  # its validator says what is allowed, in the keymap's own words
    "waits": "",  # likewise (iagent_tui/deadlines.py)
    "aws_calls_per_minute": "a whole number of AWS calls a minute, 1 or more (default 60)",
    "pricing_discount_percent": "pricing.discount_percent: a Savings Plans discount in percent, 0 or more and below 100",
}


def _split_list(value: Any) -> Any:
    """Accept "a, b" as well as a list, so env vars and flags stay easy to type."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _check_namespaces(values: list[str]) -> list[str]:
    bad = [v for v in values if not is_dns1123_label(v)]
    if bad:
        raise ValueError(f"not a valid namespace name: {', '.join(map(repr, bad))}")
    return values


class FargateSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    namespaces: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["default", "prod", "staging"])
    profile_prefix: str = "fp-"
    pod_execution_role_name: str = "AmazonEKSFargatePodExecutionRole"
    subnets: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # What deploy and add-namespace create: "label" profiles select <namespace> + move_label, so a
    # workload moves either way by a rolling update of its pod template (add or remove the label)
    # and workloads that cannot run on Fargate stay on EC2; "namespace" profiles take every new pod
    # of the namespace, and only deleting pods moves them back.
    profile_scope: Literal["label", "namespace"] = "label"
    move_label: str = "iagent.io/compute=fargate"

    _split = field_validator("namespaces", "subnets", mode="before")(_split_list)

    @field_validator("move_label")
    @classmethod
    def _check_move_label(cls, value: str) -> str:
        key, sep, label_value = value.partition("=")
        if not sep or not is_label_key(key) or not is_label_value(label_value) or not label_value:
            raise ValueError("not a Kubernetes label as key=value")
        return value

    @property
    def move_label_pair(self) -> tuple[str, str]:
        key, _, value = self.move_label.partition("=")
        return key, value

    @field_validator("namespaces")
    @classmethod
    def _namespaces(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("at least one namespace is required")
        return _check_namespaces(v)

    @field_validator("profile_prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        if v and not re.match(r"^[a-z0-9][-a-z0-9]*$", v):
            raise ValueError(f"{v!r} is not a valid profile name prefix")
        return v

    @field_validator("pod_execution_role_name")
    @classmethod
    def _role(cls, v: str) -> str:
        if not _ROLE_NAME.match(v):
            raise ValueError(f"{v!r} is not an IAM role name")
        return v

    @field_validator("subnets")
    @classmethod
    def _subnets(cls, v: list[str]) -> list[str]:
        bad = [s for s in v if not _SUBNET.match(s)]
        if bad:
            raise ValueError(f"not a subnet id: {', '.join(map(repr, bad))}")
        return v


_INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*\.[a-z0-9-]+")


class RegionRates(BaseModel):
    """Overrides of one region's Fargate rates in USD (DOMAIN.md 2.2); unset = the built-in rate.
    Needed for regions the built-in table lacks (then vcpu_hour and gb_hour are required)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    vcpu_hour: float | None = Field(default=None, ge=0)
    gb_hour: float | None = Field(default=None, ge=0)
    ephemeral_gb_hour: float | None = Field(default=None, ge=0)
    min_billable_seconds: int | None = Field(default=None, ge=0)
    # EC2 on-demand USD per instance-hour by instance type, over the built-in table (ec2_pricing.py)
    ec2: dict[str, Annotated[float, Field(ge=0)]] | None = None

    @field_validator("ec2")
    @classmethod
    def _instance_types(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        bad = [k for k in value or {} if not _INSTANCE_TYPE.fullmatch(k)]
        if bad:
            raise ValueError(f"not an EC2 instance type: {', '.join(map(repr, bad))} (expected family.size, e.g. m5.large)")
        return value


_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_window(value: Any) -> float:
    """A duration as an operator types it: 90 (seconds), "90s", "10m", "1h30m". ValueError otherwise."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _DURATION.fullmatch(str(value).strip()) if isinstance(value, str) else None
        if match is None or not any(match.groups()):
            raise ValueError(f"{value!r} is not a duration such as 90s, 10m or 1h")
        hours, minutes, secs = (int(g or 0) for g in match.groups())
        seconds = float(hours * 3600 + minutes * 60 + secs)
    if seconds <= 0:
        raise ValueError(f"a usage window must be longer than 0 s, got {value!r}")
    return seconds


class RightsizingSettings(BaseModel):
    """Right-sizing from metrics-server usage (iagent_tui/insights/rightsizing.py)."""
    model_config = ConfigDict(extra="forbid", frozen=True)

    headroom_percent: float = Field(default=20, ge=0, le=400)  # over the observed p95, never under it
    window: float = 600.0  # seconds of samples the p95 is taken over ("10m" in the file)
    sample_seconds: float = Field(default=15, gt=0)  # how often usage is read (metrics-server scrapes every 15 s)
    # Where the dashboard keeps its samples (rewritten every minute) for `report --usage-from`; None: nowhere
    record_file: Path | None = None

    @field_validator("window", mode="before")
    @classmethod
    def _window(cls, v: Any) -> float:
        return parse_window(v)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=True, case_sensitive=False
    )

    cluster: str = "iagent-cluster"
    region: str = "eu-central-1"
    aws_profile: str | None = None
    kube_context: str | None = None
    kubeconfig: str | None = None
    read_only: bool = False
    namespaces: Annotated[list[str], NoDecode] = Field(default_factory=list)  # watch scope; empty = all
    fargate: FargateSettings = Field(default_factory=FargateSettings)
    pricing: dict[str, RegionRates] = Field(default_factory=dict)  # region -> rate overrides
    # pricing.discount_percent in the file; moved here by _pricing_discount (pricing maps regions)
    pricing_discount_percent: float = Field(default=0, ge=0, lt=100)
    startup_target_seconds: float = Field(default=120, gt=0)
    journal_dir: Path = Field(default_factory=lambda: Path("~/.local/state/iagent-tui/journal").expanduser())
    helm: str | None = None  # the helm executable deploy runs; None = `helm` on PATH
    alb_proxy: str | None = None  # HTTP proxy for smoke's requests to the ALB (the sandbox's ALB front)
    keymap: dict[str, str] = Field(default_factory=dict)  # dashboard command id -> key, e.g. {open-help: f1}
    waits: dict[str, float] = Field(default_factory=dict)  # wait kind -> deadline seconds, and scale (deadlines.py)
    rightsizing: RightsizingSettings = Field(default_factory=RightsizingSettings)
    # What the dashboard's AWS polling may spend; AWS throttles per account, and the AWS Load
    # Balancer Controller and colleagues running this tool share that limit.
    aws_calls_per_minute: int = Field(default=60, ge=1)

    _split = field_validator("namespaces", mode="before")(_split_list)

    @model_validator(mode="before")
    @classmethod
    def _pricing_discount(cls, data: Any) -> Any:
        """``pricing.discount_percent`` (a Savings Plans discount) sits among the regions in the
        file, as a user would look for it there; the model keeps it in its own field."""
        if isinstance(data, dict) and isinstance(data.get("pricing"), dict) and "discount_percent" in data["pricing"]:
            pricing = dict(data["pricing"])
            data = {**data, "pricing": pricing, "pricing_discount_percent": pricing.pop("discount_percent")}
        return data

    def rate_overrides(self) -> dict[str, dict[str, float]]:
        """The pricing overrides in the shape iagent_tui.insights.rate_card() takes."""
        return {region: r.model_dump(exclude_none=True) for region, r in self.pricing.items()}

    @field_validator("cluster")
    @classmethod
    def _cluster(cls, v: str) -> str:
        if not _CLUSTER_NAME.match(v):
            raise ValueError(f"{v!r} is not a valid cluster name")
        return v

    @field_validator("region")
    @classmethod
    def _region(cls, v: str) -> str:
        if not _REGION.match(v) or not is_known_region(v):
            raise ValueError(f"{v!r} is not an AWS region")
        return v

    @field_validator("namespaces")
    @classmethod
    def _namespaces(cls, v: list[str]) -> list[str]:
        return _check_namespaces(v)

    @field_validator("keymap", mode="before")
    @classmethod
    def _keymap(cls, v: Any) -> dict[str, str]:
        # Before pydantic's own checks, so `open-help: 1` (a YAML number) is the key "1" and
        # every problem is said in the keymap's own words.
        if v is None:
            return {}
        if not isinstance(v, Mapping):
            raise ValueError("must be a mapping of command id to key, such as {open-help: f1, deploy: ctrl+d}")
        return check_keymap(v)

    @field_validator("waits", mode="before")
    @classmethod
    def _waits(cls, v: Any) -> dict[str, float]:
        if v is None:
            return {}
        if not isinstance(v, Mapping):
            raise ValueError("must be a mapping of wait kind to seconds, such as {scale: 2, profile-active: 900}")
        return check_waits(v)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # init = file values merged with flags by load_settings(); env sits between them.
        return (_FlagsSource(settings_cls), _EnvSource(settings_cls), init_settings)


class ConfigError(Exception):
    """A setting is wrong. ``str(err)`` is ready to show to a person."""


class _FlagsSource(PydanticBaseSettingsSource):
    """Command-line flags: the highest priority, set by load_settings() for the duration of a load."""

    current: dict[str, Any] = {}
    env: Mapping[str, str] | None = None  # the environment load_settings() was given

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self.current.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.current)


class _EnvSource(EnvSettingsSource):
    """IAGENT_* variables from the environment load_settings() was handed (os.environ by default),
    so tests and embedding code can pass their own without touching the process environment."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        env = os.environ if _FlagsSource.env is None else _FlagsSource.env
        return parse_env_vars(env, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


def config_file_path(config_path: str | os.PathLike[str] | None, env: Mapping[str, str]) -> tuple[Path | None, bool]:
    """(path, explicit): the file to read and whether the user named it (then it must exist)."""
    if config_path:
        return Path(config_path).expanduser(), True
    if env.get("IAGENT_CONFIG"):
        return Path(env["IAGENT_CONFIG"]).expanduser(), True
    default = Path(DEFAULT_CONFIG_FILE)
    return (default, False) if default.exists() else (None, False)


def _read_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read config file {path}: {exc.strerror or exc}.") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"Config file {path} is not UTF-8 text (byte {exc.start} is 0x{exc.object[exc.start]:02x}); "
                          "save it as UTF-8.") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        # One line: a YAMLError's str() spans several lines (the snippet and a caret).
        why = " ".join(str(getattr(exc, "problem", None) or getattr(exc, "reason", None) or exc).split())
        raise ConfigError(f"Config file {path} is not valid YAML{where}: {why}.") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"Config file {path} must be a mapping of settings (cluster: ..., region: ...), not {type(data).__name__}.")
    odd = [key for key in data if not isinstance(key, str)]
    if odd:  # `1: x` or `[a]: x` parse, but a setting is always named by a string
        raise ConfigError(f"Config file {path}: {odd[0]!r} is not a setting name; allowed: {', '.join(_field_names(Settings))}.")
    return data


def _field_names(model: type[BaseModel]) -> list[str]:
    return sorted(model.model_fields)


def _describe(err: dict[str, Any], path: Path | None, file_data: dict, flags: dict, env: Mapping[str, str]) -> str:
    loc = [str(part) for part in err.get("loc", ()) if not isinstance(part, int)]
    dotted = ".".join(loc)
    top = loc[0] if loc else ""
    env_name = ENV_PREFIX + "__".join(loc).upper()
    if top in flags:
        origin = f"command-line option for {dotted}"
    elif env_name in {k.upper() for k in env} or (ENV_PREFIX + top.upper()) in {k.upper() for k in env}:
        origin = f"environment variable {env_name}"
    elif nested := sorted(k for k in env if k.upper().startswith(f"{ENV_PREFIX}{top.upper()}__")):
        origin = f"environment variable {', '.join(nested)}"  # a mapping given key by key
    elif path is not None and top in file_data:
        origin = f"{path}: field {dotted}"
    else:
        origin = f"field {dotted}"
    if err.get("type") == "extra_forbidden":
        parent = Settings if len(loc) == 1 else {"fargate": FargateSettings}.get(loc[0], RegionRates if loc[0] == "pricing" else Settings)
        return f"{origin}: unknown setting; allowed: {', '.join(_field_names(parent))}."
    allowed = _ALLOWED.get(dotted)
    msg = str(err.get("msg", "invalid value"))
    msg = msg.removeprefix("Value error, ")
    if allowed is None:
        field = Settings.model_fields.get(top)
        annotation = getattr(field, "annotation", None) if field else None
        allowed = {"int_parsing": "a whole number", "float_parsing": "a number", "bool_parsing": "true or false"}.get(
            str(err.get("type")), getattr(annotation, "__name__", "") or ""
        )
    tail = f"; allowed: {allowed}" if allowed else ""
    return f"{origin}: {msg}{tail}."


def load_settings(
    config_path: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Build Settings from the file, the IAGENT_* environment and ``overrides`` (the CLI flags;
    None values are ignored so unset flags do not mask the file)."""
    env = os.environ if env is None else env
    path, explicit = config_file_path(config_path, env)
    if path is not None and explicit and not path.exists():
        raise ConfigError(f"Config file {path} does not exist (named by {'--config' if config_path else 'IAGENT_CONFIG'}).")
    file_data = _read_file(path) if path is not None else {}
    flags = {k: v for k, v in (overrides or {}).items() if v is not None}
    _FlagsSource.current, _FlagsSource.env = flags, env
    try:
        return Settings(**file_data)
    except ValidationError as exc:
        problems = [_describe(e, path, file_data, flags, env) for e in exc.errors(include_url=False)]
        where = f" (config file {path})" if path is not None else ""
        if len(problems) == 1 and not problems[0].startswith("field "):
            # One problem, one line: it already names where it came from (file, variable, flag).
            raise ConfigError(f"Invalid settings: {problems[0]}") from None
        raise ConfigError(f"Invalid settings{where}:\n  " + "\n  ".join(problems)) from None
    except ValueError as exc:  # pydantic-settings: an env value that is not valid JSON, etc.
        raise ConfigError(f"Invalid settings: {exc}.") from None
    finally:
        _FlagsSource.current, _FlagsSource.env = {}, None
