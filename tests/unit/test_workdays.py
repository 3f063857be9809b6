"""Working days with China's official calendar, and the weekday fallback beyond it."""

from __future__ import annotations

import datetime as dt
import logging

from jointcheck.core.workdays import add_working_days, is_working_day, working_days_between

D = dt.date


def test_national_day_holiday_and_its_make_up_workdays_2026():
    # 2026: 1–7 October off; Sunday 20 September and Saturday 10 October are make-up workdays.
    assert not is_working_day(D(2026, 10, 1)) and not is_working_day(D(2026, 10, 7))
    assert is_working_day(D(2026, 9, 20)) and is_working_day(D(2026, 10, 10))
    assert not is_working_day(D(2026, 10, 11))  # an ordinary Sunday
    # 20 working days from Friday 25 September: 28–30 Sep (3); 8, 9 and Saturday 10 Oct (6);
    # 12–16 Oct (11); 19–23 Oct (16); 26–29 Oct (20). Weekdays alone would give 23 October.
    assert add_working_days(D(2026, 9, 25), 20) == D(2026, 10, 29)
    assert working_days_between(D(2026, 9, 25), D(2026, 10, 29)) == 20
    assert add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)


def test_spring_festival_2026():
    assert not is_working_day(D(2026, 2, 17))  # 初一
    assert is_working_day(D(2026, 2, 14)) and is_working_day(D(2026, 2, 28))  # Saturdays worked


def test_beyond_the_known_years_weekdays_count_and_the_log_says_so(caplog):
    with caplog.at_level(logging.WARNING, logger="jointcheck.workdays"):
        assert add_working_days(D(2031, 1, 3), 1) == D(2031, 1, 6)  # Friday → Monday
        assert not is_working_day(D(2031, 1, 4))
    assert "2031" in caplog.text and "Monday to Friday" in caplog.text


def test_zero_days_and_reversed_ranges():
    assert add_working_days(D(2026, 10, 1), 0) == D(2026, 10, 1)
    assert working_days_between(D(2026, 10, 9), D(2026, 10, 1)) == 0


def test_an_imported_notice_comes_before_the_library_and_makes_its_year_known():
    from jointcheck.core.workdays import Calendar, knows, unknown_years

    # 2027's Spring Festival as a notice might set it: 6–12 February off, Sunday 14 February worked
    notice = Calendar.of([*((D(2027, 2, d), "holiday") for d in range(6, 13)), (D(2027, 2, 14), "workday")])
    assert not is_working_day(D(2027, 2, 8), notice) and is_working_day(D(2027, 2, 14), notice)
    assert is_working_day(D(2027, 2, 15), notice) and not is_working_day(D(2027, 2, 13), notice)  # ordinary days
    # Friday 5 February + 3 working days: 14 (Sunday, worked), 15, 16; Monday to Friday would give the 10th
    assert add_working_days(D(2027, 2, 5), 3, notice) == D(2027, 2, 16)
    assert add_working_days(D(2027, 2, 5), 3) == D(2027, 2, 10)
    assert knows(2027, notice) and not knows(2027) and knows(2026)
    assert unknown_years(D(2026, 12, 28), D(2028, 1, 5), notice) == [2028]
    assert unknown_years(D(2026, 12, 28), D(2027, 1, 5)) == [2027]
    # the imported calendar overrides the library where both speak
    assert is_working_day(D(2026, 10, 1), Calendar.of([(D(2026, 10, 1), "workday")]))
