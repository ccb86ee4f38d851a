"""The moto server, answering one request at a time.

DynamoDB applies a conditional write atomically. The moto server checks a condition and then
writes, on a thread per connection, so two racing writers can both pass the check. Answering
one request at a time gives back the atomicity that the tests of racing processes rely on.

Usage: python moto_serial.py HOST PORT
"""

import os
import sys

from moto.moto_server.threaded_moto_server import MotoRequestHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

host, port = sys.argv[1], int(sys.argv[2])
os.environ.setdefault("MOTO_PORT", str(port))
run_simple(
    host,
    port,
    DomainDispatcherApplication(create_backend_app),
    threaded=False,
    request_handler=MotoRequestHandler,
)
