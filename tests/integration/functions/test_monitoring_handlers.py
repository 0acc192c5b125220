"""Monitoring through the real handlers' configuration (issue 18 item 8): a blocked pull sends
one and the same notice from the pull function (schedule) and the sync worker (the pull button's
job); the API reads the states of exactly the template's alarms."""

from __future__ import annotations

import json

from amdsync.sync.pull_notice import BLOCKED_MESSAGE, BLOCKED_SUBJECT
from tests.integration.functions.conftest import AwsHarness
from tests.integration.functions.test_weekly_report import _subscribe


def test_scheduled_and_manual_blocked_pulls_send_the_same_notice(aws: AwsHarness) -> None:
    environment = aws.environment("pull")
    inbox = _subscribe(aws, environment["ALARM_TOPIC_ARN"])
    aws.load("pull").SERVICES.notify_pull_blocked()
    aws.load("sync_worker").SERVICES.notify_pull_blocked()
    messages = aws.client("sqs").receive_message(
        QueueUrl=inbox, MaxNumberOfMessages=10, WaitTimeSeconds=1
    )["Messages"]
    notices = [json.loads(m["Body"]) for m in messages]
    assert [(n["Subject"], n["Message"]) for n in notices] == [
        (BLOCKED_SUBJECT, BLOCKED_MESSAGE),
        (BLOCKED_SUBJECT, BLOCKED_MESSAGE),
    ]


def test_the_api_reads_the_state_of_every_alarm_of_the_stack(aws: AwsHarness) -> None:
    assert aws.stack.resources is not None
    created = set(aws.stack.resources.alarms.values())
    aws.client("cloudwatch").set_alarm_state(
        AlarmName=aws.stack.resources.alarms["PullStaleAlarm"],
        StateValue="ALARM",
        StateReason="test",
    )
    states = aws.load("api").SERVICES.alarm_states()
    assert {s.name for s in states} == created
    assert states[0].name == aws.stack.resources.alarms["PullStaleAlarm"]
    assert states[0].words == "In alarm"
