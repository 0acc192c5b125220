"""Shared fixtures. Plugins add fixtures for the simulator and for moto."""
