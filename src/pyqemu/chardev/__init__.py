"""Character devices (QEMU's ``chardev/``): byte streams between device models and the outside.

* :mod:`.char` — the ``chardev`` base type, the frontend handle ``CharBackend``,
  creation into ``/chardevs``, removal, ``query-chardev``.
* :mod:`.char_io` — non-blocking fd reading with flow control, and queued writing.
* one module per backend: :mod:`.char_socket` (with :mod:`.socket_address`),
  :mod:`.char_stdio`, :mod:`.char_file`, :mod:`.char_pipe`, :mod:`.char_null`,
  :mod:`.char_ringbuf`, :mod:`.char_pty`, :mod:`.char_mux`.
* :mod:`.create` — ``-chardev`` and ``chardev-add``; :mod:`.options` declares the
  ``chardev`` option group (``chardev-add``'s types are in :mod:`pyqemu.qapi.char`);
  :mod:`.compat` parses the legacy ``-serial``/``-monitor`` syntax.
"""
