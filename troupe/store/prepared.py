"""The statements every message runs, sent below SQLAlchemy's per-statement execution.

`Connection.execute(statement, params)` costs, per statement, a cache key and a compiled
cache lookup, an execution context (`_init_compiled` builds the parameters name by name
through several layers), a cursor result with its metadata, and a Row per row: for the
few small statements of a message, more than the database's own work. A `Prepared`
statement is compiled once per dialect and set of parameter names into its SQL text, the
order of its parameters and their type processors (JSON, datetimes: the same functions
SQLAlchemy's own path applies, so the bytes sent are the same); each execution builds
the parameter tuples and runs the SQL on the DBAPI cursor of the connection the caller
holds, in its transaction, with the connection's cursor events and its translation of
driver errors (`sqlalchemy.exc.IntegrityError` and the rest). Rows come back as named
tuples, their values through the result processors SQLAlchemy would apply.

A statement that needs more than that (Python-side defaults filled at execution,
RETURNING, expanding IN lists, tuple parameters) takes SQLAlchemy's ordinary path.
tests/store/test_prepared.py proves both paths send and store the same.

Two of SQLAlchemy's processors are replaced by quicker ones that give the same text (see
`_quicker`), checked against them on sample values when a form is compiled: SQLite's
datetime text (a `%`-format over a dict of seven fields, about 4 us; a step writes six)
and a JSON column's None (`json.dumps(None)` each time).
"""

import collections
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import JSON, Connection, DateTime, Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.selectable import Select

from troupe.store import sqlite_inline

Processor = Callable[[Any], Any]


@dataclass(eq=False)
class _Binds:
    """How one parameter set becomes the tuple the driver gets, in the SQL's order."""

    get: Callable[[dict[str, Any]], tuple[Any, ...]]  # the values, by name (itemgetter)
    processors: tuple[tuple[int, Processor], ...]  # by position: JSON, datetimes, ...
    # Values written into the statement itself (a literal's bind, LIMIT 1), by name; a
    # parameter of the same name wins, as in SQLAlchemy.
    constants: dict[str, Any]

    def __call__(self, params: dict[str, Any]) -> tuple[Any, ...]:
        if self.constants:
            params = {**self.constants, **params}
        values = self.get(params)
        if not self.processors:
            return values
        processed = list(values)
        for index, process in self.processors:
            processed[index] = process(processed[index])
        return tuple(processed)


@dataclass(eq=False)
class _Form:
    """A statement as one dialect runs it with one set of parameter names."""

    sql: str
    binds: _Binds
    keys: tuple[str, ...]  # the result's column names (none for a write)
    types: tuple[Any, ...]  # their SQLAlchemy types
    # Found at the first result (they may depend on the driver's description of a column).
    rows: tuple[type[tuple[Any, ...]], tuple[tuple[int, Processor], ...]] | None = None


@dataclass(eq=False)
class Prepared:
    """A statement built once (a module constant, or kept by a cached builder) and its
    compiled forms, one per dialect and set of parameter names."""

    statement: Executable
    _forms: dict[tuple[Any, ...], _Form | None] = field(default_factory=dict, repr=False)

    def execute(self, connection: Connection, params: Sequence[dict[str, Any]]) -> None:
        """Run the statement with each parameter set (one: execute; more: executemany),
        its result unread."""
        form = self._form(connection.dialect, params[0])
        if form is None:
            connection.execute(self.statement, list(params))
            return
        rows = [form.binds(p) for p in params]
        _send(connection, form.sql, rows[0] if len(rows) == 1 else rows, many=len(rows) > 1)

    def fetch(self, connection: Connection, params: dict[str, Any]) -> list[Any]:
        """The statement's rows: named tuples, with SQLAlchemy's attribute names."""
        form = self._form(connection.dialect, params)
        if form is None:
            return list(connection.execute(self.statement, params))
        cursor = _send(connection, form.sql, form.binds(params), many=False)
        found = cursor.fetchall()
        if form.rows is None:
            form.rows = _row_shape(form, connection.dialect, cursor.description)
        row, processors = form.rows
        if not processors:
            return list(map(row._make, found))  # type: ignore[attr-defined]
        out = []
        for values in found:
            values = list(values)
            for index, process in processors:
                values[index] = process(values[index])
            out.append(row(*values))
        return out

    def _form(self, dialect: Dialect, params: dict[str, Any]) -> _Form | None:
        # Dialects of one class and paramstyle compile alike (troupe configures every
        # engine of a backend the same way), so engines share the forms.
        key = (type(dialect), dialect.paramstyle, frozenset(params))
        try:
            return self._forms[key]
        except KeyError:
            form = self._forms[key] = _compile(self.statement, dialect, params)
            return form


def _send(connection: Connection, sql: str, parameters: Any, *, many: bool) -> Any:
    """What `Connection._cursor_execute` does (events, logging, the dialect's translation
    of errors), for one statement or many, after the autobegin `execute` would do."""
    transaction = connection._transaction
    if transaction is None:
        connection.begin()
    elif not transaction.is_active:
        connection._invalid_transaction()
    dbapi_connection = connection.connection.dbapi_connection
    assert dbapi_connection is not None
    dialect = connection.dialect
    cursor = _cursor(dbapi_connection, dialect, sql)
    events = connection._has_events or connection.engine._has_events
    try:
        if events:
            for listener in connection.dispatch.before_cursor_execute:
                sql, parameters = listener(connection, cursor, sql, parameters, None, many)
        if connection._echo:
            connection._log_info(sql)
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        if events:
            connection.dispatch.after_cursor_execute(
                connection, cursor, sql, parameters, None, many
            )
    except BaseException as error:
        _forget_plans_if_stale(dialect, error)
        connection._handle_dbapi_exception(error, sql, parameters, cursor, None)
    return cursor


def _cursor(dbapi_connection: Any, dialect: Dialect, sql: str) -> Any:
    driver = dbapi_connection.driver_connection
    if isinstance(driver, sqlite_inline.Connection):
        driver.ran(sql)  # for its renewal before its statement cache fills
        return driver.raw.cursor()  # a plain sqlite3 cursor: rows as tuples, no adapter
    cursor = dbapi_connection.cursor()
    asof = getattr(dialect, "_invalidate_schema_cache_asof", None)
    if asof is not None:  # asyncpg: as its execution context's pre_exec
        cursor._invalidate_schema_cache_asof = asof
    return cursor


def _forget_plans_if_stale(dialect: Dialect, error: BaseException) -> None:
    """asyncpg's execution context's `handle_dbapi_exception`: a statement prepared
    before the schema changed fails once, and the prepared statements are dropped."""
    forget = getattr(dialect, "_invalidate_schema_cache", None)
    dbapi = dialect.loaded_dbapi
    stale = tuple(
        getattr(dbapi, name)
        for name in ("InvalidCachedStatementError", "InternalServerError")
        if hasattr(dbapi, name)
    )
    if forget is not None and stale and isinstance(error, stale):
        forget()


def _compile(statement: Executable, dialect: Dialect, params: dict[str, Any]) -> _Form | None:
    if not isinstance(statement, UpdateBase | Select):
        return None
    compiled = statement.compile(dialect=dialect, column_keys=sorted(params))
    assert isinstance(compiled, SQLCompiler)
    if (
        not compiled.positional
        or compiled.positiontup is None
        or compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.effective_returning
        or compiled.literal_execute_params
        or compiled.post_compile_params
        or compiled.escaped_bind_names
    ):
        return None
    names = compiled.positiontup
    constants, by_position = {}, []
    for index, name in enumerate(names):
        if name not in params:  # a value written into the statement itself
            bind = compiled.binds[name]
            if bind.required or bind.callable is not None:
                return None
            constants[name] = bind.effective_value
        process = compiled._bind_processors.get(name)
        if process is not None and not callable(process):  # a tuple's processors
            return None
        if process is not None:
            by_position.append((index, _quicker(compiled.binds[name].type, dialect, process)))
    get = operator.itemgetter(*names) if len(names) > 1 else lambda p: tuple(p[n] for n in names)
    binds = _Binds(get, tuple(by_position), constants)
    columns = compiled._result_columns
    return _Form(
        compiled.string,
        binds,
        tuple(column.keyname for column in columns),
        tuple(column.type for column in columns),
    )


# Values the quicker processors are checked on: they must give exactly SQLAlchemy's text.
_SAMPLE_TIMES = (
    datetime(2026, 12, 6, 15, 1, 2, 345678, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),  # no microseconds
    datetime(999, 1, 1, 0, 0, 0, 7),  # naive, a three-digit year
    datetime(2026, 6, 1, 23, 59, 59, 1, tzinfo=timezone(timedelta(hours=5))),
)


def _quicker(type_: Any, dialect: Dialect, process: Processor) -> Processor:
    """`process`, or a quicker function that gives the same for every value."""
    affinity = getattr(type_, "_type_affinity", None)
    if affinity is DateTime and dialect.name == "sqlite":
        quick = _sqlite_datetime(process)
        if all(quick(value) == process(value) for value in (*_SAMPLE_TIMES, None)):
            return quick
    elif affinity is JSON:
        null = process(None)
        if isinstance(null, str) and process(None) == null:
            return _json_none(process, null)
    return process


def _sqlite_datetime(process: Processor) -> Processor:
    """SQLite's datetime text ("YYYY-MM-DD HH:MM:SS.ffffff", the offset left out, as
    SQLAlchemy's format leaves it) from `str`, which gives the microseconds when there are
    any; any other value through `process`."""

    def quick(value: Any) -> Any:
        if type(value) is datetime and value.microsecond:
            return str(value)[:26]
        return process(value)

    return quick


def _json_none(process: Processor, null: str) -> Processor:
    def quick(value: Any) -> Any:
        return null if value is None else process(value)

    return quick


def _row_shape(
    form: _Form, dialect: Dialect, description: Sequence[Any]
) -> tuple[type[tuple[Any, ...]], tuple[tuple[int, Processor], ...]]:
    row = collections.namedtuple("Row", form.keys)  # type: ignore[misc]
    processors = []
    for index, (type_, column) in enumerate(zip(form.types, description, strict=True)):
        process = type_._cached_result_processor(dialect, column[1])
        if process is not None:
            processors.append((index, process))
    return row, tuple(processors)
