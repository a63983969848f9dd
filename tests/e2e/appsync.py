"""A stand-in for the AppSync Events HTTP publish endpoint, and DynamoDB stream records
read back from moto as the event Lambda would hand the publisher.

The stand-in checks each publish's SigV4 signature with botocore (another implementation
than the publisher's aws-sigv4), records what it was sent, and can refuse one event.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.e2e.standin import JsonHandler, StandIn

REGION = "us-east-1"
ACCESS_KEY, SECRET_KEY = "test", "test"


def signature_problem(method: str, url: str, headers: dict[str, str], body: bytes) -> str | None:
    """Why the request's SigV4 `authorization` header is not the one botocore computes for
    it (service `appsync`, the test credentials), or None when it is."""
    authorization = headers.get("authorization", "")
    if not authorization.startswith("AWS4-HMAC-SHA256 "):
        return f"not SigV4: {authorization!r}"
    fields = dict(part.strip().split("=", 1) for part in authorization.removeprefix("AWS4-HMAC-SHA256 ").split(","))
    signed = fields["SignedHeaders"].split(";")
    if not {"host", "x-amz-date"} <= set(signed):
        return f"host and x-amz-date must be signed: {signed}"
    request = AWSRequest(method=method, url=url, data=body, headers={name: headers[name] for name in signed})
    request.context["timestamp"] = headers["x-amz-date"]
    auth = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "appsync", REGION)
    expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    scope = f"{ACCESS_KEY}/{headers['x-amz-date'][:8]}/{REGION}/appsync/aws4_request"
    if fields["Credential"] != scope:
        return f"credential scope {fields['Credential']!r}, expected {scope!r}"
    return None if fields["Signature"] == expected else "the signature does not match botocore's"


class FakeAppSync(StandIn):
    """`POST /event` on a loopback port: checks the signature (a bad one is a 403),
    records `(channel, [event, ...])`, answers AppSync's `{successful, failed}`; the event
    at index `refuse[1]` of publishes to channel `refuse[0]` is refused."""

    def __init__(self) -> None:
        self.published: list[tuple[str, list[Any]]] = []
        self.problems: list[str] = []
        self.refuse: tuple[str, int] | None = None
        fake = self

        class Handler(JsonHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                url = f"http://{headers.get('host')}{self.path}"
                problem = signature_problem("POST", url, headers, body)
                if problem:
                    fake.problems.append(problem)
                    return self.answer(403, {"errors": [{"errorType": "UnauthorizedException", "message": problem}]})
                publish = json.loads(body)
                events = [json.loads(event) for event in publish["events"]]
                fake.published.append((publish["channel"], events))
                refused = fake.refuse[1] if fake.refuse and fake.refuse[0] == publish["channel"] else None
                self.answer(200, {
                    "successful": [{"identifier": f"e{i}", "index": i} for i in range(len(events)) if i != refused],
                    "failed": [{"identifier": f"e{i}", "index": i, "errorCode": 400, "errorMessage": "refused"}
                               for i in range(len(events)) if i == refused],
                })

        super().__init__(Handler, "/event")


def stream_event(endpoint: str, table: str, key_prefix: str) -> dict[str, Any]:
    """Every record moto's stream of `table` holds whose `pk` starts with `key_prefix` (what
    the event source's filter lets through), as the DynamoDB event Lambda sends."""
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION,
                          aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
    streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name=REGION,
                           aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
    arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records += streams.get_records(ShardIterator=iterator)["Records"]
    lambda_records = []
    for record in records:
        change = dict(record["dynamodb"])
        if not change["Keys"]["pk"]["S"].startswith(key_prefix):
            continue
        created = change.get("ApproximateCreationDateTime")
        change["ApproximateCreationDateTime"] = created.timestamp() if isinstance(created, datetime) else created or 0
        change.setdefault("SizeBytes", len(json.dumps(change)))
        lambda_records.append({"eventID": record["eventID"], "eventName": record["eventName"], "eventVersion": "1.1",
                               "eventSource": "aws:dynamodb", "awsRegion": REGION, "dynamodb": change,
                               "eventSourceARN": arn})
    return {"Records": lambda_records}
