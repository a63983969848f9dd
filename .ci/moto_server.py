"""moto_server with every request served under one lock.

moto serves each request on its own thread without a lock, so racing conditional writes
and transactions are not atomic against each other (seen: 0 or 2 winners among racing
unique-email signups). Real DynamoDB is atomic; this makes moto so for the race tests. And its transactions copy
each table they name once, not once per item (below).

It also keeps the DynamoDB operations it served, with the tables each named, for the
tests that count a function's calls: `GET /_dynamodb_calls` answers them as JSON
(`[[operation, [table, ...]], ...]`, oldest first) and forgets them.
Usage: python .ci/moto_server.py [moto_server arguments]
"""

import collections
import copy
import io
import json
import sys
import threading

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.server import main

_lock = threading.Lock()
_serve = DomainDispatcherApplication.__call__
# Bounded: a run that never asks keeps only the newest.
_calls: collections.deque = collections.deque(maxlen=10_000)
_TARGET_PREFIX = "DynamoDB_20120810."


def _tables(request: dict) -> set:
    """The tables a DynamoDB request names: its own, a batch's or a transaction's items'."""
    tables = set(request.get("RequestItems") or {})
    if "TableName" in request:
        tables.add(request["TableName"])
    for item in request.get("TransactItems") or []:
        tables.update(action["TableName"] for action in item.values() if "TableName" in action)
    return tables


def _serve_one_at_a_time(self, environ, start_response):
    if environ.get("PATH_INFO") == "/_dynamodb_calls":
        with _lock:
            body = json.dumps(list(_calls)).encode()
            _calls.clear()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    with _lock:
        if target.startswith(_TARGET_PREFIX):
            tables = []
            if environ.get("CONTENT_LENGTH"):  # a chunked body is left alone, its tables unnamed
                request = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
                environ["wsgi.input"] = io.BytesIO(request)
                try:
                    tables = sorted(_tables(json.loads(request)))
                except (ValueError, AttributeError, TypeError):  # moto answers what it is not
                    pass
            _calls.append((target.removeprefix(_TARGET_PREFIX), tables))
        return _serve(self, environ, start_response)


DomainDispatcherApplication.__call__ = _serve_one_at_a_time


class _CopyEachTableOnce:
    """What moto's TransactWriteItems sees as `copy`: it deep-copies a table once per item
    of the transaction, for its rollback, so an eight-item transaction on a table of a
    thousand items took seconds; one copy per table is the same rollback."""

    def __init__(self):
        self.tables = {}

    def deepcopy(self, value):
        if not isinstance(value, Table):
            return copy.deepcopy(value)
        if id(value) not in self.tables:
            self.tables[id(value)] = copy.deepcopy(value)
        return self.tables[id(value)]


_transact_write_items = dynamodb_models.DynamoDBBackend.transact_write_items


def _transact_copying_each_table_once(self, transact_items):
    # Requests are served one at a time (above), so swapping the module's `copy` is safe.
    dynamodb_models.copy = _CopyEachTableOnce()
    try:
        return _transact_write_items(self, transact_items)
    finally:
        dynamodb_models.copy = copy


dynamodb_models.DynamoDBBackend.transact_write_items = _transact_copying_each_table_once

if __name__ == "__main__":
    main(sys.argv[1:])
