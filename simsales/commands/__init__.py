"""Subcommands of the `simsales` command line, one module each."""
