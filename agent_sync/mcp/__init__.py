"""The MCP server: `agent-sync mcp` (protocol.py framing and eras, tools.py the tool table, server.py the loop).

Only this small module is imported before the server starts.
"""


def cmd_mcp(ctx, args):
    from .server import main

    return main()
