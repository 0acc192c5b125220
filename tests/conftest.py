"""Shared fixtures. The AMD simulator's fixtures come from its pytest plugin."""

pytest_plugins = ["local.amdsim.pytest_plugin"]
