"""MC146818 RTC registers, and the calendar arithmetic of its alarm and periodic interrupt.

Pure data and functions shared by the RTC core (:mod:`pyqemu.hw.rtc.mc146818rtc`),
named after the datasheet and QEMU's ``mc146818rtc_regs.h``.
"""

from __future__ import annotations

from pyqemu.util.main_loop import NS_PER_SEC

# CMOS offsets.
RTC_SECONDS = 0x00
RTC_SECONDS_ALARM = 0x01
RTC_MINUTES = 0x02
RTC_MINUTES_ALARM = 0x03
RTC_HOURS = 0x04
RTC_HOURS_ALARM = 0x05
RTC_DAY_OF_WEEK = 0x06
RTC_DAY_OF_MONTH = 0x07
RTC_MONTH = 0x08
RTC_YEAR = 0x09
RTC_REG_A = 0x0A
RTC_REG_B = 0x0B
RTC_REG_C = 0x0C
RTC_REG_D = 0x0D
RTC_SHUTDOWN_STATUS = 0x0F
RTC_CENTURY = 0x32
RTC_IBM_PS2_CENTURY_BYTE = 0x37  # an alias of RTC_CENTURY (that sticks in the index)
CMOS_SIZE = 128
INDEX_MASK = 0x7F
ALARMS = (RTC_SECONDS_ALARM, RTC_MINUTES_ALARM, RTC_HOURS_ALARM)
TIME_REGS = (
    RTC_SECONDS, RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_WEEK, RTC_DAY_OF_MONTH, RTC_MONTH, RTC_YEAR, RTC_CENTURY,
)

REG_A_UIP = 0x80  # update in progress
REG_A_DV_MASK = 0x70  # divider chain control
REG_A_DV_RUNNING_MAX = 0x20  # DV 000-010 let the clock run
REG_A_DV_RESET = 0x60  # DV 11x holds the divider chain in reset
REG_A_RATE_MASK = 0x0F

REG_B_DSE = 0x01  # daylight saving (not implemented, as in QEMU)
REG_B_24H = 0x02
REG_B_DM = 0x04  # binary rather than BCD
REG_B_SQWE = 0x08
REG_B_UIE = 0x10
REG_B_AIE = 0x20
REG_B_PIE = 0x40
REG_B_SET = 0x80  # time frozen while the guest sets it

REG_C_UF = 0x10
REG_C_AF = 0x20
REG_C_PF = 0x40
REG_C_IRQF = 0x80
REG_C_MASK = REG_C_UF | REG_C_AF | REG_C_PF  # the same bit positions as B's enables

REG_D_VRT = 0x80  # valid RAM and time: the battery is good

RESET_REG_A = 0x26  # 32.768 kHz time base, 1024 Hz periodic rate
RESET_REG_B = REG_B_24H
HOURS_PM = 0x80
DONT_CARE = 0xC0  # alarm bytes with both top bits set match any value
SUSPEND_RESUME_STATUS = 0xFE  # shutdown status byte for an S3 resume

RTC_CLOCK_RATE = 32768
UIP_HOLD_NS = 8 * NS_PER_SEC // RTC_CLOCK_RATE  # 244 us
DIVIDER_RESET_DELAY_NS = NS_PER_SEC // 2  # first update half a second after the divider reset ends
SEC_PER_MIN = 60
MIN_PER_HOUR = 60
HOUR_PER_DAY = 24
SEC_PER_DAY = 86400
DEFAULT_BASE_YEAR = 1980
LEGACY_BASE_YEAR = 2000  # taken as 0, as QEMU does, for boards from before the century byte


def period_ticks(rate: int) -> int:
    """The periodic interrupt period in 32 kHz ticks for a REG_A rate code (0: off)."""
    if rate == 0:
        return 0
    if rate <= 2:  # rates 1 and 2 repeat rates 8 and 9
        rate += 7
    return 1 << (rate - 1)


def mktimegm(year: int, mon: int, mday: int, hour: int, minute: int, sec: int) -> int:
    """Seconds since the epoch of a UTC date; any field may be out of range (QEMU's ``mktimegm``).

    ``year`` is the full year and ``mon`` counts from 1.  Garbage a guest
    wrote into the time registers gives a garbage time, not an error.
    """
    if mon < 3:
        mon += 12
        year -= 1
    days = mday + _cdiv(153 * mon - 457, 5) + 365 * year + _cdiv(year, 4) - _cdiv(year, 100)
    days += _cdiv(year, 400) - 719469
    return days * SEC_PER_DAY + 3600 * hour + 60 * minute + sec


def _cdiv(a: int, b: int) -> int:
    """C integer division (truncating towards zero)."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def ticks_at(ns: int) -> int:
    """The 32 kHz tick count at clock time ``ns``."""
    return ns * RTC_CLOCK_RATE // NS_PER_SEC


def ns_at(ticks: int) -> int:
    """The clock time of 32 kHz tick ``ticks``."""
    return ticks * NS_PER_SEC // RTC_CLOCK_RATE


def next_alarm_match(alarm: tuple[int, int, int], now: tuple[int, int, int]) -> tuple[int, int, int]:
    """The (hour, minute, second) of the next alarm match; -1 fields are don't-care.

    Mirrors QEMU's ``get_next_alarm``: don't-care fields follow the current
    time, moving to the next second, minute or hour where the fixed fields
    are already past.
    """
    alarm_hour, alarm_min, alarm_sec = alarm
    cur_hour, cur_min, cur_sec = now
    if alarm_hour == -1:
        alarm_hour = cur_hour
        if alarm_min == -1:
            alarm_min = cur_min
            if alarm_sec == -1:
                alarm_sec = cur_sec + 1
            elif cur_sec > alarm_sec:
                alarm_min += 1
        elif cur_min == alarm_min:
            if alarm_sec == -1:
                alarm_sec = cur_sec + 1
            elif cur_sec > alarm_sec:
                alarm_hour += 1
            if alarm_sec == SEC_PER_MIN:
                alarm_sec = 0  # the minute is fixed: wrap to the next hour
                alarm_hour += 1
        elif cur_min > alarm_min:
            alarm_hour += 1
    elif cur_hour == alarm_hour:
        if alarm_min == -1:
            alarm_min = cur_min
            if alarm_sec == -1:
                alarm_sec = cur_sec + 1
            elif cur_sec > alarm_sec:
                alarm_min += 1
            if alarm_sec == SEC_PER_MIN:
                alarm_sec = 0
                alarm_min += 1
            alarm_min %= MIN_PER_HOUR  # the hour is fixed: wrap to the next day
        elif cur_min == alarm_min:
            if alarm_sec == -1:
                alarm_sec = cur_sec + 1
            alarm_sec %= SEC_PER_MIN  # hour and minute are fixed: wrap to the next day
    # Fields still don't-care fire at the next whole minute or hour.
    alarm_min = max(alarm_min, 0)
    alarm_sec = max(alarm_sec, 0)
    if alarm_sec == SEC_PER_MIN:
        alarm_sec = 0
        alarm_min += 1
    if alarm_min == MIN_PER_HOUR:
        alarm_min = 0
        alarm_hour += 1
    return alarm_hour % HOUR_PER_DAY, alarm_min, alarm_sec

