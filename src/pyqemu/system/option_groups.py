"""The QemuOpts groups the command line and ``-readconfig`` fill (QEMU's ``qemu_add_opts``).

Groups without parameter declarations accept any key; whoever uses the
group (the accelerator or device being created) checks them.  The
``chardev`` group is declared by the chardev layer, whose legacy syntax
(``-serial unix:...``) parses into it too.
"""

from __future__ import annotations

from pyqemu.chardev.options import CHARDEV_OPTS
from pyqemu.util.qemuopts import OptDesc, OptsList, OptsStore, OptType

_NUM, _SIZE, _BOOL = OptType.NUMBER, OptType.SIZE, OptType.BOOL

GROUPS: tuple[OptsList, ...] = (
    OptsList("accel", implied_key="accel"),
    CHARDEV_OPTS,
    OptsList("device", implied_key="driver"),
    OptsList("mon", implied_key="chardev", descs=(
        OptDesc("mode"), OptDesc("chardev"), OptDesc("pretty", _BOOL),
    )),
    OptsList("memory", implied_key="size", merge_lists=True, descs=(
        OptDesc("size", _SIZE), OptDesc("slots", _NUM), OptDesc("maxmem", _SIZE),
    )),
    OptsList("smp-opts", implied_key="cpus", merge_lists=True, descs=tuple(
        OptDesc(name, _NUM)
        for name in ("cpus", "sockets", "dies", "clusters", "cores", "threads", "maxcpus")
    )),
    OptsList("boot-opts", implied_key="order", merge_lists=True, descs=(
        OptDesc("order"), OptDesc("once"), OptDesc("menu", _BOOL), OptDesc("splash"),
        OptDesc("splash-time", _NUM), OptDesc("reboot-timeout", _NUM), OptDesc("strict", _BOOL),
    )),
    OptsList("rtc", merge_lists=True, descs=(
        OptDesc("base"), OptDesc("clock"), OptDesc("driftfix"),
    )),
    OptsList("name", implied_key="guest", merge_lists=True, descs=(
        OptDesc("guest"), OptDesc("process"), OptDesc("debug-threads", _BOOL),
    )),
    OptsList("global", descs=(OptDesc("driver"), OptDesc("property"), OptDesc("value"))),
    OptsList("trace", implied_key="enable", descs=(
        OptDesc("enable"), OptDesc("events"), OptDesc("file"),
    )),
)


def new_opts_store() -> OptsStore:
    """A store with every group, for one emulator."""
    return OptsStore(GROUPS)
