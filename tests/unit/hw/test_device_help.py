"""``-device TYPE,help``, ``device-list-properties`` and ``device_add TYPE,help`` as QEMU 7.2 lists them.

Expected texts are qemu-system-x86_64 7.2's output (``-device TYPE,help``
and QMP ``device-list-properties``).  The rules they pin down: every
property of a fresh instance is listed, read-only and ``child<>`` ones too;
the ones all devices have and the ``legacy-*`` twins are not (``apic`` has a
``legacy-instance-id`` property); lines are sorted as whole strings;
defaults are JSON.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from pyqemu.hw.core.qdev_monitor import device_help_requested, device_help_text, device_list_properties
from pyqemu.qom.help import properties_help_text, property_listing_text
from pyqemu.qom.property import BOOL, UINT8, ObjectProperty
from pyqemu.util.errors import ConfigError, ErrorClass, NotFoundError

if TYPE_CHECKING:
    from pyqemu.system.emulator import Emulator

QEMU_HELP = {
    "isa-serial": """\
        isa-serial options:
          baudbase=<uint32>      -  (default: 115200)
          chardev=<str>          - ID of a chardev to use as a backend
          index=<uint32>         -  (default: 4294967295)
          iobase=<uint32>        -  (default: 4294967295)
          irq=<uint32>           -  (default: 4294967295)
          serial=<child<serial>>
          wakeup=<bool>          -  (default: false)
        """,
    "i8042": """\
        i8042 options:
          a20[0]=<link<irq>>
          extended-state=<bool>  -  (default: true)
          i8042-cmd[0]=<child<memory-region>>
          i8042-data[0]=<child<memory-region>>
          kbd-irq=<uint8>        -  (default: 1)
          kbd-throttle=<bool>    -  (default: false)
          mouse-irq=<uint8>      -  (default: 12)
          ps2-kbd-input-irq[0]=<child<irq>>
          ps2-mouse-input-irq[0]=<child<irq>>
          ps2kbd=<child<ps2-kbd>>
          ps2mouse=<child<ps2-mouse>>
          unnamed-gpio-out[0]=<link<irq>>
          unnamed-gpio-out[1]=<link<irq>>
        """,
    "apic": """\
        apic options:
          id=<uint32>
          vapic=<bool>           - on/off (default: true)
          version=<uint8>        -  (default: 20)
        """,
    "mc146818rtc": """\
        mc146818rtc options:
          base_year=<int32>      -  (default: 1980)
          iobase=<uint16>        -  (default: 112)
          irq=<uint8>            -  (default: 8)
          lost_tick_policy=<LostTickPolicy> -  (default: "discard")
        """,
}

#: ICH9-LPC's listing; ``acpi_*_cmd``, ``gpe0_blk*``, ``pm_io_base``, ``sci_int`` … are read-only.
QEMU_ICH9_LPC_HELP = """\
    ICH9-LPC options:
      acpi-index=<uint32>    -  (default: 0)
      acpi-pci-hotplug-with-bridge-support=<bool>
      acpi_disable_cmd=<uint8>
      acpi_enable_cmd=<uint8>
      addr=<int32>           - Slot and optional function number, example: 06.0 or 06 (default: -1)
      cpu-hotplug-legacy=<bool>
      disable_s3=<uint8>
      disable_s4=<uint8>
      enable_tco=<bool>
      failover_pair_id=<str>
      gpe0_blk=<uint32>
      gpe0_blk_len=<uint32>
      memory-hotplug-support=<bool>
      multifunction=<bool>   - on/off (default: false)
      noreboot=<bool>        -  (default: true)
      pm_io_base=<uint32>
      rombar=<uint32>        -  (default: 1)
      romfile=<str>
      romsize=<uint32>       -  (default: 4294967295)
      s4_val=<uint8>
      sci_int=<uint8>
      smm-compat=<bool>      -  (default: false)
      x-keep-pci-slot-hpc=<bool>
      x-pcie-extcap-init=<bool> - on/off (default: true)
      x-pcie-lnksta-dllla=<bool> - on/off (default: true)
      x-smi-broadcast=<bool> - on/off (default: true)
      x-smi-cpu-hotplug=<bool> - on/off (default: true)
      x-smi-cpu-hotunplug=<bool> - on/off (default: true)
      x-smi-negotiated-features=<uint64>
    """
#: Known gap: pyqemu makes ICH9-LPC's GSI outputs and reset register at instance init, QEMU in realize.
_ICH9_LPC_MADE_EARLY = re.compile(r"  (gsi\[\d+\]|lpc-reset-control\[0\])=")

#: QMP ``device-list-properties`` entries (QEMU's order is its hash tables' order, so compared as sets).
QEMU_LIST_PROPERTIES = {
    "isa-serial": [
        {"default-value": 4294967295, "name": "irq", "type": "uint32"},
        {"default-value": 4294967295, "name": "index", "type": "uint32"},
        {"default-value": 4294967295, "name": "iobase", "type": "uint32"},
        {"default-value": False, "name": "wakeup", "type": "bool"},
        {"name": "chardev", "description": "ID of a chardev to use as a backend", "type": "str"},
        {"default-value": 115200, "name": "baudbase", "type": "uint32"},
        {"name": "serial", "type": "child<serial>"},
    ],
    "apic": [
        {"default-value": True, "name": "vapic", "description": "on/off", "type": "bool"},
        {"default-value": 20, "name": "version", "type": "uint8"},
        {"name": "id", "type": "uint32"},
    ],
}


def _as_set(entries: list[dict]) -> set[tuple]:
    return {tuple(sorted(entry.items())) for entry in entries}


@pytest.mark.parametrize("typename", sorted(QEMU_HELP))
def test_device_help_is_qemus_text(typename: str) -> None:
    assert device_help_text(f"{typename},help") == textwrap.dedent(QEMU_HELP[typename])


def test_read_only_properties_are_listed() -> None:
    text = device_help_text("ICH9-LPC,help")
    lines = [line for line in text.splitlines(keepends=True) if not _ICH9_LPC_MADE_EARLY.match(line)]
    assert "".join(lines) == textwrap.dedent(QEMU_ICH9_LPC_HELP)


@pytest.mark.parametrize("request_text", ["isa-serial,help", "driver=isa-serial,help", "isa-serial,?",
                                          "isa-serial,help=on"])
def test_help_request_spellings(request_text: str) -> None:
    assert device_help_requested(request_text)
    assert device_help_text(request_text) == textwrap.dedent(QEMU_HELP["isa-serial"])


def test_alias_lists_the_type_it_names() -> None:
    assert device_help_text("ahci,help").startswith("ich9-ahci options:\n  acpi-index=<uint32>")


def test_plain_device_add_is_no_help_request() -> None:
    assert not device_help_requested("isa-serial,id=s0")
    assert device_help_requested("help") and device_help_requested("?")


@pytest.mark.parametrize("typename", sorted(QEMU_LIST_PROPERTIES))
def test_device_list_properties_entries(typename: str) -> None:
    entries = [p.describe() for p in device_list_properties(typename)]
    assert len(entries) == len(QEMU_LIST_PROPERTIES[typename])
    assert _as_set(entries) == _as_set(QEMU_LIST_PROPERTIES[typename])


def test_unknown_and_abstract_types() -> None:
    with pytest.raises(NotFoundError) as missing:
        device_list_properties("nonexist")
    assert (missing.value.error_class, missing.value.desc) == (ErrorClass.DEVICE_NOT_FOUND,
                                                              "Device 'nonexist' not found")
    for typename in ("device", "sys-bus-device", "memory-backend-ram"):
        with pytest.raises(ConfigError) as abstract:
            device_list_properties(typename)
        assert abstract.value.desc == "Parameter 'typename' expects a non-abstract device type"
    with pytest.raises(ConfigError) as unknown:  # a ConfigError: the command line reports it and exits 0
        device_help_text("nonexist,help")
    assert unknown.value.desc == "Device 'nonexist' not found"


def _prop(name: str, settable: bool = True, **kwargs: object) -> ObjectProperty:
    setter = (lambda obj, value: None) if settable else None
    return ObjectProperty(name, BOOL.qom_type, BOOL, set=setter, **kwargs)  # type: ignore[arg-type]


def test_lines_sort_as_whole_strings_and_read_only_ones_show() -> None:
    """As ``-object memory-backend-ram,help``: ``prealloc-threads=`` sorts before ``prealloc=``."""
    props = [_prop("prealloc", description="d1"), _prop("prealloc-threads", settable=False),
             ObjectProperty("a", UINT8.qom_type, UINT8, default=3)]
    assert property_listing_text("t", props) == (
        "t options:\n"
        "  a=<uint8>              -  (default: 3)\n"
        "  prealloc-threads=<bool>\n"
        "  prealloc=<bool>        - d1\n"
    )
    assert properties_help_text("t options:", props) == "t options:\n  prealloc=<bool>        - d1\n"
    assert property_listing_text("t", []) == "There are no options for t.\n"


@pytest.fixture
def vm() -> Iterator[Emulator]:
    from pyqemu.system.emulator import Emulator

    emulator = Emulator(["-M", "none", "-accel", "qtest", "-nodefaults", "-S"])
    emulator.sequence.start()
    yield emulator
    emulator.cleanup.close()


def test_hmp_device_add_help(vm: Emulator) -> None:
    """Errors print as their bare text, as QEMU's monitor prints them."""
    from pyqemu.monitor.hmp import run_hmp

    assert run_hmp(vm, "device_add apic,help") == textwrap.dedent(QEMU_HELP["apic"])
    abstract = "Parameter 'typename' expects a non-abstract device type\n"
    assert run_hmp(vm, "device_add device,help") == abstract
    assert run_hmp(vm, "device_add nonexist,help") == "Device 'nonexist' not found\n"
    assert run_hmp(vm, "device_add isa-serial,id=s0") == "unknown command: 'device_add isa-serial,id=s0'\n"
