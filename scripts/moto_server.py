"""moto server, one request at a time.

moto's DynamoDB backend takes no locks, and its server handles requests on
threads: two concurrent TransactWriteItems can then both pass a condition
that only one may pass (seen as two orders for one checkout key, and two
attempts added over one order version). DynamoDB itself serializes them, so
the stand-in must too. Usage: moto_server.py HOST PORT
"""

import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


class OneAtATime:
    """Runs each request to the end, body included, under one lock."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            return list(self.app(environ, start_response))


if __name__ == "__main__":
    host, port = sys.argv[1], int(sys.argv[2])
    app = OneAtATime(DomainDispatcherApplication(create_backend_app))
    run_simple(host, port, app, threaded=True, request_handler=MotoRequestHandler)
