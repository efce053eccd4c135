"""A stopped sandbox's port is free again at once: its connections left in TIME_WAIT (the
server closed them first) do not make ``sandbox start --port`` refuse it as "in use by
another process" for the next minute; a port something listens on still is."""

from __future__ import annotations

import socket

from billing_nb.sandbox.server import HOST, port_in_use


def test_time_wait_is_not_in_use_and_a_listener_is() -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((HOST, 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    client = socket.create_connection((HOST, port))
    served, _ = listener.accept()
    assert port_in_use(port)  # listening
    served.close()  # the server side closes first: its end goes to TIME_WAIT
    client.recv(1)
    client.close()
    listener.close()
    assert not port_in_use(port)
