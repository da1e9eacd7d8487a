"""Subcommands of ``wijkteam``; each module has ``register(subparsers)`` (see ``experiments.cli``)."""
