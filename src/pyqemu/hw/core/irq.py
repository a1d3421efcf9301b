"""Interrupt lines and a device's GPIO pins (QEMU's ``qemu_irq`` and ``qdev_init_gpio_*``).

An :class:`Irq` is an *input*: a QOM object of type ``irq`` whose
``set(level)`` calls the handler of whatever receives it (a PIC pin, an
IOAPIC pin, a qtest observer).  A device's *output* is a :class:`GpioOutput`
pin that forwards ``set(level)`` to the ``Irq`` it is connected to, or does
nothing while unconnected.  Both offer ``set``, ``raise_``, ``lower`` and
``pulse`` (the :class:`IrqLine` protocol), so a device model does not care
whether it drives a bus's line directly (ISA) or one of its own pins.

GPIO pins come in lists named like QEMU's (``None`` is the unnamed list) and
show up as QOM properties exactly as QEMU shows them in ``qom-list``:
inputs as ``child<irq>`` (``unnamed-gpio-in[N]`` / ``NAME[N]``), outputs as
``link<irq>`` (``unnamed-gpio-out[N]`` / ``NAME[N]``).  A qtest server
watches lines through :func:`qdev_intercept_gpio_out` and
:func:`irq_intercept_in`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from pyqemu.qom.object import Object, register_type
from pyqemu.util.errors import ConfigError

if TYPE_CHECKING:
    from pyqemu.hw.core.qdev import DeviceState

TYPE_IRQ = "irq"
UNNAMED_GPIO_IN = "unnamed-gpio-in"
UNNAMED_GPIO_OUT = "unnamed-gpio-out"
NON_QDEV_GPIO = "non-qdev-gpio[*]"

#: ``handler(n, level)``: line ``n`` of a set of inputs changed to ``level``.
IrqHandler = Callable[[int, int], None]


class IrqLine(Protocol):
    """Anything a device can drive: an :class:`Irq` or a :class:`GpioOutput`."""

    def set(self, level: int) -> None: ...

    def raise_(self) -> None: ...

    def lower(self) -> None: ...

    def pulse(self) -> None: ...


class _Driving:
    """``raise_`` / ``lower`` / ``pulse`` in terms of ``set`` (QEMU's ``qemu_irq_*`` helpers)."""

    def set(self, level: int) -> None:
        raise NotImplementedError

    def raise_(self) -> None:
        self.set(1)

    def lower(self) -> None:
        self.set(0)

    def pulse(self) -> None:
        """An edge: raise, then lower at once."""
        self.set(1)
        self.set(0)


@register_type
class Irq(_Driving, Object):
    """An interrupt input (QOM type ``irq``): ``set(level)`` calls ``handler(n, level)``."""

    TYPE = TYPE_IRQ

    def __init__(self) -> None:
        super().__init__()
        self.handler: IrqHandler | None = None
        self.n = 0

    @classmethod
    def new(cls, handler: IrqHandler | None, n: int = 0) -> Irq:
        """An input that reports to ``handler`` as line ``n`` (``qemu_allocate_irq``)."""
        irq = cls()
        irq.handler = handler
        irq.n = n
        return irq

    def set(self, level: int) -> None:
        """Drive the line to ``level`` (``qemu_set_irq``)."""
        if self.handler is not None:
            self.handler(self.n, level)


def allocate_irqs(handler: IrqHandler | None, count: int, first: int = 0) -> list[Irq]:
    """``count`` inputs numbered from ``first``, all reporting to ``handler``."""
    return [Irq.new(handler, first + i) for i in range(count)]


class GpioOutput(_Driving):
    """A device's output pin: forwards levels to the :class:`Irq` it is connected to."""

    def __init__(self) -> None:
        self.target: Irq | None = None

    def connect(self, irq: Irq | None) -> None:
        self.target = irq

    def set(self, level: int) -> None:
        if self.target is not None:
            self.target.set(level)


@dataclass
class NamedGpioList:
    """One named (or, with ``name`` None, the unnamed) list of a device's pins."""

    name: str | None
    inputs: list[Irq] = field(default_factory=list)
    outputs: list[GpioOutput] = field(default_factory=list)

    def prop_name(self, direction: str, index: int) -> str:
        """The QOM property of pin ``index``: ``NAME[N]`` or ``unnamed-gpio-in[N]``."""
        stem = self.name or (UNNAMED_GPIO_IN if direction == "in" else UNNAMED_GPIO_OUT)
        return f"{stem}[{index}]"


def gpio_list(dev: DeviceState, name: str | None) -> NamedGpioList:
    """The device's list called ``name``, created empty (newest first, as QEMU keeps them)."""
    for ngl in dev.gpios:
        if ngl.name == name:
            return ngl
    ngl = NamedGpioList(name)
    dev.gpios.insert(0, ngl)
    return ngl


def find_gpio_list(dev: DeviceState, name: str | None) -> NamedGpioList | None:
    """The device's list called ``name``, or None."""
    return next((ngl for ngl in dev.gpios if ngl.name == name), None)


# -- declaring pins ------------------------------------------------------------


def qdev_init_gpio_in_named(dev: DeviceState, handler: IrqHandler, name: str | None, count: int) -> list[Irq]:
    """Add ``count`` inputs to list ``name``; ``handler(n, level)`` numbers them within the list."""
    ngl = gpio_list(dev, name)
    if ngl.outputs and name is not None:
        raise ValueError(f"GPIO list '{name}' of {dev.typename} already has outputs")
    first = len(ngl.inputs)
    irqs = allocate_irqs(handler, count, first)
    for index, irq in enumerate(irqs, first):
        dev.add_child(ngl.prop_name("in", index), irq)
        irq.unref()
    ngl.inputs.extend(irqs)
    return irqs


def qdev_init_gpio_in(dev: DeviceState, handler: IrqHandler, count: int) -> list[Irq]:
    """Add ``count`` unnamed inputs (``unnamed-gpio-in[N]``)."""
    return qdev_init_gpio_in_named(dev, handler, None, count)


def qdev_init_gpio_out_named(dev: DeviceState, name: str | None, count: int) -> list[GpioOutput]:
    """Add ``count`` output pins to list ``name``, each a ``link<irq>`` property."""
    ngl = gpio_list(dev, name)
    if ngl.inputs and name is not None:
        raise ValueError(f"GPIO list '{name}' of {dev.typename} already has inputs")
    pins = [GpioOutput() for _ in range(count)]
    first = len(ngl.outputs)
    for index, pin in enumerate(pins, first):
        dev.add_link(
            ngl.prop_name("out", index), TYPE_IRQ,
            get=lambda pin=pin: pin.target,  # type: ignore[misc]
            set=lambda irq, pin=pin: pin.connect(irq),  # type: ignore[misc]
        )
    ngl.outputs.extend(pins)
    return pins


def qdev_init_gpio_out(dev: DeviceState, count: int) -> list[GpioOutput]:
    """Add ``count`` unnamed output pins (``unnamed-gpio-out[N]``)."""
    return qdev_init_gpio_out_named(dev, None, count)


# -- using pins ----------------------------------------------------------------


def _pin_error(dev: DeviceState, name: str | None, n: int, direction: str) -> ConfigError:
    return ConfigError(f"Device '{dev.typename}' has no GPIO {direction} '{name or ''}'[{n}]")


def qdev_get_gpio_in_named(dev: DeviceState, name: str | None, n: int) -> Irq:
    """Input ``n`` of list ``name``: what another device's output is connected to."""
    ngl = find_gpio_list(dev, name)
    if ngl is None or not 0 <= n < len(ngl.inputs):
        raise _pin_error(dev, name, n, "input")
    return ngl.inputs[n]


def qdev_get_gpio_in(dev: DeviceState, n: int) -> Irq:
    return qdev_get_gpio_in_named(dev, None, n)


def qdev_get_gpio_out_named(dev: DeviceState, name: str | None, n: int) -> GpioOutput:
    """Output pin ``n`` of list ``name``."""
    ngl = find_gpio_list(dev, name)
    if ngl is None or not 0 <= n < len(ngl.outputs):
        raise _pin_error(dev, name, n, "output")
    return ngl.outputs[n]


def _adopt(dev: DeviceState, irq: Irq) -> None:
    """Give a parentless input a place in the tree, so links to it have a path (as QEMU does)."""
    if irq.parent is not None:
        return
    from pyqemu.hw.core.qdev import qdev_get_machine

    machine = qdev_get_machine(dev)
    if machine is not None:
        machine.unattached().add_child(NON_QDEV_GPIO, irq)


def qdev_connect_gpio_out_named(dev: DeviceState, name: str | None, n: int, irq: Irq | None) -> None:
    """Connect output ``n`` of list ``name`` to ``irq`` (None disconnects it)."""
    pin = qdev_get_gpio_out_named(dev, name, n)
    if irq is not None:
        _adopt(dev, irq)
    pin.connect(irq)


def qdev_connect_gpio_out(dev: DeviceState, n: int, irq: Irq | None) -> None:
    qdev_connect_gpio_out_named(dev, None, n, irq)


def qdev_get_gpio_out_connector(dev: DeviceState, name: str | None, n: int) -> Irq | None:
    """What output ``n`` of list ``name`` is connected to."""
    return qdev_get_gpio_out_named(dev, name, n).target


# -- observing lines (qtest) ----------------------------------------------------------


def qdev_intercept_gpio_out(dev: DeviceState, name: str | None, observer: IrqHandler) -> None:
    """Watch every output of list ``name``: levels still reach their targets, then ``observer(n, level)``."""
    ngl = find_gpio_list(dev, name)
    for n, pin in enumerate(ngl.outputs if ngl is not None else ()):
        pin.connect(_spy(pin.target, observer, n))


def irq_intercept_in(irqs: Sequence[Irq], observer: IrqHandler) -> None:
    """Watch inputs: each still runs its handler, then ``observer(n, level)`` (``qemu_irq_intercept_in``)."""
    for irq in irqs:
        old = Irq.new(irq.handler, irq.n)
        irq.handler = _forwarder(old, observer)


def _forwarder(old: Irq | None, observer: IrqHandler) -> IrqHandler:
    def handler(n: int, level: int) -> None:
        if old is not None:
            old.set(level)
        observer(n, level)

    return handler


def _spy(target: Irq | None, observer: IrqHandler, n: int) -> Irq:
    return Irq.new(_forwarder(target, observer), n)
