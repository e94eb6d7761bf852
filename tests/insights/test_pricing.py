"""Fargate rates: documented worked examples, overrides, clear errors, per-second billing."""

import pytest

from iagent_tui.insights.pricing import HOURS_PER_MONTH, RATES, rate_card


def test_documented_us_east_1_examples():
    rates = rate_card("us-east-1")
    assert rates.hourly(0.25, 0.5) == pytest.approx(0.0123425, abs=1e-12)
    assert rates.hourly(0.25, 0.5) * HOURS_PER_MONTH == pytest.approx(9.01, abs=0.005)
    assert rates.hourly(2, 9) == pytest.approx(0.120965, abs=1e-12)


def test_eu_central_1_rates_and_unconfirmed_storage_rate():
    rates = rate_card("eu-central-1")
    assert (rates.vcpu_hour, rates.gb_hour) == (0.04656, 0.00511)
    assert rates.ephemeral_gb_hour is None


def test_every_rate_card_names_its_source_and_date():
    for card in RATES.values():
        assert card.source and card.checked


def test_overrides_replace_single_rates():
    rates = rate_card("eu-central-1", {"eu-central-1": {"ephemeral_gb_hour": 0.000125, "min_billable_seconds": 0}})
    assert rates.ephemeral_gb_hour == 0.000125
    assert rates.vcpu_hour == 0.04656
    assert rates.min_billable_seconds == 0
    assert rates.source.startswith("configuration")


def test_unknown_region_names_the_known_ones():
    with pytest.raises(ValueError, match=r"ap-south-1.*eu-central-1, us-east-1"):
        rate_card("ap-south-1")


def test_unknown_region_accepted_with_full_override():
    rates = rate_card("ap-south-1", {"ap-south-1": {"vcpu_hour": 0.04, "gb_hour": 0.004}})
    assert rates.hourly(1, 2) == pytest.approx(0.048)


@pytest.mark.parametrize(
    ("override", "message"),
    [({"vcpu_hour": -1}, "non-negative"), ({"vcpu_hour": "cheap"}, "non-negative"), ({"cpu": 1}, "unknown Fargate rate setting")],
)
def test_bad_overrides(override, message):
    with pytest.raises(ValueError, match=message):
        rate_card("us-east-1", {"us-east-1": override})


def test_charge_is_per_second_with_one_minute_minimum():
    rates = rate_card("us-east-1")
    hourly = 0.36
    assert rates.charge(hourly, 3600) == pytest.approx(0.36)
    assert rates.charge(hourly, 10) == pytest.approx(0.36 * 60 / 3600)
    assert rates.charge(hourly, 90.2) == pytest.approx(0.36 * 91 / 3600)
    free = rate_card("us-east-1", {"us-east-1": {"min_billable_seconds": 0}})
    assert free.charge(hourly, 10) == pytest.approx(0.001)
    with pytest.raises(ValueError):
        rates.charge(hourly, -1)
