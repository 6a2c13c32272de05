"""etcd v3 over its JSON gateway, with the standard library only.

`client` is the API (key-value, transactions, leases, watch, cluster, auth);
`http11` is the small HTTP/1.1 transport under it; `errors` holds the
exceptions callers map to agent-sync's exit codes.
"""
