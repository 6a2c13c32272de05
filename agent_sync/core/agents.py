"""Agents: registration, check-ins and presence (active, stale, idle, offline)."""

from . import clock, config, journal, lazy, presence, validate
from .errors import Busy, Conflict, NotFound, UsageError
from .identity import OPERATOR

TYPE_CHECKING = False
if TYPE_CHECKING:
    from . import names
else:  # registration only: names imports unicodedata, a C module every other command can skip
    lazy.modules("agent_sync.core", "names", globals())
if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable, Iterable

    from .context import Context
    from .store import Row

CHECKIN_WAIT = 0.25  # seconds a presence refresh waits for a busy database before it is skipped


def status_of(row: "Row", ctx: "Context") -> str:
    """Presence of a row already read (the etcd store), by the caller's thresholds."""
    return presence.status_of(row, ctx.now, ctx.stale_after, ctx.offline_after)


def holds(row: "Row | None", ctx: "Context") -> bool:
    """Active and idle agents keep their locks and tasks (presence.HOLDS_SQL, in Python)."""
    return row is not None and status_of(row, ctx) in ("active", "idle")


def get(ctx: "Context", agent_id: str) -> "sqlite3.Row | None":
    params = dict(ctx.presence(), id=agent_id)
    return ctx.db.one(f"SELECT *, {presence.status_sql('a')} AS status FROM agents a WHERE a.id = :id", params)


def check_in(ctx: "Context", state: str = "active") -> None:
    """Record that the caller is alive. Cheap when nothing changed recently.

    Call inside a write transaction, or outside one to get a short one of its
    own only when a write is actually due. Outside a transaction, refreshing a
    known agent is best effort: if another process holds the write lock for
    CHECKIN_WAIT seconds it is skipped (the next command retries), so a busy
    database never fails a read or stretches a write's wait. A new agent's
    first check-in creates its row, and that waits like any write.
    """
    row = ctx.db.one("SELECT state, last_seen FROM agents WHERE id = ?", (ctx.me.id,))
    due = row is None or row["state"] != state or ctx.now - row["last_seen"] >= config.CHECKIN_THROTTLE
    skewed = clock.skewed(ctx.db, ctx.now)  # a clock that jumped back is settled at once (read outside the lock)
    if not due and not skewed:
        return
    if ctx.db.in_transaction():
        _touch(ctx, state, skewed)
    elif row is None:
        with ctx.db.write():
            _touch(ctx, state, skewed)
    else:
        try:
            with ctx.db.write(wait=CHECKIN_WAIT):
                _touch(ctx, state, skewed)
        except Busy:
            pass


def _touch(ctx: "Context", state: str, skewed: bool = False) -> None:
    if skewed:
        clock.settle(ctx.db, ctx.now)
    updated = ctx.db.execute(
        "UPDATE agents SET state = ?, last_seen = ?, cwd = ? WHERE id = ?",
        (state, ctx.now, storable(ctx.cwd), ctx.me.id),
    ).rowcount
    if not updated:
        _insert(ctx, state)


def _insert(ctx: "Context", state: str) -> None:
    me = ctx.me
    holder = ctx.db.one("SELECT id, name FROM agents WHERE name_key = ?", (validate.key(me.id),))
    if holder is not None:  # an id outranks a name (the addressing rule): the holder goes back to its own id
        _give_back(ctx, holder["id"], holder["name"], me.id)
    name = _free_name(ctx, me.id)
    kind = "operator" if me.id == OPERATOR else "agent"
    floor = ctx.db.scalar("SELECT COALESCE(MAX(id), 0) FROM messages")
    ctx.db.execute(
        "INSERT INTO agents (id, name, name_key, kind, session, cwd, state, msg_floor, msg_hw,"
        " created_at, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (me.id, name, validate.key(name), kind, storable(me.session), storable(ctx.cwd), state, floor, floor,
         ctx.now, ctx.now),
    )
    log_presence(ctx, "joined")


def storable(text: str | None) -> str | None:
    """Text from a hook payload or the filesystem, as valid UTF-8 (lone surrogates become U+FFFD)."""
    if text is None:
        return None
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _free_name(ctx: "Context", wanted: str) -> str:
    return free_name(wanted, lambda key: ctx.db.one("SELECT 1 FROM agents WHERE name_key = ?", (key,)))


def free_name(wanted: str, taken: "Callable[[str], object]") -> str:
    """`wanted`, or `wanted-2`, `wanted-3`… while taken(name key) says another agent uses it."""
    candidate, n = wanted, 1
    while taken(validate.key(candidate)):
        n += 1
        candidate = f"{wanted}-{n}"
    return candidate


def check_name(ctx: "Context", name: str, role: str | None) -> tuple[str, str | None]:
    """Validated, normalised (name, role) for register (core.names); the operator's name is reserved."""
    name = names.normalise(validate.text(name, "name"), "name")
    if not name:
        raise UsageError("name must not be empty")
    if names.skeleton(name) == names.skeleton(OPERATOR) and ctx.me.id != OPERATOR:
        raise UsageError("the name 'operator' is reserved for the console")
    if role is not None:
        role = names.normalise(validate.text(role, "role", allow_empty=True), "role")
    return name, role


def refuse_hijack(me_id: str, name: str, role: str | None, others: "Iterable[Row]") -> None:
    """The addressing rule's other half: no name or role that would redirect another agent's mail.

    `--to X` reaches the agent whose id is X, else the one named X, else everyone with role X. So a
    name may not be another agent's id, nor the role of a live (not offline) agent; a role may not be
    another agent's id or name; and neither may merely look like a live agent's id or name
    (core.names.skeleton: case, width, accents, Cyrillic/Greek and digit look-alikes). Roles may be
    shared: a role is a group address. `others`: every other agent row, with `status`.
    """
    key, role_key = validate.key(name), validate.key(role) if role else ""
    shape, role_shape = names.skeleton(name), names.skeleton(role) if role else ""
    for other in others:
        if other["id"] == me_id:
            continue
        their_id, live = other["id"].casefold(), other["status"] != "offline"
        if key == their_id:
            raise UsageError(f"the name {name!r} is the id of agent {other['id']}: mail to it goes there; choose another")
        if live and other["role_key"] and key == other["role_key"]:
            raise UsageError(f"the name {name!r} is the role of agent {other['id']}: it would take their mail; "
                             "choose another")
        if role_key and role_key in (their_id, other["name_key"]):
            raise UsageError(f"the role {role!r} is the id or name of agent {other['id']}: mail to it goes there; "
                             "choose another")
        if not live:
            continue
        looks = {names.skeleton(other["id"]), names.skeleton(other["name"])}
        if shape in looks and key not in (their_id, other["name_key"]):
            raise UsageError(f"the name {name!r} looks like agent {other['id']} ({other['name']!r}); choose another")
        if role_shape and role_shape in looks:
            raise UsageError(f"the role {role!r} looks like agent {other['id']} ({other['name']!r}); choose another")


def name_taken(name: str, other: "Row") -> None:
    """Refuse when the name's holder (an agent row with `status`) is still active; else the name may move."""
    if other["status"] == "active":
        raise Conflict(f"the name {name!r} is used by active agent {other['id']}; choose another")


def log_presence(ctx: "Context", what: str) -> None:
    journal.log(ctx, "presence", what)


def _give_back(ctx: "Context", holder: str, old_name: str, taker: str) -> None:
    """`holder` gives up its name `old_name` to the agent whose id it is, and is called by its own id again."""
    ctx.db.execute("UPDATE agents SET name = id, name_key = lower(id) WHERE id = ?", (holder,))
    journal.log(ctx, "presence", f"agent {holder} gave the name {old_name!r} back to agent {taker}, whose id it is; "
                                 f"{holder} is now called {holder}")


def register(ctx: "Context", name: str, role: str | None = None) -> "sqlite3.Row":
    """Set the caller's name (and role). A name held by an active agent is refused, and so is any name or
    role that would take another agent's mail (refuse_hijack)."""
    name, role = check_name(ctx, name, role)
    with ctx.db.write():
        _touch(ctx, "active")
        params = dict(ctx.presence(), key=validate.key(name), me=ctx.me.id)
        others = ctx.db.all(f"SELECT a.*, {presence.status_sql('a')} AS status FROM agents a WHERE id != :me", params)
        refuse_hijack(ctx.me.id, name, role, others)
        other = next((r for r in others if r["name_key"] == params["key"]), None)
        if other is not None:
            if params["key"] == ctx.me.id.casefold():  # your own id is always yours to be called by
                _give_back(ctx, other["id"], other["name"], ctx.me.id)
            else:
                name_taken(name, other)
                # The old holder is gone: it falls back to its id so the name can move.
                ctx.db.execute("UPDATE agents SET name = id, name_key = lower(id) WHERE id = ?", (other["id"],))
        fields = {"name": name, "name_key": validate.key(name)}
        if role is not None:
            fields.update(role=role, role_key=validate.key(role))
        sets = ", ".join(f"{column} = ?" for column in fields)
        ctx.db.execute(f"UPDATE agents SET {sets} WHERE id = ?", (*fields.values(), ctx.me.id))
    row = get(ctx, ctx.me.id)
    assert row is not None  # _touch wrote it
    return row


def set_state(ctx: "Context", state: str) -> None:
    """Mark the caller active, idle (session ended) or offline (logged out)."""
    with ctx.db.write():
        _touch(ctx, state)
        if state != "active":
            log_presence(ctx, f"went {state}")


def listing(ctx: "Context", include_offline: bool = True) -> "list[sqlite3.Row]":
    sql = f"""SELECT a.*, {presence.status_sql('a')} AS status, t.title AS task_title
              FROM agents a LEFT JOIN tasks t ON t.id = a.current_task
              ORDER BY a.kind = 'operator', a.last_seen DESC"""
    rows = ctx.db.all(sql, ctx.presence())
    return [r for r in rows if include_offline or r["status"] != "offline"]


def find(ctx: "Context", ref: str) -> "sqlite3.Row":
    """An agent by id or name."""
    row = ctx.db.one("SELECT id FROM agents WHERE id = ? OR name_key = ?", (ref, validate.key(ref)))
    agent = None if row is None else get(ctx, row["id"])
    if agent is None:  # also when garbage collection removed it between the two reads
        raise NotFound(f"no agent {ref!r}")
    return agent
