"""Static device properties: types, defaults, help lines, parsing and QEMU 7.2's error texts.

The expected values were observed with qemu-system-x86_64 7.2 (``-device X,help``,
``device-list-properties``, ``-device`` / ``device_add`` errors, ``qom-set``).
"""

from __future__ import annotations

import pytest

from pyqemu.chardev.char import Chardev
from pyqemu.hw.core.qdev import qdev_new, qdev_realize_and_unref
from pyqemu.hw.core.qdev_monitor import qdev_device_add
from pyqemu.hw.core.qdev_properties import parse_devfn, parse_macaddr, qdev_prop_set_chr
from pyqemu.qom.help import property_help_line
from pyqemu.qom.object import Object, container_get, object_new
from pyqemu.util.errors import ConfigError, NotFoundError


@pytest.fixture
def bus(tm):
    dev = qdev_new("test-qdev-bridge")
    qdev_realize_and_unref(dev, tm.sysbus)
    return dev.child_buses[0]


def add(tm, **options):
    return qdev_device_add(tm.machine, {"driver": "test-qdev-dev", **options})


def new_device(tm):
    """An unrealized test device in the tree, as ``device_add`` has it while setting properties."""
    dev = qdev_new("test-qdev-dev")
    tm.machine.peripheral().add_child("t", dev)
    dev.id = "t"
    dev.unref()
    return dev


def chardev(tm, label: str) -> Chardev:
    chr = object_new("chardev-null")
    assert isinstance(chr, Chardev)
    chr.label = label
    container_get(tm.root, "/chardevs").add_child(label, chr)
    chr.unref()
    return chr


def describe(name):
    from pyqemu.qom.object import object_class_by_name

    cls = object_class_by_name("test-qdev-dev")
    return cls.class_property_find(name).describe()


@pytest.mark.parametrize(
    ("name", "info"),
    [
        ("u8", {"name": "u8", "type": "uint8", "default-value": 1}),
        ("iobase", {"name": "iobase", "type": "uint32", "default-value": 1016}),
        ("u64", {"name": "u64", "type": "uint64", "default-value": 18446744073709551615}),
        ("i32", {"name": "i32", "type": "int32", "default-value": -1}),
        ("wakeup", {"name": "wakeup", "type": "bool", "default-value": False}),
        ("flag", {"name": "flag", "description": "on/off", "type": "bool", "default-value": True}),
        ("romfile", {"name": "romfile", "type": "str"}),
        ("size", {"name": "size", "type": "size", "default-value": 2147483648}),
        ("disable-legacy", {"name": "disable-legacy", "description": "on/off/auto", "type": "OnOffAuto",
                            "default-value": "auto"}),
        ("lost_tick_policy", {"name": "lost_tick_policy", "type": "LostTickPolicy",
                              "default-value": "discard"}),
        ("chardev", {"name": "chardev", "description": "ID of a chardev to use as a backend", "type": "str"}),
        ("netdev", {"name": "netdev", "description": "ID of a netdev to use as a backend", "type": "str"}),
        ("drive", {"name": "drive", "description": "Node name or ID of a block device to use as a backend",
                   "type": "str"}),
        ("memdev", {"name": "memdev", "type": "link<memory-region>"}),
        ("addr", {"name": "addr", "description": "Slot and optional function number, example: 06.0 or 06",
                  "type": "int32", "default-value": -1}),
        ("mac", {"name": "mac", "description": "Ethernet 6-byte MAC Address, example: 52:54:00:12:34:56",
                 "type": "str"}),
    ],
)
def test_device_list_properties_entries(name, info):
    assert describe(name) == info


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("iobase", "  iobase=<uint32>        -  (default: 1016)"),
        ("wakeup", "  wakeup=<bool>          -  (default: false)"),
        ("flag", "  flag=<bool>            - on/off (default: true)"),
        ("romfile", "  romfile=<str>"),
        ("chardev", "  chardev=<str>          - ID of a chardev to use as a backend"),
        ("addr", "  addr=<int32>           - Slot and optional function number, example: 06.0 or 06"
                 " (default: -1)"),
        ("mac", "  mac=<str>              - Ethernet 6-byte MAC Address, example: 52:54:00:12:34:56"),
        ("memdev", "  memdev=<link<memory-region>>"),
        ("size", "  size=<size>            -  (default: 2147483648)"),
    ],
)
def test_help_lines(name, line):
    from pyqemu.qom.object import object_class_by_name

    assert property_help_line(object_class_by_name("test-qdev-dev").class_property_find(name)) == line


def test_defaults_are_attributes(tm, bus):
    dev = add(tm)
    assert (dev.u8, dev.iobase, dev.i32, dev.wakeup, dev.flag) == (1, 0x3F8, -1, False, True)
    assert dev.romfile is None and dev.property_get("romfile") == ""
    assert dev.disable_legacy == "auto" and dev.lost_tick_policy == "discard"
    assert dev.addr == -1 and dev.mac is None and dev.memdev is None
    assert dev.chardev.chr is None and dev.property_get("chardev") == ""


def test_text_and_json_values(tm, bus):
    dev = add(tm, iobase="0x2f8", u16="65535", i32="-5", wakeup="on", size="1k", romfile="x.bin",
              **{"disable-legacy": "off", "lost_tick_policy": "slew"})
    assert (dev.iobase, dev.u16, dev.i32, dev.wakeup, dev.size) == (0x2F8, 65535, -5, True, 1024)
    assert (dev.romfile, dev.disable_legacy, dev.lost_tick_policy) == ("x.bin", "off", "slew")
    dev2 = qdev_device_add(tm.machine, {"driver": "test-qdev-dev", "iobase": 5, "wakeup": True, "addr": 29},
                           from_json=True)
    assert (dev2.iobase, dev2.wakeup, dev2.addr) == (5, True, 29)
    assert dev2.property_get("addr") == 29


@pytest.mark.parametrize(
    ("options", "desc"),
    [
        ({"iobase": "0x1ffffffff"}, "Parameter 'iobase' expects uint32_t"),
        ({"iobase": ""}, "Parameter 'iobase' expects integer"),
        ({"u16": "-1"}, "Parameter 'u16' expects uint16_t"),
        ({"u16": "70000"}, "Parameter 'u16' expects uint16_t"),
        ({"u16": "1k"}, "Parameter 'u16' expects integer"),
        ({"i32": "99999999999"}, "Parameter 'i32' expects int32_t"),
        ({"wakeup": "maybe"}, "Parameter 'wakeup' expects 'on' or 'off'"),
        ({"disable-legacy": "x"}, "Parameter 'disable-legacy' does not accept value 'x'"),
        ({"nope": "x"}, "Property 'test-qdev-dev.nope' not found"),
        ({"addr": "nope"}, "Property 'test-qdev-dev.addr' doesn't take value 'nope'"),
        ({"mac": "x"}, "Property 'test-qdev-dev.mac' doesn't take value 'x'"),
        ({"chardev": "nope"}, "Property 'test-qdev-dev.chardev' can't find value 'nope'"),
    ],
)
def test_text_errors(tm, bus, options, desc):
    with pytest.raises(ConfigError) as err:
        add(tm, **options)
    assert err.value.desc == desc


@pytest.mark.parametrize(
    ("options", "desc"),
    [
        ({"addr": 300}, "Parameter 'addr' expects a value between -1 and 255"),
        ({"addr": True}, "Invalid parameter type for 'addr', expected int or str"),
        ({"mac": 5}, "Invalid parameter type for 'mac', expected: string"),
        ({"wakeup": "on"}, "Invalid parameter type for 'wakeup', expected: boolean"),
    ],
)
def test_json_errors(tm, bus, options, desc):
    with pytest.raises(ConfigError) as err:
        qdev_device_add(tm.machine, {"driver": "test-qdev-dev", **options}, from_json=True)
    assert err.value.desc == desc


@pytest.mark.parametrize(
    ("text", "devfn"),
    [
        ("1f.7", 255), ("0x1e", 240), ("1d.0x1", 233), (" 5", 40), ("06", 48), ("6.0", 48), ("0", 0),
        ("nope", None), ("0x20", None), ("3.8", None), ("31", None), ("256", None), ("-2", None),
        ("-1", None), ("1c.", None), ("0:1c.1", None), ("", None), ("05.0 ", None),
    ],
)
def test_parse_devfn(text, devfn):
    """QEMU reads ``SLOT[.FUNC]`` in hex with sscanf: blanks, ``0x`` and signs are accepted."""
    assert parse_devfn(text) == devfn


@pytest.mark.parametrize(
    ("text", "mac"),
    [
        ("52:54:00:12:34:56", bytes.fromhex("525400123456")),
        ("52-54-00-12-34-5A", bytes.fromhex("52540012345a")),
        ("52:54:00:12:34:5", None), ("52:54:00:12:34:567", None), ("52:54:00:12:34:ag", None),
        ("52:54:00:12:34:a", None), ("52.54.00.12.34.56", None), ("x", None),
    ],
)
def test_parse_macaddr(text, mac):
    assert parse_macaddr(text) == mac


def test_mac_reads_back_lowercase(tm, bus):
    dev = add(tm, mac="52-54-00-AB-CD-EF")
    assert dev.mac == bytes.fromhex("525400abcdef")
    assert dev.property_get("mac") == "52:54:00:ab:cd:ef"


def test_setting_after_realize_is_refused(tm, bus):
    dev = add(tm, id="s0")
    with pytest.raises(ConfigError, match=r"^Attempt to set property 'iobase' on device 's0' "
                                          r"\(type 'test-qdev-dev'\) after it was realized$"):
        dev.property_set("iobase", 5)
    anon = add(tm)
    with pytest.raises(ConfigError, match=r"^Attempt to set property 'addr' on anonymous device "
                                          r"\(type 'test-qdev-dev'\) after it was realized$"):
        anon.property_parse("addr", "5")


def test_chardev_property(tm, bus):
    c0 = chardev(tm, "c0")
    dev = add(tm, chardev="c0")
    assert dev.chardev.chr is c0 and c0.be is dev.chardev
    assert dev.property_get("chardev") == "c0"
    with pytest.raises(ConfigError) as err:
        add(tm, chardev="c0")
    assert err.value.desc == "Property 'test-qdev-dev.chardev' can't take value 'c0': Device 'c0' is in use"
    dev.unparent()
    assert c0.be is None  # the frontend let go when the device went away
    assert add(tm, chardev="c0").chardev.chr is c0


def test_empty_chardev_means_none(tm, bus):
    assert add(tm, chardev="").chardev.chr is None


def test_chardev_set_twice_conflicts(tm):
    chardev(tm, "c")
    chardev(tm, "d")
    dev = new_device(tm)
    dev.property_parse("chardev", "c")
    with pytest.raises(ConfigError, match=r"^-global test-qdev-dev.chardev=\.\.\. conflicts with chardev=d$"):
        dev.property_parse("chardev", "d")


def test_board_sets_chardev_object(tm):
    c = chardev(tm, "serial0")
    dev = new_device(tm)
    qdev_prop_set_chr(dev, "chardev", c)
    assert dev.property_get("chardev") == "serial0"


def test_backends_pyqemu_lacks(tm, bus):
    with pytest.raises(ConfigError) as err:
        add(tm, netdev="n0")
    assert err.value.desc == ("Property 'test-qdev-dev.netdev' can't take value 'n0': "
                              "network backends are not implemented in pyqemu yet")
    with pytest.raises(ConfigError, match="block backends are not implemented in pyqemu yet"):
        add(tm, drive="d0")
    assert add(tm, netdev="", drive="").netdev is None


def test_link_property(tm, bus):
    dev = new_device(tm)
    region = object_new("memory-region")
    tm.machine.unattached().add_child("ram", region)
    region.unref()
    dev.property_parse("memdev", "/machine/unattached/ram")
    assert dev.memdev is region
    assert dev.property_get("memdev") == "/machine/unattached/ram"
    with pytest.raises(ConfigError, match=r"^Invalid parameter type for 'memdev', expected: memory-region$"):
        dev.property_parse("memdev", "/machine")
    with pytest.raises(NotFoundError, match=r"^Device '/nowhere' not found$"):
        dev.property_parse("memdev", "/nowhere")
    dev.property_parse("memdev", "")
    assert dev.memdev is None
    assert isinstance(region, Object)


def test_subclass_adds_its_own_properties(tm, bus):
    dev = qdev_device_add(tm.machine, {"driver": "test-qdev-dev-child", "extra": "9", "iobase": "1"})
    assert (dev.extra, dev.iobase) == (9, 1)


def test_stored_as_renames_the_attribute():
    from pyqemu.hw.core.qdev_properties import prop_uint8

    prop = prop_uint8("kbd-irq", 1).stored_as("kbd_irq_number")
    assert (prop.name, prop.attr_name, prop.default) == ("kbd-irq", "kbd_irq_number", 1)
    assert prop_uint8("kbd-irq").attr_name == "kbd_irq"
