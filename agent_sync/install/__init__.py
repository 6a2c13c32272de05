"""What writes into a user's repository: the project install, other agents' hook files, the settings merge."""
