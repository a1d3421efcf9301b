"""``-rtc base=utc|localtime|DATE,clock=host|rt|vm,driftfix=none|slew`` (QEMU's ``configure_rtc``)."""

from __future__ import annotations

import time
from typing import NamedTuple

from pyqemu.util.errors import ConfigError
from pyqemu.util.qemuopts import Opts

_DATE_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")


class RtcConfig(NamedTuple):
    """Where guest wall-clock time starts, and which clock drives it."""

    utc: bool = True
    #: Seconds to add to host time for a ``base=DATE`` start (0 otherwise).
    offset_s: int = 0
    clock: str = "host"
    driftfix: str = "none"



def _parse_base(base: str) -> tuple[bool, int]:
    if base == "utc":
        return True, 0
    if base == "localtime":
        return False, 0
    import calendar
    from datetime import datetime

    for fmt in _DATE_FORMATS:
        try:
            start = datetime.strptime(base, fmt)
        except ValueError:
            continue
        return True, calendar.timegm(start.timetuple()) - int(time.time())
    raise ConfigError(
        "invalid datetime format", hint="valid formats: '2006-06-17T16:01:21' or '2006-06-17'"
    )


def parse_rtc_options(opts: Opts | None) -> RtcConfig:
    """The RTC settings of ``-rtc``, or QEMU's errors."""
    if opts is None:
        return RtcConfig()
    utc, offset = _parse_base(opts.get("base") or "utc")
    clock = opts.get("clock") or "host"
    if clock not in ("host", "rt", "vm"):
        raise ConfigError(f"invalid option value '{clock}'")
    driftfix = opts.get("driftfix") or "none"
    if driftfix not in ("none", "slew"):
        raise ConfigError(f"invalid option value '{driftfix}'")
    return RtcConfig(utc, offset, clock, driftfix)
