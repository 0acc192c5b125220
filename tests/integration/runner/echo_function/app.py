"""A stand-in function for runner tests: answers with what reached it (event, env, context)."""

import json
import os
import sys
import time
from typing import Any


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("raise") or (event.get("pathParameters") or {}).get("thingId") == "boom":
        raise ValueError("asked to fail")
    time.sleep(float(event.get("sleep", 0)))
    if event.get("say"):  # what a handler prints and warns: its log, wherever that goes
        print(event["say"], flush=True)
        sys.stderr.write(f"{event['say']} (stderr)\n")
    seen = {
        "event": event,
        "pid": os.getpid(),
        "service": os.environ.get("POWERTOOLS_SERVICE_NAME"),
        "environment_keys": sorted(os.environ),
        "function_name": context.function_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "request_id": context.aws_request_id,
    }
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "x-echo": "1"},
        "cookies": ["a=1; Path=/", "b=2"],
        "body": json.dumps(seen),
    }
