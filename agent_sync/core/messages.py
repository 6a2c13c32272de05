"""Messages between agents: send, deliver once per recipient, read, acknowledge.

Delivery state is per agent (a receipt row), whichever way the message
reached it: pushed by a hook, listed by `inbox`, or opened with read-message.
"""

from . import journal, mailstamp, presence, sanitize, suggest, validate
from .errors import NotAllowed, NotFound, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable, Iterable
    from typing import NoReturn, TypeVar

    from .context import Context
    from .store import Row

    R = TypeVar("R", bound=Row)  # an agent or message row: sqlite3.Row here, a dict in the etcd store

ALL = "all"


ROLE = "role:"  # to_key of a message to a role; ids never hold ':', so it never equals an id's key


def _my_keys(me_row: "Row") -> list[str]:
    """The to_keys that reach this agent: `all`, its id, and `role:` its role (a name is resolved to an id at send)."""
    keys = {ALL, me_row["id"].casefold()}
    if me_row["role_key"]:
        keys.add(ROLE + me_row["role_key"])
    return sorted(keys)


def _sent_to_others(me_row: "Row", message: "Row") -> bool:
    """Sent by this agent to someone else: a message to yourself is delivered to you like any other."""
    return message["sender"] == me_row["id"] and message["to_key"] != me_row["id"].casefold()


def _me(ctx: "Context") -> "sqlite3.Row":
    return registered(ctx, ctx.db.one("SELECT * FROM agents WHERE id = ?", (ctx.me.id,)))


def registered(ctx: "Context", me_row: "R | None") -> "R":
    if me_row is None:
        raise NotFound(f"agent {ctx.me.id} is not registered")
    return me_row


def resolve_recipient(ctx: "Context", recipient: str) -> str:
    """The key a message is stored under (see `address`), checked against known agents."""
    key = recipient_key(recipient)
    if key == ALL:
        return ALL
    rows = ctx.db.all("SELECT id, name_key, role_key FROM agents WHERE lower(id) = ? OR name_key = ? OR role_key = ?",
                      (key, key, key))
    return address(rows, recipient)


def address(rows: "Iterable[Row]", recipient: str) -> str:
    """Where a message to `recipient` goes, by the addressing rule: `all`; else the agent whose id it is;
    else the agent whose name it is (stored as that agent's id, so a later name or role can never
    take the message over); else `role:R` for every agent with that role. NotFound when none matches."""
    key = recipient_key(recipient)
    if key == ALL:
        return ALL
    rows = list(rows)
    for column in ("id", "name_key"):
        hit = next((r for r in rows if (r[column].casefold() if column == "id" else r[column]) == key), None)
        if hit is not None:
            return hit["id"].casefold()
    if any(r["role_key"] == key for r in rows):
        return ROLE + key
    unknown(recipient)


def recipient_key(recipient: str) -> str:
    from .names import normalise

    return validate.key(normalise(validate.text(recipient, "name"), "recipient"))


def knows(agent_row: "Row", key: str) -> bool:
    """Is `key` this agent's id, name or role (the SQL test in resolve_recipient)?"""
    return key in (agent_row["id"].lower(), agent_row["name_key"], agent_row["role_key"])


def unknown(recipient: str) -> "NoReturn":
    raise NotFound(f"no agent, name or role matches {sanitize.quote(recipient, 64)} (see `{suggest.command('agents')}`)")


def addressed(me_row: "Row", message: "Row", after: int | None = None, directed_only: bool = False) -> bool:
    """_addressed_query's rule for one message row already read (the etcd store), receipts aside."""
    keys = [k for k in _my_keys(me_row) if not (directed_only and k == ALL)]
    after = me_row["msg_hw"] if after is None else after
    mine = message["to_key"] == me_row["id"].casefold()
    return (message["to_key"] in keys and message["id"] > after and not _sent_to_others(me_row, message)
            and (message["id"] > me_row["msg_floor"] or mine))


def send(ctx: "Context", recipient: str, body: str, reply_to: int | None = None, kind: str = "message") -> int:
    body = validate.text(body, "message", multiline=True)
    with ctx.db.write():
        me = _me(ctx)
        key = resolve_recipient(ctx, recipient)
        if reply_to is not None and ctx.db.one("SELECT 1 FROM messages WHERE id = ?", (reply_to,)) is None:
            raise NotFound(f"no message #{reply_to} to reply to")
        return _insert(ctx, me, recipient, key, body, reply_to, kind)


def _insert(ctx: "Context", me: "Row", recipient: str, key: str, body: str, reply_to: int | None,
            kind: str) -> int:
    message_id = ctx.db.insert(
        "INSERT INTO messages (sender, sender_name, recipient, to_key, kind, body, reply_to, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (me["id"], me["name"], recipient, key, kind, body, reply_to, ctx.now),
    )
    journal.log(ctx, "message", f"#{message_id} to {recipient}")
    mailstamp.publish(ctx.root, message_id)
    return message_id


def directive(ctx: "Context", recipient: str, body: str) -> list[int]:
    """Like send; to `all` it fans out one directed copy per active agent."""
    body = validate.text(body, "message", multiline=True)
    with ctx.db.write():
        me = _me(ctx)
        if validate.key(recipient) != ALL:
            key = resolve_recipient(ctx, recipient)
            return [_insert(ctx, me, recipient, key, body, None, "directive")]
        rows = ctx.db.all(
            f"SELECT id FROM agents a WHERE kind = 'agent' AND id != :me AND {presence.status_sql('a')} = 'active'"
            " ORDER BY id",
            dict(ctx.presence(), me=ctx.me.id),
        )
        return [_insert(ctx, me, r["id"], r["id"].casefold(), body, None, "directive") for r in rows]


def _addressed_query(me_row: "Row", columns: str = "m.*", directed_only: bool = False, after: int | None = None,
                     unseen: bool = True, newest_first: bool = False,
                     limit: int | None = None) -> tuple[str, dict[str, object]]:
    """SQL and parameters for the messages addressed to `me_row`, built from parts.

    A message is addressed to an agent when its key is one of the agent's
    (id, name, role, or `all`), it was not sent by the agent, and it came
    after the agent joined (a message to the agent's own id always counts).
    `unseen` keeps only those no channel has shown the agent yet.
    """
    keys = [k for k in _my_keys(me_row) if not (directed_only and k == ALL)]
    params: dict[str, object] = {f"k{i}": k for i, k in enumerate(keys)}
    params.update(
        me=me_row["id"], floor=me_row["msg_floor"], mykey=me_row["id"].casefold(),
        after=me_row["msg_hw"] if after is None else after,
    )
    where = [
        f"m.to_key IN ({', '.join(f':k{i}' for i in range(len(keys)))})",
        "m.id > :after",
        "(m.sender != :me OR m.to_key = :mykey)",
        "(m.id > :floor OR m.to_key = :mykey)",
    ]
    if unseen:
        where.append("NOT EXISTS (SELECT 1 FROM receipts r WHERE r.message_id = m.id AND r.agent_id = :me)")
    sql = f"SELECT {columns} FROM messages m WHERE {' AND '.join(where)} ORDER BY m.id{' DESC' if newest_first else ''}"
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    return sql, params


def pending(ctx: "Context", directed_only: bool = False) -> "list[sqlite3.Row]":
    """Messages for the caller that no channel has shown it yet (read-only)."""
    me = ctx.db.one("SELECT * FROM agents WHERE id = ?", (ctx.me.id,))
    if me is None:
        return []
    sql, params = _addressed_query(me, directed_only=directed_only)
    return ctx.db.all(sql, params)


def take_pending(ctx: "Context", via: str, directed_only: bool = False,
                 how_many: "Callable[[list[sqlite3.Row]], int] | None" = None) -> "tuple[list[sqlite3.Row], int]":
    """Mark pending messages seen and return them, oldest first, exactly once.

    `how_many(rows)` may choose to take only the first n (a size budget);
    the rest stay pending. Returns (taken, number left pending).
    """
    with ctx.db.write():
        me = _me(ctx)
        sql, params = _addressed_query(me, directed_only=directed_only)
        rows = ctx.db.all(sql, params)
        taken = rows if how_many is None else rows[: how_many(rows)]
        for row in taken:
            ctx.db.execute("INSERT INTO receipts (message_id, agent_id, seen_at, via) VALUES (?, ?, ?, ?)",
                           (row["id"], me["id"], ctx.now, via))
        _advance_high_water(ctx, me)
        if mailstamp.newest(ctx.root) is None:  # lost or never written: restore under the write lock
            mailstamp.publish(ctx.root, ctx.db.scalar("SELECT COALESCE(MAX(id), 0) FROM messages"))
    return taken, len(rows) - len(taken)


def mark_read(ctx: "Context", message_ids: "Iterable[int]", via: str) -> int:
    """Record `message_ids` as seen by the caller (`inbox --mark-read`, after it printed them).

    Only ids addressed to the caller count; one a hook delivered meanwhile keeps its receipt.
    Returns how many were newly marked.
    """
    marked = 0
    with ctx.db.write():
        me = _me(ctx)
        for message_id in message_ids:
            message = ctx.db.one("SELECT * FROM messages WHERE id = ?", (message_id,))
            if message is None or _sent_to_others(me, message) or not _addressed_to(me, message):
                continue
            marked += ctx.db.execute("INSERT INTO receipts (message_id, agent_id, seen_at, via) VALUES (?, ?, ?, ?)"
                                     " ON CONFLICT DO NOTHING", (message_id, me["id"], ctx.now, via)).rowcount
        _advance_high_water(ctx, me)
    return marked


def high_water(ctx: "Context") -> int | None:
    return ctx.db.scalar("SELECT msg_hw FROM agents WHERE id = ?", (ctx.me.id,))


def _advance_high_water(ctx: "Context", me: "Row") -> int:
    """Everything below the first still-pending message is settled for this agent."""
    sql, params = _addressed_query(me, columns="m.id", limit=1)
    first = ctx.db.one(sql, params)
    newest = ctx.db.scalar("SELECT COALESCE(MAX(id), 0) FROM messages")
    hw = newest if first is None else first["id"] - 1
    if hw > me["msg_hw"]:
        ctx.db.execute("UPDATE agents SET msg_hw = ? WHERE id = ?", (hw, me["id"]))
    return hw


def history(ctx: "Context", limit: int = 50) -> "list[sqlite3.Row]":
    """Recent messages addressed to the caller, seen or not (`inbox --all`)."""
    me = _me(ctx)
    sql, params = _addressed_query(me, after=0, unseen=False, newest_first=True, limit=limit)
    return list(reversed(ctx.db.all(sql, params)))


def _addressed_to(me: "Row", message: "Row") -> bool:
    """May `me` read or ack it: to its id, to `all` (even from before it joined), or to its role since it joined."""
    if message["to_key"] in (me["id"].casefold(), ALL):
        return True
    return message["to_key"] in _my_keys(me) and message["id"] > me["msg_floor"]


def _addressed_message(ctx: "Context", me: "Row", message_id: int, sender_may: bool = False) -> "sqlite3.Row":
    """The message, if the caller may act on it as a recipient (or as its sender)."""
    return may_act_on(me, ctx.db.one("SELECT * FROM messages WHERE id = ?", (message_id,)), message_id, sender_may)


def may_act_on(me: "Row", message: "R | None", message_id: int, sender_may: bool = False) -> "R":
    if message is None:
        raise NotFound(f"no message #{message_id}")
    if _sent_to_others(me, message) and sender_may:
        return message
    if _sent_to_others(me, message) or not _addressed_to(me, message):
        raise NotAllowed(f"message #{message_id} is not addressed to you")
    return message


def read(ctx: "Context", message_id: int) -> "sqlite3.Row":
    """One message, marked seen for the caller. Only its recipients and sender may read it."""
    with ctx.db.write():
        me = _me(ctx)
        message = _addressed_message(ctx, me, message_id, sender_may=True)
        if not _sent_to_others(me, message):
            ctx.db.execute(
                "INSERT INTO receipts (message_id, agent_id, seen_at, via) VALUES (?, ?, ?, 'read')"
                " ON CONFLICT DO NOTHING",
                (message_id, me["id"], ctx.now),
            )
    return message


def ack(ctx: "Context", message_id: int) -> "sqlite3.Row":
    with ctx.db.write():
        me = _me(ctx)
        message = _addressed_message(ctx, me, message_id)
        ctx.db.execute(
            "INSERT INTO receipts (message_id, agent_id, seen_at, via, acked_at) VALUES (?, ?, ?, 'ack', ?)"
            " ON CONFLICT (message_id, agent_id) DO UPDATE SET acked_at = excluded.acked_at",
            (message_id, me["id"], ctx.now, ctx.now),
        )
        journal.log(ctx, "message", f"acknowledged #{message_id}")
    return message


def recent(ctx: "Context", limit: int = 20, after_id: int = 0) -> "list[sqlite3.Row]":
    return ctx.db.all("SELECT * FROM messages WHERE id > ? ORDER BY id DESC LIMIT ?", (after_id, limit))


def parse_id(text: str) -> int:
    from .numbers import id_number

    number = id_number(text, "a message id")
    if number is None:
        raise UsageError(f"message id must be a number, not {str(text)[:60]!r}")
    return number
