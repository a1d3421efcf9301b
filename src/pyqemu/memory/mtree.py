"""The text of HMP ``info mtree``, as QEMU 7.2 prints it.

Two forms:

- the tree (``info mtree``): for each root region, the names of the address
  spaces showing it (sorted), then the region tree with two spaces of
  indentation per level, each line
  ``START-END (prio P, TYPE): NAME`` or ``... : alias NAME @TARGET START-END``;
  then a ``memory-region:`` section for every region an alias points to;
- the flat views (``info mtree -f``): ``FlatView #N``, the address spaces
  sharing it, its root and its ranges.

Subregions print by address, higher priority first at the same address.  A
disabled region's line is left out (``-D`` shows it, marked
``[disabled]``), but its subregions are still printed, exactly as QEMU
does.  QEMU orders the address-space groups by hashing pointers, so its
order changes from run to run; pyqemu prints them in the order the address
spaces were created.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pyqemu.memory.region import UINT64_MAX, MemoryRegion
from pyqemu.qom.object import Object

if TYPE_CHECKING:
    from pyqemu.memory.address_space import AddressSpace, MemorySystem
    from pyqemu.memory.flatview import FlatRange, FlatView

INDENT = "  "
DEVICE_TYPE = "device"

#: ``has_memory(address_space, start, size)`` of an accelerator, as ``-f`` can show (``kvm``).
HasMemory = Callable[["AddressSpace", int, int], bool]


def _hex(value: int) -> str:
    return f"{value & UINT64_MAX:016x}"


def _last_offset(size: int) -> int:
    return size - 1 if size else 0


def _is_device(obj: Object) -> bool:
    return any(cls.__dict__.get("TYPE") == DEVICE_TYPE for cls in type(obj).__mro__)


def _expand_owner(label: str, obj: Object) -> str:
    kind = "dev" if _is_device(obj) else "obj"
    dev_id = getattr(obj, "id", None) if kind == "dev" else None
    if dev_id:
        return f" {label}:{{{kind} id={dev_id}}}"
    if obj.parent is not None:
        return f" {label}:{{{kind} path={obj.canonical_path()}}}"
    return f" {label}:{{{kind} type={obj.typename}}}"


def _owner_text(mr: MemoryRegion) -> str:
    """`` owner:{...} parent:{...}`` as ``-o`` prints it."""
    owner, parent = mr.owner, mr.parent
    if owner is None and parent is None:
        return " orphan"
    text = _expand_owner("owner", owner) if owner is not None else ""
    if parent is not None and parent is not owner:
        text += _expand_owner("parent", parent)
    return text


class _TreePrinter:
    def __init__(self, owner: bool, disabled: bool):
        self.owner = owner
        self.disabled = disabled
        self.lines: list[str] = []
        self.alias_queue: list[MemoryRegion] = []

    def region(self, mr: MemoryRegion, level: int, base: int) -> None:
        start = (base + mr.addr) & UINT64_MAX
        end = (start + _last_offset(mr.size)) & UINT64_MAX
        overflow = "[DETECTED OVERFLOW!] " if start < base or end < start else ""
        if mr.alias is not None and not any(mr.alias is queued for queued in self.alias_queue):
            self.alias_queue.append(mr.alias)
        shown = mr.enabled or self.disabled
        if shown:
            nv = "nv-" if mr.nonvolatile else ""
            text = f"{_hex(start)}-{_hex(end)} (prio {mr.priority}, {nv}{mr.type_name()}): "
            if mr.alias is not None:
                alias_end = mr.alias_offset + _last_offset(mr.size)
                text += (f"alias {mr.region_name()} @{mr.alias.region_name()} "
                         f"{_hex(mr.alias_offset)}-{_hex(alias_end)}")
            else:
                text += mr.region_name()
            text += "" if mr.enabled else " [disabled]"
            if self.owner:
                text += _owner_text(mr)
            self.lines.append(overflow + INDENT * level + text + "\n")
        elif overflow:
            self.lines.append(overflow)
        for subregion in sorted(mr.subregions, key=lambda sub: (sub.addr, -sub.priority)):
            self.region(subregion, level + 1, start)


def _mtree_as(system: MemorySystem, owner: bool, disabled: bool) -> str:
    groups: dict[int, tuple[MemoryRegion, list[str]]] = {}
    for space in system.address_spaces:
        groups.setdefault(id(space.root), (space.root, []))[1].append(space.name)
    printer = _TreePrinter(owner, disabled)
    for root, names in groups.values():
        for name in sorted(names, key=lambda n: n.encode()):
            printer.lines.append(f"address-space: {name}\n")
        printer.region(root, 1, 0)
        printer.lines.append("\n")
    index = 0
    while index < len(printer.alias_queue):
        target = printer.alias_queue[index]
        printer.lines.append(f"memory-region: {target.region_name()}\n")
        printer.region(target, 1, 0)
        printer.lines.append("\n")
        index += 1
    return "".join(printer.lines)


def _flat_range_line(fr: FlatRange, owner: bool) -> str:
    mr = fr.mr
    nv = "nv-" if fr.nonvolatile else ""
    kind = "rom" if fr.readonly else mr.type_name()
    text = (f"{INDENT}{_hex(fr.start)}-{_hex(fr.start + _last_offset(fr.size))} "
            f"(prio {mr.priority}, {nv}{kind}): {mr.region_name()}")
    if fr.offset_in_region:
        text += f" @{_hex(fr.offset_in_region)}"
    if owner:
        text += _owner_text(mr)
    return text


def _mtree_flatview(system: MemorySystem, owner: bool, accel: tuple[str, HasMemory] | None) -> str:
    views: dict[int, tuple[FlatView, list[AddressSpace]]] = {}
    for space in system.address_spaces:
        view = space.flatview
        views.setdefault(id(view), (view, []))[1].append(space)
    lines: list[str] = []
    for counter, (view, spaces) in enumerate(views.values()):
        lines.append(f"FlatView #{counter}\n")
        for space in spaces:
            alias = f", alias {space.root.alias.region_name()}" if space.root.alias is not None else ""
            lines.append(f' AS "{space.name}", root: {space.root.region_name()}{alias}\n')
        root_name = view.root.region_name() if view.root is not None else "(none)"
        lines.append(f" Root memory region: {root_name}\n")
        if not len(view):
            lines.append(f"{INDENT}No rendered FlatView\n\n")
            continue
        for fr in view:
            text = _flat_range_line(fr, owner)
            if accel is not None:
                name, has_memory = accel
                text += "".join(f" {name}" for space in spaces if has_memory(space, fr.start, fr.size))
            lines.append(text + "\n")
        lines.append("\n")
    return "".join(lines)


def mtree_info(system: MemorySystem, *, flatview: bool = False, owner: bool = False,
               disabled: bool = False, accel: tuple[str, HasMemory] | None = None) -> str:
    """The text of ``info mtree`` (``-f`` flat views, ``-o`` owners, ``-D`` disabled regions)."""
    if flatview:
        return _mtree_flatview(system, owner, accel)
    return _mtree_as(system, owner, disabled)
