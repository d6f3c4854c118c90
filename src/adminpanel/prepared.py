"""Rows read and written by statements built once per process, for the requests every sign-in
makes (benchmarks/code.py, README "Benchmarks").

The ORM compiles a query into SQL and looks up its columns' converters on every call, which
costs more Python than PostgreSQL spends running a primary-key lookup or a one-row INSERT
(about 0.2-0.4 ms each here). For a model, these build the statement and the converters on first
use and keep them for the process. What goes in and comes out are model instances, as the ORM
gives them: `get` returns Model.from_db(...), `insert` fills in the new row's key and sends
pre_save and post_save like Model.save(), so receivers (the notices' outbox, the metrics) see
every row.

Each statement is also a round trip to the database (about 0.1 ms of the worker's CPU here):
inside together(), the writes made with write() and insert() go to PostgreSQL as one, and
in_turn() sends reads that must run one after another (a lock, then what it guards) as one. On
PostgreSQL they run on a cursor the connection keeps (first_row), not on a cursor Django makes
and wraps for each statement.
"""

import contextlib
import functools
import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models.signals import post_save, pre_save


def database():
    """The connection itself, looked up once: django.db.connection is a proxy that looks it up
    again in the request's context on every attribute read, dozens of times per row written
    when handed to the fields' converters (about 0.1 ms per code step, benchmarks/code.py)."""
    return connections[DEFAULT_DB_ALIAS]


@functools.cache
def _columns(model: type[models.Model]) -> tuple[list[str], list[str], list]:
    """The model's quoted column names, their attribute names, and (index, converters,
    expression) for each column that has converters (e.g. JSON, dates on SQLite)."""
    quote = connection.ops.quote_name
    fields = list(model._meta.concrete_fields)
    converters = []
    for index, field in enumerate(fields):
        expression = field.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(expression)
        found += expression.get_db_converters(connection)
        if found:
            converters.append((index, found, expression))
    return [quote(f.column) for f in fields], [f.attname for f in fields], converters


def select_list(model: type[models.Model], alias: str) -> str:
    """Every column of the model as `alias.column`, in the order from_row expects."""
    return ", ".join(f"{alias}.{column}" for column in _columns(model)[0])


def from_row(model: type[models.Model], values: Sequence) -> models.Model:
    """A model instance from the values of select_list's columns, converted as the ORM would."""
    _, names, converters = _columns(model)
    db = database()
    values = list(values)
    for index, functions, expression in converters:
        for convert in functions:
            values[index] = convert(values[index], expression, db)
    return model.from_db(db.alias, names, values)


@functools.cache
def _select(model: type[models.Model], where: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    meta = model._meta
    conditions = " AND ".join(f"t.{quote(meta.get_field(name).column)} = %s" for name in where)
    # Only quoted names from the model go into the text; the values are parameters.
    table = quote(meta.db_table)
    return f"SELECT {select_list(model, 't')} FROM {table} t WHERE {conditions}"  # noqa: S608


def first_row(sql: str, params: Sequence, db=None) -> tuple | None:
    """The first row of one statement (None: it has none; it must return rows).

    On PostgreSQL it runs on the connection's kept cursor (adminpanel.postgresql), checked as
    Django's cursor is (the connection's checks there, a broken transaction refused here) and
    with its error mapping, but not a cursor made and wrapped for it: about 50 µs less per
    statement, four statements per code step (README "The code step's CPU"). Django's own
    cursor runs it when something watches the statements: DEBUG, the tests'
    CaptureQueriesContext, an execute wrapper other than together()'s (whose writes are sent
    first, so that the statement sees them).
    """
    db = db if db is not None else database()
    waiting = _WAITING.get()
    if waiting is not None:
        waiting.send()
    kept_cursor = getattr(db, "kept_cursor", None)
    if (
        kept_cursor is None
        or db.queries_logged
        or any(wrapper is not waiting for wrapper in db.execute_wrappers)
    ):
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    cursor = kept_cursor()
    db.validate_no_broken_transaction()
    with db.wrap_database_errors:
        cursor.execute(sql, params)
        return cursor.fetchone()


def column_types(model: type[models.Model]) -> list[str]:
    """The database types of select_list's columns, in its order (e.g. for a function that
    returns them)."""
    return [field.db_type(connection) for field in model._meta.concrete_fields]


@functools.cache
def _in_turn_function(
    statements: tuple[str, ...], param_types: tuple[str, ...], row_types: tuple[str, ...]
) -> tuple[str, str, str]:
    """The name, definition and call of the session's function that runs `statements` one
    after another and returns the rows of the last; its arguments are their parameters in
    order ($1 ... for the %s of the first statement, and so on)."""
    numbered, n = [], 0
    for sql in statements:
        if "%%" in sql or not sql.lstrip().upper().startswith("SELECT"):
            raise ValueError(f"in_turn runs SELECTs with %s parameters only: {sql!r}")
        parts = sql.split("%s")
        text = parts[0]
        for part in parts[1:]:
            n += 1
            text += f"${n}{part}"
        numbered.append(text)
    if n != len(param_types):
        raise ValueError(f"{n} parameters in the statements, {len(param_types)} types given")
    returns = ", ".join(f"adminpanel_{i} {t}" for i, t in enumerate(row_types))
    # Each statement of a VOLATILE function runs on a snapshot of its own (in READ COMMITTED,
    # PostgreSQL's and the panel's level): a read after a lock sees what the holder committed.
    body = "".join(f"PERFORM 1 FROM ({sql}) AS s{i}; " for i, sql in enumerate(numbered[:-1]))
    body += f"RETURN QUERY {numbered[-1]};"
    signature = f"({', '.join(param_types)}) RETURNS TABLE ({returns})"
    name = "adminpanel_" + hashlib.sha256((signature + body).encode()).hexdigest()[:24]
    definition = (
        f"CREATE OR REPLACE FUNCTION pg_temp.{name}{signature} LANGUAGE plpgsql VOLATILE "
        f"AS $adminpanel$ BEGIN {body} END $adminpanel$"
    )
    call = f"SELECT * FROM pg_temp.{name}({', '.join(['%s'] * n)})"  # noqa: S608 - our name
    return name, definition, call


def in_turn(
    statements: Sequence[str],
    params: Sequence,
    *,
    param_types: Sequence[str],
    row_types: Sequence[str],
    db=None,
) -> tuple | None:
    """Run SELECTs one after another, each on a snapshot of its own (one that locks rows, then
    one that reads what the lock guards and so sees what the lock's last holder committed), and
    give the first row of the last (None: it has none). `params` are the statements' %s values
    in order; `param_types` their database types, `row_types` those of the last one's columns.

    On PostgreSQL, when the connection may keep a session's state (server_side_binding, as for
    prepared statements), they go as one statement: a call of a function of the session's
    (pg_temp), made on the connection's first use. One round trip instead of one each: about
    0.15 ms less of the worker's CPU and 0.05 ms less of PostgreSQL's for a lock and a read
    (README "The code step's CPU"). Elsewhere (or where the database refuses the session a
    function of its own), one statement each.
    """
    db = db if db is not None else database()
    temporary_function = getattr(db, "temporary_function", None)
    if temporary_function is not None and db.keeps_session_state:
        name, definition, call = _in_turn_function(
            tuple(statements), tuple(param_types), tuple(row_types)
        )
        if temporary_function(name, definition):
            return first_row(call, params, db)
    params = list(params)
    row = None
    for sql in statements:
        count = sql.count("%s")
        row = first_row(sql, params[:count], db)
        params = params[count:]
    return row


def get(model: type[models.Model], **equal) -> models.Model | None:
    """The row whose fields equal these values (a unique key among them), or None."""
    meta = model._meta
    db = database()
    params = [meta.get_field(name).get_db_prep_value(v, db) for name, v in equal.items()]
    row = first_row(_select(model, tuple(equal)), params, db)
    return None if row is None else from_row(model, row)


@functools.cache
def _insert(model: type[models.Model]) -> tuple[str, list[models.Field]]:
    quote = connection.ops.quote_name
    meta = model._meta
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field]
    key = quote(meta.auto_field.column) if meta.auto_field is not None else "1"
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {key}"
    )
    return sql, fields


def insert(instance: models.Model) -> None:
    """Write a new instance as Model.save() would (its defaults, its signals), in one statement
    (write(): inside together(), with the block's other writes)."""
    model = type(instance)
    meta = model._meta
    sql, fields = _insert(model)
    db = database()
    pre_save.send(sender=model, instance=instance, raw=False, using=db.alias)
    params = [f.get_db_prep_save(f.pre_save(instance, True), db) for f in fields]

    def saved(new_id) -> None:
        if meta.auto_field is not None:
            setattr(instance, meta.auto_field.attname, new_id)
        instance._state.adding = False
        instance._state.db = db.alias
        post_save.send(
            sender=model,
            instance=instance,
            created=True,
            update_fields=None,
            raw=False,
            using=db.alias,
        )

    write(sql, params, then=saved)


# --- writes sent together ------------------------------------------------------------------

Then = Callable[[object], None]


class _Waiting:
    """The writes of a together() block not sent yet; also the connection's execute wrapper
    that sends them before any other statement, so that every read sees them."""

    def __init__(self, db) -> None:
        self.db = db
        self.writes: list[tuple[str, list, Then | None]] = []

    def __call__(self, execute, sql, params, many, context):
        self.send()
        return execute(sql, params, many, context)

    def send(self) -> None:
        while self.writes:  # a `then` may write again (a receiver of post_save)
            writes, self.writes = self.writes, []
            if len(writes) == 1:
                _run(self.db, *writes[0])
                continue
            # PostgreSQL runs each data-modifying WITH exactly once, all on one snapshot: the
            # writes must not depend on each other (rows of their own, no reads between).
            named = ", ".join(f"w{i} AS ({sql})" for i, (sql, _, _) in enumerate(writes))
            picked = ", ".join(f"(SELECT * FROM w{i})" for i in range(len(writes)))  # noqa: S608
            params = [value for _, values, _ in writes for value in values]
            row = first_row(f"WITH {named} SELECT {picked}", params, self.db)
            for (_, _, then), value in zip(writes, row, strict=True):
                if then is not None:
                    then(value)


_WAITING: ContextVar[_Waiting | None] = ContextVar("adminpanel_waiting_writes", default=None)


def _run(db, sql: str, params: list, then: Then | None) -> None:
    row = first_row(sql, params, db)
    if then is not None:
        then(row[0] if row is not None else None)


def write(sql: str, params: list, *, then: Then | None = None) -> None:
    """Run one INSERT, UPDATE or DELETE of at most one row that ends in `RETURNING` one
    column; then(value) gets what it returned (None: no row). Inside together() it is sent
    later, with the others, unless the database cannot (SQLite)."""
    waiting = _WAITING.get()
    if waiting is not None:
        waiting.writes.append((sql, params, then))
    else:
        _run(database(), sql, params, then)


@contextlib.contextmanager
def together() -> Iterator[None]:
    """The block's write()s go to PostgreSQL as one statement (a WITH of each), when it ends
    or before any other statement sent meanwhile: one round trip instead of one each, about
    0.14 ms of the worker's CPU each (benchmarks/code.py: the code step's four writes). Use
    inside a transaction, for writes whose results the block does not read before it ends
    (`then` gets them). An error in the block drops the writes not yet sent, as the
    transaction's rollback would. A block inside another joins it; on SQLite (no
    data-modifying WITH) each write goes at once."""
    db = database()
    if _WAITING.get() is not None or db.vendor != "postgresql":
        yield
        return
    waiting = _Waiting(db)
    token = _WAITING.set(waiting)
    try:
        with db.execute_wrapper(waiting):
            yield
            waiting.send()
    finally:
        _WAITING.reset(token)
