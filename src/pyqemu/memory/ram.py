"""Host RAM blocks: the host memory behind guest RAM (QEMU's ``RAMBlock``).

A :class:`RamBlock` is one host mapping: anonymous memory, a memfd or a
file, mapped with :mod:`mmap`.  Guest RAM is read and written through its
:attr:`RamBlock.view` (a ``memoryview``, never byte by byte), and the KVM
layer registers :attr:`RamBlock.host` (the mapping's host address) as a
memory slot.  The mapping length is the requested size rounded up to the
host page size, as ``qemu_ram_alloc`` does; :attr:`RamBlock.used_length`
is the size that was asked for.

Errors carry QEMU's texts (``physmem.c``, ``util/memfd.c``), e.g.
``can't open backing store PATH for guest RAM: No such file or directory``.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import mmap
import os
import stat

from pyqemu.util.errors import ConfigError

PAGE_SIZE = mmap.PAGESIZE
# Linux values that the mmap module does not export (all architectures pyqemu runs on).
MAP_NORESERVE = 0x4000
MADV_REMOVE = getattr(mmap, "MADV_REMOVE", 9)
MADV_POPULATE_READ = 22
MADV_POPULATE_WRITE = 23
MFD_CLOEXEC = 0x1
MFD_ALLOW_SEALING = 0x2
MFD_HUGETLB = 0x4
MFD_HUGE_SHIFT = 26
F_ADD_SEALS = 1033
F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW = 0x1, 0x2, 0x4
MEMFD_NAME = "memory-backend-memfd"
_BACKING_FILE_PREFIX = "qemu_back_mem"


def host_page_align(size: int) -> int:
    """``size`` rounded up to a whole number of host pages."""
    return (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)


def _os_error(text: str, err: OSError) -> ConfigError:
    return ConfigError(f"{text}: {os.strerror(err.errno or errno.EIO)}")


class RamBlock:
    """One host mapping of guest memory; :meth:`close` unmaps it (and closes its fd)."""

    def __init__(self, mapping: mmap.mmap, used_length: int, *, fd: int = -1, readonly: bool = False):
        self._mmap: mmap.mmap | None = mapping
        self.used_length = used_length
        self.max_length = len(mapping)
        self.fd = fd
        self.readonly = readonly
        self.view = memoryview(mapping)
        self.host = _buffer_address(mapping)

    @property
    def closed(self) -> bool:
        return self._mmap is None

    def madvise(self, advice: int, start: int = 0, length: int | None = None) -> None:
        """``madvise`` over the block (or a part); raises OSError."""
        assert self._mmap is not None
        self._mmap.madvise(advice, start, self.max_length - start if length is None else length)

    def prealloc(self) -> None:
        """Fault every page in now (QEMU's ``os_mem_prealloc``), keeping the contents."""
        try:
            self.madvise(MADV_POPULATE_READ if self.readonly else MADV_POPULATE_WRITE)
            return
        except OSError:
            pass  # kernels before 5.14: touch one byte per page instead
        pages = self.view[::PAGE_SIZE]
        if self.readonly:
            bytes(pages)
        else:
            pages[:] = bytes(pages)

    def close(self) -> None:
        """Unmap the block (at once, or when the last slice of :attr:`view` is released)."""
        if self._mmap is None:
            return
        self.view.release()
        with contextlib.suppress(BufferError):  # slices still held: unmapped when the last one goes
            self._mmap.close()
        self._mmap = None
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class _PyBuffer(ctypes.Structure):
    """CPython's ``Py_buffer``: how the host address of any mapping is read, read-only ones too."""

    _fields_ = [
        ("buf", ctypes.c_void_p), ("obj", ctypes.py_object), ("len", ctypes.c_ssize_t),
        ("itemsize", ctypes.c_ssize_t), ("readonly", ctypes.c_int), ("ndim", ctypes.c_int),
        ("format", ctypes.c_char_p), ("shape", ctypes.c_void_p), ("strides", ctypes.c_void_p),
        ("suboffsets", ctypes.c_void_p), ("internal", ctypes.c_void_p),
    ]


def _buffer_address(mapping: mmap.mmap) -> int:
    """The host address of ``mapping`` (``ctypes.from_buffer`` refuses read-only ones)."""
    get_buffer = ctypes.pythonapi.PyObject_GetBuffer
    get_buffer.argtypes = [ctypes.py_object, ctypes.POINTER(_PyBuffer), ctypes.c_int]
    release = ctypes.pythonapi.PyBuffer_Release
    release.argtypes = [ctypes.POINTER(_PyBuffer)]
    info = _PyBuffer()
    get_buffer(mapping, ctypes.byref(info), 0)
    try:
        return int(info.buf or 0)
    finally:
        release(ctypes.byref(info))


def _map(fd: int, length: int, *, shared: bool, readonly: bool = False, extra_flags: int = 0) -> mmap.mmap:
    flags = (mmap.MAP_SHARED if shared else mmap.MAP_PRIVATE) | extra_flags
    prot = mmap.PROT_READ | (0 if readonly else mmap.PROT_WRITE)
    return mmap.mmap(fd, length, flags=flags, prot=prot)


def alloc_anonymous(size: int, name: str, *, shared: bool = False, reserve: bool = True,
                    populate: bool = False) -> RamBlock:
    """Anonymous host RAM (``memory-backend-ram``, ``-m``): an error names the region."""
    length = host_page_align(size)
    extra = mmap.MAP_ANONYMOUS | (0 if reserve else MAP_NORESERVE) | (mmap.MAP_POPULATE if populate else 0)
    try:
        if length >= 1 << 63:
            raise OSError(errno.ENOMEM, os.strerror(errno.ENOMEM))
        return RamBlock(_map(-1, length, shared=shared, extra_flags=extra), size)
    except (OSError, OverflowError) as err:
        oserr = err if isinstance(err, OSError) else OSError(errno.ENOMEM, "")
        raise _os_error(f"cannot set up guest memory '{name}'", oserr) from err


def alloc_memfd(size: int, *, hugetlb: bool = False, hugetlbsize: int = 0, seal: bool = True,
                shared: bool = True) -> RamBlock:
    """Host RAM in a memfd (``memory-backend-memfd``), sealed against resizing if ``seal``."""
    flags = MFD_CLOEXEC | (MFD_ALLOW_SEALING if seal else 0)
    if hugetlb:
        shift = (hugetlbsize & -hugetlbsize).bit_length() - 1 if hugetlbsize else 0
        flags |= MFD_HUGETLB | (shift << MFD_HUGE_SHIFT)
    try:
        fd = os.memfd_create(MEMFD_NAME, flags)
    except OSError as err:
        raise _os_error(f"failed to create memfd with flags 0x{flags:x}", err) from err
    try:
        try:
            os.ftruncate(fd, size)
        except OSError as err:
            raise _os_error(f"failed to resize memfd to {size}", err) from err
        if seal:
            seals = F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL
            try:
                fcntl.fcntl(fd, F_ADD_SEALS, seals)
            except OSError as err:
                raise _os_error(f"failed to add seals 0x{seals:x}", err) from err
        return _map_backing(fd, size, shared=shared, readonly=False)
    except BaseException:
        os.close(fd)
        raise


def _map_backing(fd: int, size: int, *, shared: bool, readonly: bool) -> RamBlock:
    """Map ``fd`` as a RAM block of ``size`` bytes (``qemu_ram_alloc_from_fd``); the block owns ``fd``."""
    length = host_page_align(size)
    info = os.fstat(fd)
    file_size = info.st_size if stat.S_ISREG(info.st_mode) else 0
    if 0 < file_size < length:
        raise ConfigError(f"backing store size 0x{file_size:x} does not match 'size' option 0x{length:x}")
    try:
        mapping = _map(fd, length, shared=shared, readonly=readonly)
    except (OSError, ValueError) as err:
        oserr = err if isinstance(err, OSError) else OSError(errno.ENODEV, "")
        raise _os_error("unable to map backing store for guest RAM", oserr) from err
    return RamBlock(mapping, size, fd=fd, readonly=readonly)


def _open_backing_file(path: str, region_name: str, readonly: bool) -> int:
    """Open ``path``, creating it, or a hidden file in it when it is a directory."""
    while True:
        try:
            return os.open(path, os.O_RDONLY if readonly else os.O_RDWR)
        except FileNotFoundError:
            try:
                return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                continue
            except OSError as err:
                raise _os_error(f"can't open backing store {path} for guest RAM", err) from err
        except IsADirectoryError:
            import tempfile

            prefix = f"{_BACKING_FILE_PREFIX}.{region_name.replace('/', '_')}."
            try:
                fd, filename = tempfile.mkstemp(prefix=prefix, dir=path)
            except OSError as err:
                raise _os_error(f"can't open backing store {path} for guest RAM", err) from err
            os.unlink(filename)
            return fd
        except OSError as err:
            raise _os_error(f"can't open backing store {path} for guest RAM", err) from err


def alloc_file(size: int, path: str, region_name: str, *, shared: bool = False, readonly: bool = False,
               align: int = 0) -> RamBlock:
    """Host RAM mapped from a file (``memory-backend-file``): ``path`` may name a directory."""
    if align % PAGE_SIZE:
        raise ConfigError(f"alignment 0x{align:x} must be multiples of page size 0x{PAGE_SIZE:x}")
    fd = _open_backing_file(path, region_name, readonly)
    try:
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode) and info.st_size == 0:
            with contextlib.suppress(OSError):  # QEMU only warns; mapping reports the real problem
                os.ftruncate(fd, host_page_align(size))
        return _map_backing(fd, size, shared=shared, readonly=readonly)
    except BaseException:
        os.close(fd)
        raise
