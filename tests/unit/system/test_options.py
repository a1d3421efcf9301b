"""The option table, the argv lexer and the -h / -version texts.

The tests marked ``needs_qemu`` compare with the installed QEMU 7.2
(``qemu-system-x86_64``) and skip when it is missing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import pytest

from pyqemu.system import cmdline
from pyqemu.system.cmdline import FirstPass, ParsedArg, first_pass, lex_argv
from pyqemu.system.options import EXTENSIONS, OPTIONS, SECTIONS, find_option
from pyqemu.util.errors import OptionError

QEMU = shutil.which("qemu-system-x86_64")
needs_qemu = pytest.mark.skipif(QEMU is None, reason="qemu-system-x86_64 is not installed")

#: Options QEMU 7.2 accepts but does not list in -h, other than the ones named
#: in a listed line (-help, -fdb, -hdb, -hdd).
HIDDEN = {"M", "g", "prom-env", "semihosting", "semihosting-config", "old-param",
          "qtest", "qtest-log"}
OTHER_TARGETS = {"g", "prom-env", "semihosting", "semihosting-config", "old-param"}
#: The options QEMU has: ours less pyqemu's own extensions.
QEMU_OPTIONS = tuple(opt for opt in OPTIONS if opt not in EXTENSIONS.options)


def _without_extensions(text: str) -> str:
    """A -h text less the section of pyqemu's own options."""
    head, _, tail = text.partition(EXTENSIONS.title)
    return head + tail[tail.find("\nEscape keys"):] if tail else text

# A line of -h naming options: "-fda/-fdb file", "-h or -help", "--preconfig".
_OPTION_LINE = re.compile(r"--?([^\s\[,/]+)((?:/-[^\s\[,/]+)*)(?: or -(\S+))?")


def _help_structure(text: str) -> list[tuple[str, list[str]]]:
    """The sections of a -h text, each with the option names its lines start with."""
    sections: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if sections and line.startswith("-"):
            match = _OPTION_LINE.match(line)
            assert match, line
            names = [match[1], *re.findall(r"/-([^\s\[,/]+)", match[2] or "")]
            names += [match[3]] if match[3] else []
            sections[-1][1].extend(n for n in names if n not in sections[-1][1])
        elif line.endswith(":") and not line.startswith((" ", "-")):
            sections.append((line, []))
    return sections


def _syntax_heads(text: str) -> list[str]:
    """The first word of every line starting with an option: one per syntax line."""
    return [line.split()[0] for line in text.splitlines() if line.startswith("-")]


@cache
def _qemu_help() -> str:
    assert QEMU is not None
    out = subprocess.run([QEMU, "-h"], capture_output=True, text=True, check=True).stdout
    return out.split("\nDuring emulation")[0]


def _qemu_stderr(*argv: str) -> str:
    assert QEMU is not None
    proc = subprocess.run([QEMU, *argv], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=30)
    assert proc.returncode == 1, (argv, proc.stderr)
    return proc.stderr.strip().removeprefix("qemu-system-x86_64: ")


def _lex_error(argv: list[str]) -> str:
    with pytest.raises(OptionError) as info:
        lex_argv(argv)
    return f"{info.value.location}: {info.value.desc}"


# -- the table ----------------------------------------------------------------

def test_names_are_unique_and_found() -> None:
    names = [opt.name for opt in OPTIONS]
    assert len(names) == len(set(names)) == 122 + len(EXTENSIONS.options)
    assert all(find_option(name) is opt for name, opt in zip(names, OPTIONS, strict=True))
    assert find_option("no-such") is None
    assert find_option("-m") is None


def test_aliases_point_to_an_option_of_the_same_kind() -> None:
    aliases = {opt.name: opt.alias_of for opt in OPTIONS if opt.alias_of}
    assert aliases == {"help": "h", "M": "machine"}
    for name, target in aliases.items():
        assert find_option(name).has_arg == find_option(target).has_arg  # type: ignore[union-attr]


def test_unlisted_and_other_target_options() -> None:
    co_listed = {"help", "fdb", "hdb", "hdd"}
    assert {opt.name for opt in OPTIONS if not opt.listed} == HIDDEN | co_listed
    assert {opt.name for opt in OPTIONS if not opt.x86} == OTHER_TARGETS


def test_every_form_starts_with_its_option() -> None:
    for opt in OPTIONS:
        for form in opt.forms:
            head = form.syntax[0].split()[0].split("/")[0]
            assert head in (f"-{opt.name}", f"--{opt.name}"), (opt.name, head)


def test_arguments_match_qemu_table() -> None:
    takes_none = {opt.name for opt in OPTIONS if not opt.has_arg}
    assert takes_none == {
        "h", "help", "version", "mem-prealloc", "audio-help", "snapshot", "usb", "nographic",
        "portrait", "full-screen", "win2k-hack", "no-fd-bootchk", "no-acpi", "no-hpet",
        "singlestep", "preconfig", "S", "s", "enable-kvm", "xen-attach", "xen-domid-restrict",
        "no-reboot", "no-shutdown", "daemonize", "only-migratable", "nodefaults",
        "semihosting", "old-param", "no-user-config", "async-teardown", "enable-sync-profile",
    }


# -- lexing -------------------------------------------------------------------

def test_lex_options_and_images_in_order() -> None:
    args = lex_argv(["disk.img", "-M", "none", "--m", "1", "-S", "-name", "-version", ""])
    assert [(a.key, a.value, a.location) for a in args] == [
        (None, "disk.img", "disk.img"),
        ("machine", "none", "-M none"),
        ("m", "1", "--m 1"),
        ("S", None, "-S"),
        ("name", "-version", "-name -version"),
        (None, "", ""),
    ]
    assert args[0].is_image and not args[1].is_image
    assert args[1].option is find_option("M")


def test_lex_nothing() -> None:
    assert lex_argv([]) == []


@pytest.mark.parametrize(("argv", "error"), [
    (["-foo"], "-foo: invalid option"),
    (["--foo"], "--foo: invalid option"),
    (["---h"], "---h: invalid option"),
    (["-"], "-: invalid option"),
    (["--"], "--: invalid option"),
    (["--machine=none"], "--machine=none: invalid option"),
    (["-m"], "-m: requires an argument"),
    (["--m"], "--m: requires an argument"),
    (["-qtest"], "-qtest: requires an argument"),
    (["-version", "-foo"], "-foo: invalid option"),
    (["-foo", "-version"], "-foo: invalid option"),
    (["-version", "-m"], "-m: requires an argument"),
    (["-S", "-foo", "-m"], "-foo: invalid option"),
    (["-name", "-foo", "-m"], "-m: requires an argument"),
])
def test_lex_errors(argv: list[str], error: str) -> None:
    assert _lex_error(argv) == error


@needs_qemu
@pytest.mark.parametrize("argv", [
    ["-foo"], ["--foo"], ["---h"], ["-"], ["--"], ["--machine=none"], ["-m"], ["--m"],
    ["-version", "-foo"], ["-foo", "-version"], ["-version", "-m"], ["-h", "-foo"],
])
def test_lex_errors_match_qemu(argv: list[str]) -> None:
    assert _lex_error(argv) == _qemu_stderr(*argv)


def test_first_pass() -> None:
    assert first_pass(lex_argv(["-M", "none"])) == FirstPass(user_config=True, defaults=True)
    args = lex_argv(["-nodefaults", "x.img", "--no-user-config"])
    assert first_pass(args) == FirstPass(user_config=False, defaults=False)


def test_other_target_option_fails_where_it_is_used() -> None:
    args = lex_argv(["-version", "-g", "1"])
    cmdline.check_target(args[0])
    with pytest.raises(OptionError) as info:
        cmdline.check_target(args[1])
    assert info.value.cli_message("p") == "p: -g 1: Option not supported for this target"


def test_info_text() -> None:
    help_, help_long, version, other = lex_argv(["-h", "--help", "-version", "-S"])
    assert cmdline.info_text(help_) == cmdline.info_text(help_long) == cmdline.help_text()
    assert cmdline.info_text(version) == cmdline.version_text()
    assert cmdline.info_text(other) is None
    assert cmdline.info_text(ParsedArg(None, "x.img", "x.img")) is None


# -- -h and -version ----------------------------------------------------------

def test_version_text() -> None:
    lines = cmdline.version_text().splitlines()
    assert lines[0] == "QEMU emulator version 7.2.0 (pyqemu 0.1.0)"
    assert len(lines) == 2 and "pyqemu" in lines[1]


def test_help_text_layout() -> None:
    lines = cmdline.help_text().splitlines()
    assert lines[:3] == [
        "QEMU emulator version 7.2.0 (pyqemu 0.1.0)",
        lines[1],
        "usage: pyqemu-system-x86_64 [options] [disk_image]",
    ]
    assert lines[3] == "" and lines[5] == "" and lines[6] == "Standard options:"
    assert "-h or -help     show this list of options, then exit" in lines
    assert "-machine [type=]name[,prop[=value][,...]]" in lines
    assert [title for title, _ in _help_structure(cmdline.help_text())][:len(SECTIONS)] == [
        section.title for section in SECTIONS
    ]


def test_help_lists_every_listed_option_in_table_order() -> None:
    listed = [name for _, names in _help_structure(cmdline.help_text()) for name in names]
    table = [opt.name for opt in OPTIONS if opt.name not in HIDDEN]
    assert listed == table


@needs_qemu
def test_help_sections_and_options_match_qemu() -> None:
    ours = _help_structure(_without_extensions(cmdline.help_text()).split("\nEscape keys")[0])
    assert ours == _help_structure(_qemu_help())


@needs_qemu
def test_help_syntax_lines_match_qemu() -> None:
    ours = _without_extensions(cmdline.help_text()).split("\nEscape keys")[0]
    assert _syntax_heads(ours) == _syntax_heads(_qemu_help())


def _qemu_takes_argument(name: str) -> bool | None:
    """Ask QEMU: -NAME -foo -m fails on -m if -NAME took -foo, else on -foo."""
    error = _qemu_stderr(f"-{name}", "-foo", "-m")
    return {"-m: requires an argument": True, "-foo: invalid option": False}.get(error)


@needs_qemu
def test_every_option_is_known_to_qemu_with_the_same_argument() -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = dict(zip(QEMU_OPTIONS, pool.map(_qemu_takes_argument, [o.name for o in QEMU_OPTIONS]),
                         strict=True))
    assert {opt.name: found[opt] for opt in QEMU_OPTIONS} == {o.name: o.has_arg for o in QEMU_OPTIONS}


@needs_qemu
@pytest.mark.parametrize("name", sorted(OTHER_TARGETS))
def test_other_target_options_match_qemu(name: str) -> None:
    argv = [f"-{name}", "x"] if find_option(name).has_arg else [f"-{name}"]  # type: ignore[union-attr]
    args = lex_argv(argv)
    with pytest.raises(OptionError) as info:
        cmdline.check_target(args[0])
    assert f"{info.value.location}: {info.value.desc}" == _qemu_stderr(*argv)
