"""`python -m local.runner [--api-port 3000] [--moto-port 5000] [--sim-port 4000] [--no-sim]
[--fast-clock N]` — see local/runner/cli.py.

The import stays inside the guard: function hosts are spawned processes, and spawn re-imports
the parent's __main__ module in every child, which must stay cheap.
"""

if __name__ == "__main__":
    from local.runner.cli import main

    raise SystemExit(main())
