"""`python -m local.runner [--api-port 3000] [--moto-port 5000] [--sim-port 4000] [--no-sim]
[--fast-clock N] [--log-dir DIR]` — see local/runner/cli.py.

The import stays inside the guard: function hosts are spawned processes, and spawn re-imports
the parent's __main__ module in every child, which must stay cheap.
"""

if __name__ == "__main__":
    import warnings

    # authlib (under the local OIDC issuer) turns its deprecation notices on for good at import
    # and they fire while the runner is imported, before its logs have a file: notices about
    # authlib's own internals, nothing to act on here, and not for the terminal.
    from authlib.deprecate import AuthlibDeprecationWarning

    warnings.filterwarnings("ignore", category=AuthlibDeprecationWarning)

    from local.runner.cli import main

    raise SystemExit(main())
