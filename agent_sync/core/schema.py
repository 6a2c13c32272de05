"""The database schema as an append-only list of migrations.

A shipped migration is never edited: change the schema by appending a step,
a tuple of statements (never one script split at ';', which breaks inside a
trigger or a string literal). `PRAGMA user_version` records how many steps
a database has had.
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3

V1 = (
    """CREATE TABLE agents (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    name_key     TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL DEFAULT '',
    role_key     TEXT NOT NULL DEFAULT '',
    kind         TEXT NOT NULL DEFAULT 'agent' CHECK (kind IN ('agent', 'operator')),
    session      TEXT,
    cwd          TEXT,
    state        TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'idle', 'offline')),
    current_task INTEGER REFERENCES tasks(id) ON DELETE SET NULL,
    msg_floor    INTEGER NOT NULL DEFAULT 0,
    msg_hw       INTEGER NOT NULL DEFAULT 0,
    created_at   REAL NOT NULL,
    last_seen    REAL NOT NULL
)""",
    """CREATE INDEX agents_role ON agents(role_key)""",
    """CREATE INDEX agents_seen ON agents(last_seen)""",
    """CREATE TABLE tasks (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    title        TEXT NOT NULL,
    title_key    TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL DEFAULT 'open'
                 CHECK (status IN ('open', 'in_progress', 'blocked', 'done', 'cancelled')),
    priority     INTEGER NOT NULL DEFAULT 0,
    owner        TEXT REFERENCES agents(id) ON DELETE SET NULL,
    created_by   TEXT,
    block_reason TEXT,
    created_at   REAL NOT NULL,
    updated_at   REAL NOT NULL
)""",
    """CREATE INDEX tasks_queue ON tasks(status, priority DESC, id)""",
    """CREATE INDEX tasks_title ON tasks(title_key)""",
    """CREATE INDEX tasks_owner ON tasks(owner, status)""",
    """CREATE TABLE task_files (
    task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    path    TEXT NOT NULL,
    PRIMARY KEY (task_id, path)
) WITHOUT ROWID""",
    """CREATE TABLE task_deps (
    task_id    INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    depends_on INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    PRIMARY KEY (task_id, depends_on)
) WITHOUT ROWID""",
    """CREATE INDEX task_deps_on ON task_deps(depends_on)""",
    """CREATE TABLE locks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    key        TEXT NOT NULL,
    path       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('file', 'dir', 'glob', 'resource')),
    mode       TEXT NOT NULL DEFAULT 'exclusive' CHECK (mode IN ('exclusive', 'shared')),
    owner      TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    reason     TEXT NOT NULL DEFAULT '',
    task_id    INTEGER REFERENCES tasks(id) ON DELETE SET NULL,
    token      INTEGER NOT NULL,
    ttl        REAL NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    UNIQUE (key, owner)
)""",
    """CREATE INDEX locks_expiry ON locks(expires_at)""",
    """CREATE INDEX locks_owner ON locks(owner)""",
    """CREATE INDEX locks_kind ON locks(kind)""",
    """CREATE INDEX locks_task ON locks(task_id)""",
    """CREATE TABLE fences (
    key   TEXT PRIMARY KEY,
    token INTEGER NOT NULL
) WITHOUT ROWID""",
    """CREATE TABLE lock_waiters (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    agent     TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    specs     TEXT NOT NULL,
    polled_at REAL NOT NULL
)""",
    """CREATE TABLE messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    sender      TEXT NOT NULL,
    sender_name TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    to_key      TEXT NOT NULL,
    kind        TEXT NOT NULL DEFAULT 'message' CHECK (kind IN ('message', 'directive')),
    body        TEXT NOT NULL,
    reply_to    INTEGER,
    created_at  REAL NOT NULL
)""",
    """CREATE INDEX messages_to ON messages(to_key, id)""",
    """CREATE INDEX messages_time ON messages(created_at)""",
    """CREATE TABLE receipts (
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    agent_id   TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    seen_at    REAL NOT NULL,
    via        TEXT NOT NULL,
    acked_at   REAL,
    PRIMARY KEY (message_id, agent_id)
) WITHOUT ROWID""",
    """CREATE INDEX receipts_agent ON receipts(agent_id, message_id)""",
    """CREATE TABLE decisions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    agent      TEXT NOT NULL,
    text       TEXT NOT NULL,
    created_at REAL NOT NULL
)""",
    """CREATE TABLE activity (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    agent      TEXT NOT NULL,
    type       TEXT NOT NULL,
    message    TEXT NOT NULL DEFAULT '',
    path       TEXT,
    created_at REAL NOT NULL
)""",
    """CREATE INDEX activity_time ON activity(created_at)""",
)

# A lock row an edit took by itself (issue 17): renewed by each edit, released at session end.
V2_AUTO_LEASES = (
    "ALTER TABLE locks ADD COLUMN auto_lease INTEGER NOT NULL DEFAULT 0",
)

# Messages are stored under where they go (issue 12): a name becomes its agent's id, a role `role:R`, so a
# name or role taken later can never take them over. Earlier rows held the bare key; translate them once.
V3_ADDRESSES = (
    """UPDATE messages SET to_key = (SELECT lower(a.id) FROM agents a WHERE a.name_key = messages.to_key)
       WHERE to_key != 'all' AND to_key NOT IN (SELECT lower(id) FROM agents)
         AND EXISTS (SELECT 1 FROM agents a WHERE a.name_key = messages.to_key)""",
    """UPDATE messages SET to_key = 'role:' || to_key
       WHERE to_key != 'all' AND to_key NOT LIKE 'role:%' AND to_key NOT IN (SELECT lower(id) FROM agents)""",
)

# Append only. Each entry: (name, its statements, run in order).
MIGRATIONS = (
    ("initial schema", V1),
    ("automatic leases", V2_AUTO_LEASES),
    ("messages stored by address", V3_ADDRESSES),
)

CURRENT = len(MIGRATIONS)


def apply(conn: "sqlite3.Connection", from_version: int = 0) -> None:
    """Run the migrations after `from_version` on `conn`, inside the caller's transaction.

    The migrator and the repair's rebuild both come through here, so a new
    database and a rebuilt one always have the same schema.
    """
    for _name, statements in MIGRATIONS[from_version:]:
        for statement in statements:
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {CURRENT}")
