"""Reading `?period=` the one way every page does."""

import pytest

from trainer.forms import period_arg


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", None),
        ("?period=", None),
        ("?period=%20", None),
        ("?period=2026Q3", "2026Q3"),
        ("?period=%202026Q3%20", "2026Q3"),
        ("?period=anything", "anything"),
    ],
)
def test_period_arg_returns_the_trimmed_quarter_or_none(app, query, expected):
    with app.test_request_context(f"/{query}"):
        assert period_arg() == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", "2026Q2"),
        ("?period=2026Q1", "2026Q1"),
        ("?period=2025Q4", "2026Q2"),
        ("?period=2026Q1x", "2026Q2"),
    ],
)
def test_period_arg_keeps_to_the_quarters_on_offer(app, query, expected):
    with app.test_request_context(f"/{query}"):
        assert period_arg(["2026Q2", "2026Q1"], default="2026Q2") == expected
