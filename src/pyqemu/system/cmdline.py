"""Lexing the command line into options, and the texts of ``-h`` and ``-version``.

QEMU 7.2 reads argv twice.  The first pass looks every word up, so an unknown
option or a missing argument is reported before anything else happens, and
notes ``-no-user-config``; the second pass acts on the options in order, so
``-version -readconfig /missing`` prints the version while
``-readconfig /missing -version`` fails.  :func:`lex_argv` is the look-up both
passes share, :func:`first_pass` what the first pass takes from it, and
:func:`check_target` / :func:`info_text` the part of the second pass that
concerns every option and the help requests.

Lexing follows QEMU's ``lookup_opt``: a word not starting with ``-`` is a
disk image; ``--name`` is the same as ``-name``; an option with an argument
takes the next word whatever it is; there is no ``-name=value`` form.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

from pyqemu import QEMU_VERSION, __version__
from pyqemu.system.options import SECTIONS, Form, Option, find_option
from pyqemu.util.errors import OptionError

#: The program name in messages and in ``-h``, whatever argv[0] is.
PROG = "pyqemu-system-x86_64"

#: Column where ``-h`` starts descriptions.
HELP_COLUMN = 16

INVALID_OPTION = "invalid option"
REQUIRES_ARGUMENT = "requires an argument"
NOT_FOR_TARGET = "Option not supported for this target"


class ParsedArg(NamedTuple):
    """One item of the command line: an option with its argument, or a disk image.

    ``location`` is the text QEMU names in errors about it: the words as
    written (``-device foo``, ``--m 1``, ``disk.img``).
    """

    option: Option | None
    value: str | None
    location: str

    @property
    def is_image(self) -> bool:
        """Whether this is a positional disk image (``value`` is its file name)."""
        return self.option is None

    @property
    def key(self) -> str | None:
        """The option's dispatch name (``machine`` for ``-M``), None for an image."""
        return self.option.key if self.option else None


class FirstPass(NamedTuple):
    """What is taken from the whole command line before any option acts."""

    #: False when ``-no-user-config`` is given.
    user_config: bool = True
    #: False when ``-nodefaults`` is given (QEMU reads it in order, but it only
    #: matters after all options are read, so it is safe to know it early).
    defaults: bool = True


def _option_name(word: str) -> str:
    """The name looked up for ``word``: one leading dash of two is dropped."""
    return word[2:] if word.startswith("--") else word[1:]


def lex_argv(argv: Sequence[str]) -> list[ParsedArg]:
    """Split the words after the program name into options and disk images, in order.

    Raises :class:`OptionError` for an unknown option or a missing argument,
    with QEMU's text and location.
    """
    args: list[ParsedArg] = []
    pos = 0
    while pos < len(argv):
        word = argv[pos]
        if not word.startswith("-"):
            args.append(ParsedArg(None, word, word))
            pos += 1
            continue
        option = find_option(_option_name(word))
        if option is None:
            raise OptionError(INVALID_OPTION, location=word)
        if not option.has_arg:
            args.append(ParsedArg(option, None, word))
            pos += 1
            continue
        if pos + 1 >= len(argv):
            raise OptionError(REQUIRES_ARGUMENT, location=word)
        value = argv[pos + 1]
        args.append(ParsedArg(option, value, f"{word} {value}"))
        pos += 2
    return args


def first_pass(args: Sequence[ParsedArg]) -> FirstPass:
    """The settings QEMU takes from the whole command line before the second pass."""
    keys = {arg.key for arg in args}
    return FirstPass(user_config="no-user-config" not in keys, defaults="nodefaults" not in keys)


def check_target(arg: ParsedArg) -> None:
    """Raise QEMU's error for an option of another target (checked as each option acts)."""
    if arg.option is not None and not arg.option.x86:
        raise OptionError(NOT_FOR_TARGET, location=arg.location)


def info_text(arg: ParsedArg) -> str | None:
    """The text to print and exit 0 on for ``-h``, ``-help`` or ``-version``; else None."""
    if arg.key == "h":
        return help_text()
    if arg.key == "version":
        return version_text()
    return None


def version_text() -> str:
    """The ``-version`` text; its first line is what tools parse QEMU's version from."""
    qemu = ".".join(str(part) for part in QEMU_VERSION)
    return (
        f"QEMU emulator version {qemu} (pyqemu {__version__})\n"
        "Copyright (c) the pyqemu developers, reimplementing the interfaces of QEMU\n"
    )


_DISK_IMAGE = "A 'disk_image' argument is attached as IDE hard disk 0, as with -hda."

_CLOSING = (
    "Escape keys on a terminal shared by the guest and the monitor:",
    "ctrl-a h".ljust(HELP_COLUMN) + "list the escape keys",
    "ctrl-a c".ljust(HELP_COLUMN) + "switch between the guest's console and the monitor",
    "ctrl-a x".ljust(HELP_COLUMN) + "quit the emulator",
    "",
    "The terminal is shared that way with -nographic.",
    "",
    "pyqemu follows the command line, QMP and QOM of QEMU (https://www.qemu.org);",
    "its bugs are its own: report them to pyqemu, not to the QEMU project.",
)


def _form_lines(form: Form) -> Iterator[str]:
    """A form as ``-h`` prints it: a short syntax shares its line with the text."""
    text = form.text
    if len(form.syntax) == 1 and text and len(form.syntax[0]) < HELP_COLUMN:
        yield form.syntax[0].ljust(HELP_COLUMN) + text[0]
        text = text[1:]
    else:
        yield from form.syntax
    for line in text:
        yield " " * HELP_COLUMN + line


def _help_lines(prog: str) -> Iterator[str]:
    yield f"usage: {prog} [options] [disk_image]"
    yield ""
    yield _DISK_IMAGE
    for section in SECTIONS:
        yield ""
        yield section.title
        for option in section.options:
            for form in option.forms:
                yield from _form_lines(form)
    yield ""
    yield from _CLOSING


def help_text(prog: str = PROG) -> str:
    """The ``-h`` text: version, usage, then every listed option by section."""
    return version_text() + "".join(line + "\n" for line in _help_lines(prog))
