"""One racing process on the etcd store, driven line by line (test_etcd_store_races.py).

    python store_race_worker.py URL NAMESPACE ROOT AGENT_ID

Each stdin line is a command; each answer one JSON line:
  "lock N"   acquire race/round-N.txt  -> {"round": N, "won": bool, "token": T} or {"error": ...}
  "claim"    claim_next until none is left -> {"claimed": [ids], "errors": [...]}
"""

import json
import sys

from store_harness import context, spec

from agent_sync.core.errors import AgentSyncError, Conflict, NotFound


def main():
    url, namespace, root, agent_id = sys.argv[1:5]
    ctx = context(root, agent_id, url, namespace, busy_timeout=10.0)
    print(json.dumps({"ready": agent_id}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if words[0] == "lock":
            n = int(words[1])
            ctx.tick()
            try:
                (row,) = ctx.store.acquire([spec(ctx, f"race/round-{n}.txt")], ttl=600)
                out = {"round": n, "won": True, "token": row["token"]}
            except Conflict:
                out = {"round": n, "won": False}
            except AgentSyncError as exc:
                out = {"round": n, "error": f"{type(exc).__name__}: {exc}"}
        else:
            claimed, errors = [], []
            while True:
                ctx.tick()
                try:
                    claimed.append(ctx.store.claim_next()["id"])
                except NotFound:
                    break
                except AgentSyncError as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                    if len(errors) > 20:
                        break
            out = {"claimed": claimed, "errors": errors}
        print(json.dumps(out), flush=True)
    ctx.close()


if __name__ == "__main__":
    main()
