"""moto_server with every request served under one lock.

moto serves each request on its own thread without a lock, so racing conditional writes
and transactions are not atomic against each other (seen: 0 or 2 winners among racing
unique-email signups). Real DynamoDB is atomic; this makes moto so for the race tests.
Usage: python .ci/moto_server.py [moto_server arguments]
"""

import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.server import main

_lock = threading.Lock()
_serve = DomainDispatcherApplication.__call__


def _serve_one_at_a_time(self, environ, start_response):
    with _lock:
        return _serve(self, environ, start_response)


DomainDispatcherApplication.__call__ = _serve_one_at_a_time

if __name__ == "__main__":
    main(sys.argv[1:])
