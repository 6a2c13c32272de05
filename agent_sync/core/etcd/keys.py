"""Where the etcd store keeps each piece of state, under one namespace prefix.

Every key starts with `agent-sync/<namespace>/` (P below); an auth role needs
read-write on that prefix only. Values are compact JSON. Parts of a key that
come from people (paths, names) are base64url without padding, so any
character is safe and `/` keeps its meaning as the separator. Numbers in
keys are zero-padded, so key order is numeric order.

  P/meta                         {"schema", "fold", "created_at"}: made by the first writer
  P/agents/<id>                  the agent row (name, role, kind, session, cwd, state, ...)
  P/names/<enc(name key)>        the id holding that name (names are unique)
  P/presence/<id>                {"state"}, on the agent's presence lease: holds <=> exists
  P/locks/<enc(lock key)>/<id>   one owner's lock on one key, on the lock's lease;
                                 its create_revision is the fencing token
  P/waiters/<nonce>              a queued `lock --wait`, on a short lease; FIFO = create_revision
  P/seq/<name>                   the last number handed out (tasks, msgs): ids in commit order
  P/tasks/<id:010>               the task row with its files and deps; a claim is the
                                 owner field of this record, so the claim txn compares
                                 this key's mod_revision
  P/msgs/<id:016>                one message
  P/mail/<id>                    {"hw", "floor"}: the agent's delivery marks
  P/rcpt/<id>/<msg:016>          {"via", "seen_at", "acked_at"} for messages above hw
  P/decisions/<t:020>-<nonce>    one decision; t = the writer's time in ns (key order = time order,
                                 so retention is one delete of a key range); its id is the
                                 key's create_revision
  P/activity/<t:020>-<nonce>-<i> one activity row (same ordering); id = create_revision * 100 + i
  P/nonces/<t:020>-<random>      the result of a committed write, for a retried request (kept an hour)

Keys here are str; the client encodes them. Nothing outside this module
spells a key.
"""

import base64
import json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ROOT = "agent-sync/"
TASK_DIGITS, MSG_DIGITS, TIME_DIGITS = 10, 16, 20


def enc(text: str) -> str:
    """A key part for arbitrary text: base64url, no padding."""
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def dec(part: str) -> str:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode("utf-8")


def dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def loads(data: "bytes | str") -> "Any":
    return json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)


class Keys:
    """The key layout of one namespace."""

    def __init__(self, namespace: str) -> None:
        if not namespace or "/" in namespace:
            raise ValueError(f"bad namespace {namespace!r}")
        self.namespace = namespace
        self.prefix = f"{ROOT}{namespace}/"
        p = self.prefix
        self.meta = p + "meta"
        self.agents = p + "agents/"
        self.names = p + "names/"
        self.presences = p + "presence/"
        self.locks = p + "locks/"
        self.waiters = p + "waiters/"
        self.seqs = p + "seq/"
        self.tasks = p + "tasks/"
        self.msgs = p + "msgs/"
        self.mails = p + "mail/"
        self.rcpts = p + "rcpt/"
        self.decisions = p + "decisions/"
        self.activities = p + "activity/"
        self.nonces = p + "nonces/"

    # one key each
    def agent(self, agent_id: str) -> str:
        return self.agents + agent_id

    def name(self, name_key: str) -> str:
        return self.names + enc(name_key)

    def presence(self, agent_id: str) -> str:
        return self.presences + agent_id

    def lock_prefix(self, lock_key: str) -> str:
        """Every owner's lock on one key."""
        return f"{self.locks}{enc(lock_key)}/"

    def lock(self, lock_key: str, owner: str) -> str:
        return self.lock_prefix(lock_key) + owner

    def waiter(self, nonce: str) -> str:
        return self.waiters + nonce

    def seq(self, name: str) -> str:
        return self.seqs + name

    def task(self, task_id: int | str) -> str:
        return f"{self.tasks}{int(task_id):0{TASK_DIGITS}d}"

    def msg(self, msg_id: int | str) -> str:
        return f"{self.msgs}{int(msg_id):0{MSG_DIGITS}d}"

    def mail(self, agent_id: str) -> str:
        return self.mails + agent_id

    def rcpt_prefix(self, agent_id: str) -> str:
        return f"{self.rcpts}{agent_id}/"

    def rcpt(self, agent_id: str, msg_id: int | str) -> str:
        return f"{self.rcpt_prefix(agent_id)}{int(msg_id):0{MSG_DIGITS}d}"

    def decision(self, time_ns: int | float, tag: str) -> str:
        return f"{self.decisions}{int(time_ns):0{TIME_DIGITS}d}-{tag}"

    def activity(self, time_ns: int | float, tag: str) -> str:
        return f"{self.activities}{int(time_ns):0{TIME_DIGITS}d}-{tag}"

    @staticmethod
    def before(prefix: str, time_ns: int | float) -> str:
        """The range end that selects a time-keyed prefix's keys older than `time_ns`."""
        return f"{prefix}{int(max(0, time_ns)):0{TIME_DIGITS}d}"

    def nonce(self, nonce: str) -> str:
        return self.nonces + nonce

    # back from a key
    @staticmethod
    def tail(key: "bytes | str", prefix: str) -> str:
        """The part of `key` (bytes or str) after `prefix`."""
        text = key.decode("utf-8") if isinstance(key, bytes) else key
        return text[len(prefix):]

    def lock_parts(self, key: "bytes | str") -> tuple[str, str]:
        """(lock key, owner) of a key under `locks`."""
        enc_key, _, owner = self.tail(key, self.locks).partition("/")
        return dec(enc_key), owner

    def number(self, key: "bytes | str", prefix: str) -> int:
        """The number at the end of a task, message, decision or activity key."""
        return int(self.tail(key, prefix).rsplit("/", 1)[-1])
