"""What writes into a user's repository: the project install, other agents' hook files, the settings merge,
and the archive itself (its packer, and the bundle its modules load from)."""
