"""QAPI: the declaration of every QMP command, event and type, and what derives from it.

* :mod:`.schema` — the declaration DSL and the registry (:data:`.schema.SCHEMA`);
* :mod:`.input_visitor` — checking and converting a command's arguments;
* :mod:`.introspect` — ``query-qmp-schema`` and ``query-commands``;
* :mod:`.json_lexer`, :mod:`.json_parser` — the QMP byte stream to JSON values;
* :mod:`.request` — one JSON value to a request, and finding its command;
* :mod:`.hashorder`, :mod:`.modutf8` — QEMU's hash-table orders and string rules.

Nothing is imported here, so importing one of them stays cheap.
"""
