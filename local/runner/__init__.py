"""The local runner: the deployed handlers on moto and the AMD simulator (`make run`).

Start with `python -m local.runner`; compose in tests with `LocalStack(StackConfig(...))`.
"""
