"""The error tree of pyqemu.

Every error pyqemu reports is a :class:`QemuError` carrying one of QEMU's QMP
error classes.  Code raises them where the problem is found; they become a
command-line message (:meth:`QemuError.cli_message`) or a QMP error reply at
the edge, in one place each (``system.main`` and ``monitor``)::

    QemuError                     GenericError unless a subclass says otherwise
     +-- ConfigError              bad option, property or value
     |    +-- OptionError         a command-line option itself is wrong
     +-- PhaseError               not allowed in the machine's current phase
     +-- StateError               not allowed in the current run state
     +-- DeviceError              a device cannot be created, realized or removed
     +-- NotFoundError            DeviceNotFound: unknown device, type or path
     +-- DeviceNotActiveError     DeviceNotActive
     +-- CommandNotFoundError     CommandNotFound
     +-- KvmError                 the KVM accelerator failed
     |    +-- KvmMissingCapError  KVMMissingCap
     +-- MonitorError             a QMP protocol error
     +-- BareError                printed as is, without the program name

A location (``-device foo``) is attached by :func:`location` while an option is
being processed, as QEMU's ``loc_push`` does, so the CLI prints
``pyqemu-system-x86_64: -device foo: 'foo' is not a valid device model name``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar


class ErrorClass(enum.StrEnum):
    """QEMU's QMP error classes (``QapiErrorClass``)."""

    GENERIC_ERROR = "GenericError"
    COMMAND_NOT_FOUND = "CommandNotFound"
    DEVICE_NOT_ACTIVE = "DeviceNotActive"
    DEVICE_NOT_FOUND = "DeviceNotFound"
    KVM_MISSING_CAP = "KVMMissingCap"


class QemuError(Exception):
    """Base of every error pyqemu reports to a user.

    ``desc`` is the message, worded as QEMU words it; ``hint`` is the extra
    text QEMU prints on the following lines of a CLI error (``error_append_hint``),
    never sent over QMP; ``location`` names the option being processed;
    ``preface`` is a line QEMU prints bare before the message (KVM's open error).
    """

    error_class: ClassVar[ErrorClass] = ErrorClass.GENERIC_ERROR

    def __init__(
        self, desc: str, *, hint: str | None = None, location: str | None = None, preface: str | None = None
    ):
        super().__init__(desc)
        self.desc = desc
        self.hint = hint
        self.location = location
        self.preface = preface
        #: QEMU prints a file location (``x.cfg:3``) right after the program name.
        self.location_is_file = False

    def cli_message(self, prog: str) -> str:
        """The text QEMU's ``error_report`` prints for this error, without newline."""
        text = report_text(prog, self.desc, self.location, self.hint, location_is_file=self.location_is_file)
        return self.preface + "\n" + text if self.preface else text

    def qmp_error(self) -> dict[str, str]:
        """The ``error`` member of a QMP reply for this error."""
        return {"class": str(self.error_class), "desc": self.desc}


def report_text(
    prog: str, text: str, location: str | None = None, hint: str | None = None, *,
    location_is_file: bool = False,
) -> str:
    """A line as QEMU's ``error_report`` / ``warn_report`` print it (``prog: where: text``), plus hint lines.

    A file location (``x.cfg:3``) follows the program name without a blank, as in QEMU.
    """
    if location and location_is_file:
        head = f"{prog}:{location}: "
    else:
        head = f"{prog}: {location}: " if location else f"{prog}: "
    return head + text + ("\n" + hint.rstrip("\n") if hint else "")


class ConfigError(QemuError):
    """A configuration value (option, property, argument) is invalid."""


class OptionError(ConfigError):
    """A command-line option is unknown, lacks its argument or is unsupported."""


class PhaseError(QemuError):
    """An operation was asked for in a machine phase where it is not allowed."""


class StateError(QemuError):
    """An operation or run-state transition is not allowed in the current run state."""


class DeviceError(QemuError):
    """A device cannot be created, realized, plugged or removed."""


class NotFoundError(QemuError):
    """A device, type, object or path does not exist (QMP class DeviceNotFound)."""

    error_class = ErrorClass.DEVICE_NOT_FOUND


class DeviceNotActiveError(QemuError):
    """A device exists but is not active (QMP class DeviceNotActive)."""

    error_class = ErrorClass.DEVICE_NOT_ACTIVE


class CommandNotFoundError(QemuError):
    """A QMP command does not exist or is disabled (QMP class CommandNotFound)."""

    error_class = ErrorClass.COMMAND_NOT_FOUND


class KvmError(QemuError):
    """The KVM accelerator failed (open, ioctl, vCPU)."""


class KvmMissingCapError(KvmError):
    """The host's KVM lacks a capability (QMP class KVMMissingCap)."""

    error_class = ErrorClass.KVM_MISSING_CAP


class MonitorError(QemuError):
    """A QMP protocol-level error (malformed input, negotiation)."""


class BareError(QemuError):
    """An error QEMU prints with a plain ``fprintf``: the text alone, no program name or location."""

    def cli_message(self, prog: str) -> str:
        return self.desc


class EarlyExit(Exception):
    """Ends start-up with an exit status, e.g. after printing help (status 0).

    Not a :class:`QemuError`: it reports nothing, the output is already printed.
    """

    def __init__(self, status: int = 0):
        super().__init__(status)
        self.status = status


@contextmanager
def location(where: str, *, is_file: bool = False) -> Iterator[None]:
    """Attach ``where`` (``-device foo``, or ``x.cfg:3`` with ``is_file``) to a QemuError raised inside.

    The innermost location wins, as with QEMU's location stack.
    """
    try:
        yield
    except QemuError as err:
        if err.location is None:
            err.location = where
            err.location_is_file = is_file
        raise
