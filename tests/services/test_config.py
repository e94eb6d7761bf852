"""config.py: file < env < flags, and errors that name the file, the field and what is allowed."""

from __future__ import annotations

import pytest

from iagent_tui.config import ConfigError, load_settings


@pytest.fixture
def cfg(tmp_path):
    path = tmp_path / "iagent.yaml"

    def write(text: str):
        path.write_text(text)
        return path

    return write


def test_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ./iagent.yaml here
    s = load_settings(env={})
    assert (s.cluster, s.region, s.read_only, s.namespaces) == ("iagent-cluster", "eu-central-1", False, [])
    assert s.fargate.namespaces == ["default", "prod", "staging"]
    assert (s.fargate.profile_prefix, s.fargate.pod_execution_role_name, s.fargate.subnets) == ("fp-", "AmazonEKSFargatePodExecutionRole", [])
    assert s.startup_target_seconds == 120 and s.pricing == {} and s.rate_overrides() == {}


def test_priority_file_then_env_then_flags(cfg):
    path = cfg("cluster: from-file\nregion: eu-west-1\nread_only: false\nfargate:\n  namespaces: [a]\n")
    s = load_settings(path, env={"IAGENT_REGION": "us-east-1", "IAGENT_FARGATE__NAMESPACES": "b, c"})
    assert (s.cluster, s.region, s.fargate.namespaces) == ("from-file", "us-east-1", ["b", "c"])
    s = load_settings(path, overrides={"region": "ap-south-1", "read_only": True, "cluster": None}, env={"IAGENT_REGION": "us-east-1"})
    assert (s.cluster, s.region, s.read_only) == ("from-file", "ap-south-1", True)


def test_config_path_from_env_and_default_file(cfg, tmp_path, monkeypatch):
    path = cfg("cluster: via-env\n")
    assert load_settings(env={"IAGENT_CONFIG": str(path)}).cluster == "via-env"
    monkeypatch.chdir(tmp_path)
    assert load_settings(env={}).cluster == "via-env"  # ./iagent.yaml


def test_bad_value_names_file_field_and_allowed(cfg):
    path = cfg("region: moon-base\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path, env={})
    text = str(err.value)
    assert str(path) in text and "region" in text and "'moon-base'" in text and "eu-central-1" in text
    assert "pydantic" not in text and "errors.pydantic.dev" not in text


def test_unknown_field_lists_allowed_ones(cfg):
    path = cfg("fargate:\n  namspaces: [prod]\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path, env={})
    assert ("fargate.namspaces: unknown setting; allowed: move_label, namespaces, pod_execution_role_name, "
            "profile_prefix, profile_scope, subnets") in str(err.value)


def test_env_and_flag_errors_name_their_origin(cfg):
    path = cfg("")
    with pytest.raises(ConfigError, match=r"environment variable IAGENT_READ_ONLY: .*allowed: true or false"):
        load_settings(path, env={"IAGENT_READ_ONLY": "perhaps"})
    with pytest.raises(ConfigError, match=r"command-line option for cluster: 'bad name!' is not a valid cluster name"):
        load_settings(path, overrides={"cluster": "bad name!"}, env={})
    with pytest.raises(ConfigError, match=r"IAGENT_FARGATE__SUBNETS: not a subnet id: 'sub-1'"):
        load_settings(path, env={"IAGENT_FARGATE__SUBNETS": "sub-1"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cluster: [x\n", r"not valid YAML at line 2"),
        ("- just\n- a list\n", r"must be a mapping of settings"),
        ("namespaces: [Prod_NS]\n", r"field namespaces: not a valid namespace name: 'Prod_NS'"),
        ("fargate:\n  namespaces: []\n", r"fargate.namespaces: at least one namespace is required"),
        ("startup_target_seconds: 0\n", r"startup_target_seconds: .*allowed: a number of seconds greater than 0"),
        ("pricing:\n  eu-central-1:\n    vcpu_hour: -1\n", r"pricing.eu-central-1.vcpu_hour: Input should be greater than or equal to 0"),
        ("pricing:\n  eu-central-1:\n    cpu: 1\n", r"pricing.eu-central-1.cpu: unknown setting; allowed: ec2, ephemeral_gb_hour, gb_hour, min_billable_seconds, vcpu_hour"),
        ("pricing:\n  eu-central-1:\n    ec2: {t3.large: -1}\n", r"pricing.eu-central-1.ec2.t3.large: Input should be greater than or equal to 0"),
        ("pricing:\n  eu-central-1:\n    ec2: {LARGE: 1}\n", r"pricing.eu-central-1.ec2: not an EC2 instance type: 'LARGE'"),
        ("pricing:\n  discount_percent: 100\n", r"pricing_discount_percent: .*allowed: pricing.discount_percent"),
    ],
)
def test_bad_files(cfg, text, expected):
    with pytest.raises(ConfigError, match=expected):
        load_settings(cfg(text), env={})


def test_pricing_overrides_feed_the_rate_card(cfg):
    from iagent_tui.insights import rate_card

    s = load_settings(cfg("pricing:\n  eu-central-1:\n    vcpu_hour: 0.05\n"), env={})
    assert s.rate_overrides() == {"eu-central-1": {"vcpu_hour": 0.05}}
    card = rate_card("eu-central-1", s.rate_overrides())
    assert card.vcpu_hour == 0.05 and card.gb_hour == rate_card("eu-central-1").gb_hour


def test_ec2_prices_and_discount_from_the_file(cfg):
    from iagent_tui.insights.assessment import Assessor
    from iagent_tui.insights.ec2_pricing import EC2_PRICES, ec2_prices

    s = load_settings(cfg("pricing:\n  discount_percent: 20\n  eu-central-1:\n    ec2: {t3.large: 0.1, x9.huge: 2}\n"), env={})
    prices = ec2_prices("eu-central-1", s.rate_overrides())
    assert prices["t3.large"] == 0.1 and prices["x9.huge"] == 2 and prices["m5.large"] == EC2_PRICES["eu-central-1"]["m5.large"]
    assert s.pricing_discount_percent == 20 and Assessor.from_settings(s).discount_percent == 20


def test_missing_named_file(tmp_path):
    with pytest.raises(ConfigError, match=r"does not exist \(named by --config\)"):
        load_settings(tmp_path / "nope.yaml", env={})
    with pytest.raises(ConfigError, match=r"named by IAGENT_CONFIG"):
        load_settings(env={"IAGENT_CONFIG": str(tmp_path / "nope.yaml")})


# -- keymap: command id -> key, checked without Textual so every command refuses a bad one ------
def test_keymap_is_read_and_keys_are_named_as_textual_names_them(cfg):
    s = load_settings(cfg("keymap: {open-help: f1, deploy: ctrl+d, zoom-panel: '+', filter-rows: 'F2, ?'}\n"), env={})
    assert s.keymap == {"open-help": "f1", "deploy": "ctrl+d", "zoom-panel": "plus", "filter-rows": "f2,question_mark"}
    assert load_settings(cfg(""), env={}).keymap == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("keymap: {opne-help: f1}\n",
         r"keymap: unknown command id 'opne-help' \(did you mean 'open-help'\?\); valid ids: open-help, .*, deploy, smoke, add-namespace, rollback\.$"),
        ("keymap: {action-deploy: f5}\n", r"unknown command id 'action-deploy' \(did you mean 'deploy'\?\)"),
        ("keymap: {deploy: ''}\n", r"keymap: deploy has no key: give a key such as f1, ctrl\+d"),
        ("keymap: {deploy: }\n", r"keymap: deploy has no key"),
        ("keymap: {deploy: 'ctrl+nope'}\n", r"keymap: deploy has 'ctrl\+nope', which is not a key"),
        ("keymap: {deploy: 'f1,'}\n", r"deploy has 'f1,', which is not a key"),
        ("keymap: {open-help: q}\n", r"keymap: open-help and quit are both on key 'q': give each its own key\.$"),
        ("keymap: {deploy: f1, smoke: F1}\n", r"deploy and smoke are both on key 'f1'"),
        ("keymap: {open-help: '?', zoom-panel: question_mark}\n", r"open-help and zoom-panel are both on key '\?'"),
        ("keymap: [f1]\n", r"keymap: must be a mapping of command id to key"),
    ],
)
def test_bad_keymaps_are_one_line_errors(cfg, text, expected):
    with pytest.raises(ConfigError, match=expected) as err:
        load_settings(cfg(text), env={})
    assert "\n" not in str(err.value) and "allowed: dict" not in str(err.value)


def test_keys_moved_out_of_the_way_are_no_clash(cfg):
    s = load_settings(cfg("keymap: {open-help: q, quit: ctrl+q}\n"), env={})
    assert s.keymap == {"open-help": "q", "quit": "ctrl+q"}


@pytest.mark.parametrize("args", [["status"], []])  # a command, and the dashboard (no command)
def test_a_bad_keymap_exits_2_before_connecting(cfg, args):
    from click.testing import CliRunner

    from iagent_tui.cli import main

    path = cfg("keymap: {open-hlep: f1}\n")
    result = CliRunner().invoke(main, ["--config", str(path), *args], env={})
    assert result.exit_code == 2, result.output
    assert "unknown command id 'open-hlep'" in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_profile_scope_and_move_label_are_validated(tmp_path):
    from iagent_tui.config import ConfigError, load_settings
    good = tmp_path / "good.yaml"
    good.write_text("fargate: {profile_scope: namespace, move_label: team.example.com/compute=fargate}\n")
    settings = load_settings(str(good), env={})
    assert settings.fargate.profile_scope == "namespace"
    assert settings.fargate.move_label_pair == ("team.example.com/compute", "fargate")
    for bad, field in (("fargate: {profile_scope: cluster}", "fargate.profile_scope"),
                       ("fargate: {move_label: 'no equals sign'}", "fargate.move_label"),
                       ("fargate: {move_label: 'a/b/c=x'}", "fargate.move_label")):
        path = tmp_path / "bad.yaml"
        path.write_text(bad + "\n")
        with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
            load_settings(str(path), env={})
@pytest.mark.parametrize("content, says", [
    (b"\xff\xfecluster: x\n", "is not UTF-8 text"),
    (b"1: 2\n", "is not a setting name"),
    (b"- a\n- b\n", "must be a mapping"),
    (b"a: \"\x00\"\n", "is not valid YAML"),
    (b"region: us-east-7\n", "'us-east-7' is not an AWS region"),
])
def test_unusable_config_files_are_one_line_errors(tmp_path, content, says):
    path = tmp_path / "iagent.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as err:
        load_settings(path, env={})
    assert says in str(err.value) and "\n" not in str(err.value)


def test_a_config_that_is_a_directory_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="Cannot read config file"):
        load_settings(tmp_path, env={})


def test_region_is_checked_against_botocore_and_says_how_to_list_regions():
    with pytest.raises(ConfigError) as err:
        load_settings(None, overrides={"region": "us-east-7"}, env={})
    assert "region" in str(err.value) and "describe-regions" in str(err.value)
    assert load_settings(None, overrides={"region": "ap-southeast-2"}, env={}).region == "ap-southeast-2"
