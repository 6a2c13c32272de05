"""CLI handlers for `install` and `uninstall`: they choose their own repository, so no Context is opened."""

import os

from ..core.errors import OK


def _say(line):
    print(line, flush=True)


def cmd_install(_ctx, args):
    from ..install import agent_hooks, project

    agents = [] if args.no_hooks else agent_hooks.expand(args.agent or ["claude"])
    root = project.find_repo(args.repo, force=args.force)
    project.refuse_links_out(root, project.touched(root, agents, mcp=args.mcp))
    agent_hooks.preflight(root, agents, mcp=args.mcp)
    print(f"agent-sync install into {root}", flush=True)
    project.install(root, settings=args.settings, hooks="claude" in agents, force=args.force, say=_say)
    agent_hooks.install_agents(root, agents, mcp=args.mcp, say=_say, backup_dir=os.path.join(root, *project.BACKUPS))
    if getattr(args, "shim", False):
        from ..install import shim

        shim.install(_say)
    from ..core import program

    print("done. Start (or restart) Claude Code in this repository; it asks you to trust the folder's hooks once.")
    print(f"By hand, from here: {program.command('status')}")
    return OK


def cmd_uninstall(_ctx, args):
    from ..install import agent_hooks, project

    root = project.find_repo(args.repo, force=True)
    project.refuse_links_out(root, project.touched(root, agent_hooks.ALL, mcp=True))
    print(f"agent-sync uninstall from {root}", flush=True)
    project.uninstall(root, purge=args.purge, say=_say)
    agent_hooks.uninstall_all(root, say=_say)
    print("done.")
    return OK
