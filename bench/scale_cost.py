"""Cost model: per 1,000 syncs and per month for a 20-clinician practice, from this run's
measured durations and DynamoDB request units, the template's memory sizes, and the written
assumptions below (docs/performance.md repeats them)."""

from __future__ import annotations

from typing import Any

# us-east-1 list prices as of 2024-11-01 (after DynamoDB's on-demand price cut), not re-checked
# since: this machine has no network. Lambda arm64; SQS FIFO; DynamoDB on-demand (standard).
PRICES = {
    "as_of": "2024-11-01",
    "lambda_gb_second": 0.0000133334,
    "lambda_request": 0.20 / 1e6,
    "dynamodb_write_unit": 0.625 / 1e6,
    "dynamodb_read_unit": 0.125 / 1e6,
    "sqs_fifo_request": 0.50 / 1e6,
}
PRACTICE = {
    "clinicians": 20,
    "appointments_per_clinician_per_day": 8,
    "working_days_per_month": 21.7,
    # A create, a check-in and a completion, and one reschedule or cancel in five.
    "syncs_per_appointment": 3.2,
    # The EHR's write (PUT / status POST) and two sync-status reads per sync.
    "api_writes_per_sync": 1,
    "api_reads_per_sync": 2,
    # EventBridge Scheduler every minute (`syncFrequency: realtime`).
    "pull_invocations_per_month": 60 * 24 * 30,
    # Front-desk edits in AMD that the pull brings back.
    "amd_side_changes_per_appointment": 0.5,
    # Assumed: AMD's reply time, billed as the worker's duration (the frozen simulator answers
    # in no simulated time, and on loopback in a few ms).
    "amd_latency_seconds": 0.3,
    # Assumed: Lambda's SQS pollers long-poll each of the two work queues idle: 5 pollers,
    # 20 s polls.
    "idle_sqs_polls_per_month": 2 * 5 * 3 * 60 * 24 * 30,
    # Per sync: SendMessage, ReceiveMessage, DeleteMessage; per deferral a visibility change
    # and another receive.
    "sqs_requests_per_sync": 3,
    "sqs_requests_per_deferral": 2,
}


def _lambda(gb: float, seconds: float, invocations: float) -> float:
    return gb * seconds * PRICES["lambda_gb_second"] + invocations * PRICES["lambda_request"]


def _dynamo(write_units: float, read_units: float) -> float:
    return write_units * PRICES["dynamodb_write_unit"] + read_units * PRICES["dynamodb_read_unit"]


def per_syncs(m: dict[str, Any], syncs: float) -> dict[str, float]:
    """Cost of `syncs` syncs: worker + the EHR's API requests + their queue traffic."""
    worker_s = m["sync_seconds"] + m["amd_calls_per_sync"] * PRACTICE["amd_latency_seconds"]
    api_s = (
        PRACTICE["api_writes_per_sync"] * m["api_write_seconds"]
        + PRACTICE["api_reads_per_sync"] * m["api_read_seconds"]
    )
    invocations = 1 + PRACTICE["api_writes_per_sync"] + PRACTICE["api_reads_per_sync"]
    lam = _lambda(m["memory_gb"], syncs * (worker_s + api_s), syncs * invocations)
    wru = syncs * (
        m["sync_write_units"]
        + PRACTICE["api_writes_per_sync"] * m["api_write_units"]
        + PRACTICE["api_reads_per_sync"] * m["api_read_write_units"]
    )
    rru = syncs * (
        m["sync_read_units"]
        + PRACTICE["api_writes_per_sync"] * m["api_write_read_units"]
        + PRACTICE["api_reads_per_sync"] * m["api_read_units"]
    )
    sqs_requests = syncs * (
        PRACTICE["sqs_requests_per_sync"]
        + m["deferrals_per_sync"] * PRACTICE["sqs_requests_per_deferral"]
    )
    return {
        "lambda_gb_s": round(m["memory_gb"] * syncs * (worker_s + api_s), 2),
        "lambda_usd": lam,
        "dynamodb_write_units": round(wru),
        "dynamodb_read_units": round(rru),
        "dynamodb_usd": _dynamo(wru, rru),
        "sqs_requests": round(sqs_requests),
        "sqs_usd": sqs_requests * PRICES["sqs_fifo_request"],
    }


def pulls_per_month(m: dict[str, Any], appointments: float) -> dict[str, float]:
    """Every minute's invocation (mostly nothing changed) plus the AMD-side changes applied."""
    ticks = PRACTICE["pull_invocations_per_month"]
    changes = appointments * PRACTICE["amd_side_changes_per_appointment"]
    seconds = ticks * m["idle_pull_seconds"] + changes * m["pull_seconds_per_visit"]
    wru = ticks * m["idle_pull_write_units"] + changes * m["pull_write_units_per_visit"]
    rru = ticks * m["idle_pull_read_units"] + changes * m["pull_read_units_per_visit"]
    return {
        "lambda_gb_s": round(m["memory_gb"] * seconds, 2),
        "lambda_usd": _lambda(m["memory_gb"], seconds, ticks),
        "dynamodb_write_units": round(wru),
        "dynamodb_read_units": round(rru),
        "dynamodb_usd": _dynamo(wru, rru),
    }


def model(measured: dict[str, Any]) -> dict[str, Any]:
    appointments = (
        PRACTICE["clinicians"]
        * PRACTICE["appointments_per_clinician_per_day"]
        * PRACTICE["working_days_per_month"]
    )
    syncs = appointments * PRACTICE["syncs_per_appointment"]
    sync_month = per_syncs(measured, syncs)
    pulls = pulls_per_month(measured, appointments)
    idle_sqs = PRACTICE["idle_sqs_polls_per_month"] * PRICES["sqs_fifo_request"]
    month_total = (
        sync_month["lambda_usd"] + sync_month["dynamodb_usd"] + sync_month["sqs_usd"]
        + pulls["lambda_usd"] + pulls["dynamodb_usd"] + idle_sqs
    )  # fmt: skip
    per_1000 = per_syncs(measured, 1000)
    return {
        "prices": PRICES,
        "assumptions": PRACTICE,
        "measured_inputs": measured,
        "per_1000_syncs": _rounded(per_1000),
        "per_1000_syncs_usd": round(
            per_1000["lambda_usd"] + per_1000["dynamodb_usd"] + per_1000["sqs_usd"], 4
        ),
        "month": {
            "appointments": round(appointments),
            "syncs": round(syncs),
            "syncs_cost": _rounded(sync_month),
            "pulls_cost": _rounded(pulls),
            "idle_sqs_polls_usd": round(idle_sqs, 2),
            "total_usd": round(month_total, 2),
        },
    }


def _rounded(costs: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) if k.endswith("_usd") else v for k, v in costs.items()}
