"""Pure domain: models, status mapping, transitions, time formats. No I/O, and no imports
from the rest of amdsync, so every rule here is testable in isolation and reusable by any
layer (adapters, use cases, handlers)."""
