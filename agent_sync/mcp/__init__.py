"""The MCP server: `agent-sync mcp` (protocol.py framing and eras, tools.py the tool table, server.py the loop).

Only this small module is imported when the CLI builds its parser.
"""


def cmd_mcp(ctx, args):
    from .server import main

    return main()


cmd_mcp.needs_context = False  # one Context per request, with this client's identity
