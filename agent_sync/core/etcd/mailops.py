"""Messages on etcd; who a message is for, and what is pending, are core.messages' rules.

Ids come from P/seq/msgs in the sending txn, so they are in commit order.
An agent's marks (P/mail/<id>: hw, floor) and its receipts above hw
(P/rcpt/<id>/<msg>) settle delivery: taking mail compares the marks and
creates each receipt only if absent, so two readers of one agent never
take one message twice, and other agents never contend. Messages past
AGENT_SYNC_KEEP_MESSAGES go in the same txn as the send that overflows.
"""

from typing import TYPE_CHECKING, Any


from .. import agents, config, mailstamp, messages, validate
from ..errors import NotFound
from . import journalops
from .engine import Plan, View, read, transact
from .keys import loads


def me_row(store: "EtcdStore", view: View) -> Any:
    """The caller's agent row with msg_floor / msg_hw, or None."""
    ctx, keys = store.ctx, store.keys
    row = view.value(keys.agent(ctx.me.id))
    if row is None:
        return None
    marks = view.value(keys.mail(ctx.me.id), {"hw": 0, "floor": 0})
    return dict(row, msg_hw=marks["hw"], msg_floor=marks["floor"])


def _own_reads(store, since=None):
    keys, me = store.keys, store.ctx.me.id
    msgs = keys.msgs if since is None else (keys.msg(since), keys.msgs)
    return [keys.agent(me), keys.mail(me), keys.rcpt_prefix(me)], msgs


def _messages(view, msgs):
    return [loads(kv.value) for kv in view.under(msgs)]


def _insert(store, plan, me, seq, recipient, key, body, reply_to, kind):
    ctx, keys = store.ctx, store.keys
    message_id = seq + 1
    plan.put(keys.msg(message_id), {"id": message_id, "sender": me["id"], "sender_name": me["name"],
                                    "recipient": recipient, "to_key": key, "kind": kind, "body": body,
                                    "reply_to": reply_to, "created_at": ctx.now})
    journalops.log(store, plan, "message", f"#{message_id} to {recipient}")
    return message_id


def _sending(store, make):
    """Run make(view, me, seq) -> [(recipient, key, body, reply_to, kind)] and commit the messages."""
    ctx, keys = store.ctx, store.keys
    seq_key = keys.seq("msgs")

    def decide(view):
        me = messages.registered(ctx, view.value(keys.agent(ctx.me.id)))
        seq_kv = view.one(seq_key)
        seq = loads(seq_kv.value) if seq_kv else 0
        plan = Plan([])
        for recipient, key, body, reply_to, kind in make(view, me):
            plan.result.append(_insert(store, plan, me, seq, recipient, key, body, reply_to, kind))
            seq += 1
        if plan.result:
            plan.put(seq_key, str(seq))
            plan.same(seq_key, seq_kv)
            oldest_kept = seq - config.count("AGENT_SYNC_KEEP_MESSAGES") + 1
            if oldest_kept > 1:
                plan.delete(keys.msgs, range_end=keys.msg(oldest_kept))
        return plan

    ids = transact(store, [seq_key], decide, [keys.agents])
    if ids:
        mailstamp.publish(ctx.root, ids[-1])
    return ids


def send(store: "EtcdStore", recipient: str, body: str, reply_to: Any = None, kind: str = "message") -> Any:
    body = validate.text(body, "message", multiline=True)
    keys = store.keys

    def make(view, _me):
        key = messages.recipient_key(recipient)
        if key != messages.ALL:  # the addressing rule: id, then name, then role (core.messages.address)
            key = messages.address([loads(kv.value) for kv in view.under(keys.agents)], recipient)
        if reply_to is not None and store.client.get(keys.msg(reply_to), timeout=store.timeout()) is None:
            raise NotFound(f"no message #{reply_to} to reply to")
        return [(recipient, key, body, reply_to, kind)]

    return _sending(store, make)[0]


def directive(store: "EtcdStore", recipient: str, body: str) -> Any:
    body = validate.text(body, "message", multiline=True)
    ctx, keys = store.ctx, store.keys

    def make(view, _me):
        rows = [loads(kv.value) for kv in view.under(keys.agents)]
        if validate.key(recipient) != messages.ALL:
            return [(recipient, messages.address(rows, recipient), body, None, "directive")]
        active = sorted(r["id"] for r in rows if r["kind"] == "agent" and r["id"] != ctx.me.id
                        and agents.status_of(r, ctx) == "active")
        return [(agent_id, agent_id.casefold(), body, None, "directive") for agent_id in active]

    return _sending(store, make)


def _pending_in(store, view, msgs, directed_only):
    me = me_row(store, view)
    if me is None:
        return None, []
    seen = {store.keys.number(kv.key, store.keys.rcpt_prefix(me["id"]))
            for kv in view.under(store.keys.rcpt_prefix(me["id"]))}
    rows = [m for m in _messages(view, msgs)
            if m["id"] not in seen and messages.addressed(me, m, directed_only=directed_only)]
    return me, sorted(rows, key=lambda m: m["id"])


def _since(store):
    marks = store.client.get(store.keys.mail(store.ctx.me.id), timeout=store.timeout())
    return loads(marks.value)["hw"] + 1 if marks else 1


def pending(store: "EtcdStore", directed_only: bool = False) -> Any:
    own, msgs = _own_reads(store, _since(store))
    view = read(store, [*own, msgs], revision=store.pinned)
    return _pending_in(store, view, msgs, directed_only)[1]


def take_pending(store: "EtcdStore", via: str, directed_only: bool = False, how_many: Any = None) -> Any:
    def choose(rows: list) -> list:
        return rows if how_many is None else rows[: how_many(rows)]

    taken, left = _settle(store, via, directed_only, choose)
    if mailstamp.newest(store.ctx.root) is None:  # lost or never written: restore it
        seq = store.client.get(store.keys.seq("msgs"), timeout=store.timeout())
        mailstamp.publish(store.ctx.root, loads(seq.value) if seq else 0)
    return taken, left


def mark_read(store: "EtcdStore", message_ids: Any, via: str) -> int:
    """core.messages.mark_read: receipts for the given ids still pending for the caller."""
    wanted = set(message_ids)
    taken, _left = _settle(store, via, False, lambda rows: [m for m in rows if m["id"] in wanted])
    return len(taken)


def _settle(store: "EtcdStore", via: str, directed_only: bool, choose: Any) -> tuple:
    """Receipts for choose(pending rows) and the high-water mark moved past what is settled, in one txn.

    Returns (taken, number still pending)."""
    ctx, keys = store.ctx, store.keys
    own, msgs = _own_reads(store, _since(store))
    me_id = ctx.me.id

    def decide(view: View) -> Plan:
        me, rows = _pending_in(store, view, msgs, directed_only)
        messages.registered(ctx, me)
        taken = choose(rows)
        chosen = {m["id"] for m in taken}
        left = [m for m in rows if m["id"] not in chosen]
        newest = view.value(keys.seq("msgs"), 0)
        hw = max(me["msg_hw"], newest if not left else left[0]["id"] - 1)
        plan = Plan([taken, len(left)])
        mail_key = keys.mail(me_id)
        plan.same(mail_key, view.one(mail_key))
        for m in taken:
            rcpt = keys.rcpt(me_id, m["id"])
            plan.same(rcpt, None)
            if m["id"] > hw:
                plan.put(rcpt, {"via": via, "seen_at": ctx.now, "acked_at": None})
        if hw > me["msg_hw"]:
            plan.put(mail_key, {"hw": hw, "floor": me["msg_floor"]})
            plan.delete(keys.rcpt_prefix(me_id), range_end=keys.rcpt(me_id, hw + 1))
        return plan

    return transact(store, [], decide, [*own, msgs, keys.seq("msgs")],
                    finish=lambda result, _rev: (result[0], result[1]))


def high_water(store: "EtcdStore") -> Any:
    marks = store.client.get(store.keys.mail(store.ctx.me.id), timeout=store.timeout())
    return loads(marks.value)["hw"] if marks else None


def history(store: "EtcdStore", limit: int = 50) -> Any:
    own, msgs = _own_reads(store)
    view = read(store, [*own, msgs], revision=store.pinned)
    me = messages.registered(store.ctx, me_row(store, view))
    rows = [m for m in _messages(view, msgs) if messages.addressed(me, m, after=0)]
    rows.sort(key=lambda m: m["id"])
    return rows[-limit:] if limit else rows


def _acting(store, message_id, sender_may, write):
    """Check the caller may act on the message, then write(plan, me, message, receipt kv) in one txn."""
    ctx, keys = store.ctx, store.keys
    own, _msgs = _own_reads(store)

    def decide(view):
        me = messages.registered(ctx, me_row(store, view))
        message = messages.may_act_on(me, view.value(keys.msg(message_id)), message_id, sender_may)
        plan = Plan(message)
        if message["sender"] != me["id"]:  # a receipt at or below hw is settled already: none is kept
            write(plan, me, message_id > me["msg_hw"], view.one(keys.rcpt(me["id"], message_id)))
        return plan

    return transact(store, [], decide, [*own, keys.msg(message_id)])


def read_message(store: "EtcdStore", message_id: int) -> Any:
    def write(plan, me, open_, receipt):
        if open_ and receipt is None:
            key = store.keys.rcpt(me["id"], message_id)
            plan.put(key, {"via": "read", "seen_at": store.ctx.now, "acked_at": None})
            plan.same(key, None)

    return _acting(store, message_id, True, write)


def ack(store: "EtcdStore", message_id: int) -> Any:
    ctx = store.ctx

    def write(plan, me, open_, receipt):
        if open_:
            key = store.keys.rcpt(me["id"], message_id)
            old = loads(receipt.value) if receipt else {"via": "ack", "seen_at": ctx.now}
            plan.put(key, dict(old, acked_at=ctx.now))
            plan.same(key, receipt)
        journalops.log(store, plan, "message", f"acknowledged #{message_id}")

    return _acting(store, message_id, False, write)


def recent(store: "EtcdStore", limit: int = 20, after_id: int = 0) -> Any:
    keys = store.keys
    span = (keys.msg(after_id + 1), keys.msgs)
    view = read(store, [span], revision=store.pinned)
    rows = sorted(_messages(view, span), key=lambda m: -m["id"])
    return rows[:limit]


if TYPE_CHECKING:
    from .store import EtcdStore
