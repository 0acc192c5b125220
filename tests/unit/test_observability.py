"""Logs and traces (issue 16): the AMD client's stdlib log lines reach the function's JSON log
with its keys, and no handler records its response in X-Ray."""

from __future__ import annotations

import ast
import io
import json
import logging
from pathlib import Path

import pytest

from amdsync.observability import bridge_library_logs, logger

FUNCTIONS = sorted(Path("functions").glob("*/app.py"))


def test_amd_client_lines_are_json_with_the_functions_keys() -> None:
    bridge_library_logs()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    out = io.StringIO()
    previous = handler.setStream(out)
    logger.append_keys(correlation_id="req-42", message_id="msg-7")
    try:
        logging.getLogger("amdsync.amd.some_module_imported_later").info("AdvancedMD answered 429")
    finally:
        logger.remove_keys(["correlation_id", "message_id"])
        handler.setStream(previous)
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    [line] = [entry for entry in lines if entry.get("message") == "AdvancedMD answered 429"]
    assert (line["level"], line["correlation_id"], line["message_id"]) == (
        "INFO",
        "req-42",
        "msg-7",
    )


@pytest.mark.parametrize("path", FUNCTIONS, ids=lambda p: p.parent.name)
def test_no_handler_records_its_response_in_xray(path: Path) -> None:
    tree = ast.parse(path.read_text())
    handler = next(
        n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "lambda_handler"
    )
    traced = [
        d
        for d in handler.decorator_list
        if isinstance(d, ast.Call) and ast.unparse(d.func) == "tracer.capture_lambda_handler"
    ]
    assert traced, f"{path}: tracer.capture_lambda_handler(capture_response=False) expected"
    keywords = {k.arg: ast.unparse(k.value) for k in traced[0].keywords}
    assert keywords.get("capture_response") == "False"
