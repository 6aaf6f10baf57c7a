"""A trivial nameko service for the redemption benchmark: the bare RPC round trip.

``nameko run --broker <AMQP URI> benchmarks.rpc_echo`` serves ``bench_echo.ping``,
which returns its argument and does nothing else, so a call measures only nameko's
request and reply over RabbitMQ.
"""

from nameko.rpc import rpc


class EchoService:
    name = "bench_echo"

    @rpc
    def ping(self, payload=None):
        return payload
