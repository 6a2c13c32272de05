"""The coordination core: state, rules and storage, free of any user interface."""
