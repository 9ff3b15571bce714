"""Use cases: one module per user-visible job. They talk to ports, never to adapters."""
