"""The bodies of the larger ``vigil`` sub-commands (the CLI layer: may use everything below it)."""
