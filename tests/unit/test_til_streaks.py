"""Streak arithmetic on local dates: what counts as consecutive, and when a streak is lost."""

from __future__ import annotations

from datetime import date, timedelta

from bot.services.til.streaks import Streak, streak_of

TODAY = date(2026, 11, 25)


def days_ago(*offsets: int) -> list[date]:
    return [TODAY - timedelta(days=offset) for offset in offsets]


def test_no_posts_is_no_streak() -> None:
    assert streak_of([], TODAY) == Streak(current=0, longest=0, posted_today=False, total_days=0)


def test_consecutive_days_up_to_today() -> None:
    assert streak_of(days_ago(0, 1, 2), TODAY) == Streak(current=3, longest=3, posted_today=True, total_days=3)


def test_a_streak_holds_until_today_is_over() -> None:
    streak = streak_of(days_ago(1, 2), TODAY)
    assert (streak.current, streak.posted_today) == (2, False)


def test_a_whole_missed_day_ends_the_current_streak_but_not_the_longest() -> None:
    assert streak_of(days_ago(2, 3, 4, 5), TODAY) == Streak(current=0, longest=4, posted_today=False, total_days=4)
    # Posting again after the gap starts over at one.
    assert streak_of(days_ago(0, 2, 3, 4, 5), TODAY).current == 1


def test_a_day_counts_once_however_many_posts_it_has() -> None:
    assert streak_of(days_ago(0, 0, 0, 1, 1), TODAY) == Streak(current=2, longest=2, posted_today=True, total_days=2)


def test_the_longest_run_can_be_in_the_past() -> None:
    streak = streak_of(days_ago(0, 1, *range(10, 17)), TODAY)
    assert (streak.current, streak.longest, streak.total_days) == (2, 7, 9)


def test_days_after_today_do_not_carry_the_current_streak() -> None:
    # A member who moved west can have a post dated "tomorrow" from where they are now.
    streak = streak_of([TODAY + timedelta(days=1), TODAY - timedelta(days=1)], TODAY)
    assert (streak.current, streak.longest, streak.total_days) == (1, 1, 2)


def test_month_and_year_boundaries_are_consecutive() -> None:
    days = [date(2026, 12, 31), date(2027, 1, 1), date(2027, 2, 28), date(2027, 3, 1)]
    assert streak_of(days[:2], date(2027, 1, 1)).current == 2
    assert streak_of(days[2:], date(2027, 3, 1)).current == 2
