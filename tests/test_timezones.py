"""Typed send times and zones: what is accepted, refused and suggested."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from bot.timezones import local_now, normalize_zone, parse_send_time, suggest_zones, zone_info


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("07:30", time(7, 30)),
        ("7:30", time(7, 30)),
        ("18.05", time(18, 5)),
        (" 00:00 ", time(0, 0)),
        ("٠٧:٣٠", time(7, 30)),  # Arabic-Indic digits, as some keyboards type them
    ],
)
def test_send_times_people_type(text: str, expected: time) -> None:
    """HH:MM, H:MM and HH.MM in 24-hour form are understood, in any script's digits."""
    assert parse_send_time(text) == expected


@pytest.mark.parametrize("text", ["25:99", "7", "24:00", "12:60", "", "7pm", "07:30:00", "1" * 5000])
def test_malformed_send_times_are_refused(text: str) -> None:
    """Anything else is None, for the handler to explain."""
    assert parse_send_time(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("berlin", "Europe/Berlin"),
        ("New York", "America/New_York"),
        ("Asia/Kolkata", "Asia/Kolkata"),
        ("UTC", "UTC"),
        ("+03:00", "UTC+03:00"),
        ("UTC-5", "UTC-05:00"),
        ("+0530", "UTC+05:30"),
        ("+14:00", "UTC+14:00"),
        ("-12:00", "UTC-12:00"),
        ("+00:00", "UTC"),
    ],
)
def test_zones_people_type(text: str, expected: str) -> None:
    """IANA names in any case, unique cities and UTC offsets are accepted."""
    assert normalize_zone(text) == expected


@pytest.mark.parametrize("text", ["Mars/Olympus", "+15:00", "+14:30", "-13:00", "", "🕐", "x" * 5000])
def test_unknown_zones_are_refused(text: str) -> None:
    """Unknown names and impossible offsets are None."""
    assert normalize_zone(text) is None


def test_close_names_are_suggested_for_typos() -> None:
    """A misspelt zone gets the right one among the suggestions; gibberish may get none."""
    assert "Europe/Berlin" in suggest_zones("Europ/Berlinn")
    assert len(suggest_zones("Mars/Olympus")) <= 3
    assert suggest_zones("🕐🕐") == []


def test_offsets_and_iana_zones_give_local_time() -> None:
    """Fixed offsets shift by their amount; IANA zones follow DST."""
    noon = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert local_now(noon, "UTC+05:30").utcoffset() == timedelta(hours=5, minutes=30)
    assert local_now(noon, "Europe/Berlin").hour == 14  # CEST
    assert local_now(noon.replace(month=1), "Europe/Berlin").hour == 13  # CET
    with pytest.raises(ValueError, match="unknown time zone"):
        zone_info("Mars/Olympus")
