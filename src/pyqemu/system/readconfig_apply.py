"""``-readconfig FILE``: each section of QEMU's ini-like format into the Config.

QemuOpts groups (``chardev``, ``device``, ``mon`` …) go into the option
store as if given on the command line; the keyval groups QEMU reads
(``machine``, ``object``, ``smp-opts``, ``boot-opts``, ``memory``) merge into
the same places ``-M``, ``-object``, ``-smp``, ``-boot`` and ``-m`` fill.
Errors name ``FILE:LINE`` as QEMU does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyqemu.util.cutils import ParseWarning
from pyqemu.util.errors import ConfigError, location
from pyqemu.util.keyval import keyval_merge
from pyqemu.util.readconfig import ConfigSection
from pyqemu.util.readconfig import read_config_file as read_sections

if TYPE_CHECKING:
    from pyqemu.system.config import Config




def _apply_section(config: Config, section: ConfigSection) -> None:
    from pyqemu.system.config import CliItem

    if section.group == "machine":
        keyval_merge(config.machine, section.to_tree())
    elif section.group == "object":
        config.objects.append(CliItem(section.location or section.filename, section.to_tree()))
    else:
        try:
            config.opts.find_list(section.group)
        except ConfigError as err:
            raise ConfigError(f"There is no option group '{section.group}'") from err
        warnings: list[ParseWarning] = []
        try:
            opts = config.opts.from_dict(section.group, section.values, section.location, warnings=warnings)
        finally:
            for warning in warnings:
                config.warn(section.location or section.filename, warning)
        if section.group == "device":
            config.devices.append(CliItem(section.location or section.filename, opts))


def read_config_file(config: Config, path: str) -> None:
    """Apply every section of ``path``, in order; the first bad one ends start-up."""
    for section in read_sections(path):
        where = section.location
        if where is None:
            _apply_section(config, section)
            continue
        with location(where, is_file=True):
            _apply_section(config, section)
