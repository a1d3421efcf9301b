"""IRQ lines, GPIO pins as QEMU 7.2 shows them in ``qom-list``, and intercepts for qtest."""

from __future__ import annotations

import pytest

from pyqemu.hw.core.irq import (
    GpioOutput,
    Irq,
    allocate_irqs,
    irq_intercept_in,
    qdev_connect_gpio_out,
    qdev_connect_gpio_out_named,
    qdev_get_gpio_in,
    qdev_get_gpio_in_named,
    qdev_get_gpio_out_connector,
    qdev_init_gpio_in_named,
    qdev_init_gpio_out_named,
    qdev_intercept_gpio_out,
)
from pyqemu.hw.core.qdev import qdev_new, qdev_realize_and_unref
from pyqemu.hw.core.sysbus import sysbus_connect_irq
from pyqemu.util.errors import ConfigError


def test_irq_levels_reach_the_handler():
    seen = []
    irq = Irq.new(lambda n, level: seen.append((n, level)), 5)
    irq.raise_()
    irq.lower()
    irq.set(3)
    irq.pulse()
    assert seen == [(5, 1), (5, 0), (5, 3), (5, 1), (5, 0)]
    assert irq.typename == "irq"
    Irq.new(None).raise_()  # no handler: nothing happens


def test_allocate_irqs_numbers_lines():
    seen = []
    irqs = allocate_irqs(lambda n, level: seen.append((n, level)), 3, first=8)
    for irq in irqs:
        irq.raise_()
    assert seen == [(8, 1), (9, 1), (10, 1)]


def test_unconnected_output_does_nothing():
    pin = GpioOutput()
    pin.raise_()
    seen = []
    pin.connect(Irq.new(lambda n, level: seen.append(level)))
    pin.pulse()
    assert seen == [1, 0]


@pytest.fixture
def gpio(tm):
    dev = qdev_new("test-qdev-gpio")
    qdev_realize_and_unref(dev, tm.sysbus)
    return dev


def test_pins_are_qom_properties_named_like_qemu(gpio):
    types = {p.name: p.type for p in gpio.iter_properties()}
    assert types["unnamed-gpio-in[0]"] == types["unnamed-gpio-in[3]"] == "child<irq>"
    assert types["unnamed-gpio-out[0]"] == "link<irq>"
    assert types["sysbus-irq[0]"] == types["sysbus-irq[1]"] == "link<irq>"
    assert "unnamed-gpio-in[4]" not in types
    path = gpio.canonical_path()
    assert gpio.property_get("unnamed-gpio-in[2]") == f"{path}/unnamed-gpio-in[2]"
    assert gpio.property_get("unnamed-gpio-out[0]") == ""
    assert [(ngl.name, len(ngl.inputs), len(ngl.outputs)) for ngl in gpio.gpios] == [
        ("sysbus-irq", 0, 2), (None, 4, 1),
    ]


def test_connect_output_to_another_devices_input(tm, gpio):
    other = qdev_new("test-qdev-gpio")
    qdev_realize_and_unref(other, tm.sysbus)
    target = qdev_get_gpio_in(other, 2)
    qdev_connect_gpio_out(gpio, 0, target)
    assert gpio.property_get("unnamed-gpio-out[0]") == f"{other.canonical_path()}/unnamed-gpio-in[2]"
    gpio.gpios[1].outputs[0].raise_()
    assert other.seen == [(2, 1)]
    assert qdev_get_gpio_out_connector(gpio, None, 0) is target


def test_parentless_input_goes_to_unattached(tm, gpio):
    irq = Irq.new(None)
    sysbus_connect_irq(gpio, 1, irq)
    assert irq.canonical_path() == "/machine/unattached/non-qdev-gpio[0]"
    assert gpio.property_get("sysbus-irq[1]") == "/machine/unattached/non-qdev-gpio[0]"


def test_link_property_connects(tm, gpio):
    irq = Irq.new(None)
    tm.machine.unattached().add_child("line", irq)
    gpio.property_set("sysbus-irq[0]", "/machine/unattached/line")
    assert qdev_get_gpio_out_connector(gpio, "sysbus-irq", 0) is irq


def test_named_lists_and_errors(gpio):
    seen = []
    more = qdev_init_gpio_in_named(gpio, lambda n, level: seen.append((n, level)), "ps2-kbd-input-irq", 1)
    assert gpio.property_find("ps2-kbd-input-irq[0]").type == "child<irq>"
    qdev_get_gpio_in_named(gpio, "ps2-kbd-input-irq", 0).raise_()
    assert seen == [(0, 1)] and more[0].n == 0
    outs = qdev_init_gpio_out_named(gpio, "a20", 1)
    assert gpio.property_find("a20[0]").type == "link<irq>"
    qdev_connect_gpio_out_named(gpio, "a20", 0, more[0])
    outs[0].lower()
    assert seen == [(0, 1), (0, 0)]
    with pytest.raises(ConfigError):
        qdev_get_gpio_in(gpio, 4)
    with pytest.raises(ValueError):
        qdev_init_gpio_out_named(gpio, "ps2-kbd-input-irq", 1)


def test_intercept_outputs_still_forwards(tm, gpio):
    other = qdev_new("test-qdev-gpio")
    qdev_realize_and_unref(other, tm.sysbus)
    sysbus_connect_irq(gpio, 1, qdev_get_gpio_in(other, 3))
    observed = []
    qdev_intercept_gpio_out(gpio, "sysbus-irq", lambda n, level: observed.append((n, level)))
    gpio.gpios[0].outputs[1].raise_()
    gpio.gpios[0].outputs[0].raise_()  # unconnected: observed only
    assert observed == [(1, 1), (0, 1)]
    assert other.seen == [(3, 1)]


def test_intercept_inputs_still_reach_the_device(gpio):
    observed = []
    irq_intercept_in(gpio.gpios[1].inputs, lambda n, level: observed.append((n, level)))
    qdev_get_gpio_in(gpio, 1).raise_()
    assert gpio.seen == [(1, 1)]
    assert observed == [(1, 1)]
