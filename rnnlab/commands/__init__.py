"""The subcommands of the rnnlab command line, one module per task."""
