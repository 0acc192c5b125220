"""`python -m local.amdsim --port 0` from the repository root."""

import subprocess
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def test_cli_prints_listening_line_and_serves():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local.amdsim",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--seed",
            "3",
            "--patients",
            "20",
            "--appointments",
            "10",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:")
        base = line.removeprefix("listening on ")
        port = int(base.rsplit(":", 1)[1])
        assert port > 0
        report = httpx.get(base + "/_sim/report", timeout=10).json()
        assert report["patients"] == 20 and report["appointments"] == 10
        login = httpx.post(
            base + "/practicemanager/xmlrpc/processrequest.aspx",
            json={
                "ppmdmsg": {
                    "@action": "login",
                    "@class": "login",
                    "@username": "DEMO",
                    "@psw": "demo",
                    "@officecode": "999999",
                    "@appname": "TEMP",
                    "@msgtime": "3/12/2025 9:00:00 AM",
                }
            },
            headers={"Accept": "application/json"},
            timeout=10,
        ).json()
        webserver = login["PPMDResults"]["Results"]["usercontext"]["@webserver"]
        assert webserver.startswith(base + "/processrequest/api-")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
