"""The Redis broker transport, made to outlive a broker outage.

When Redis goes away under a busy worker, Celery (5.7) first collects the
broken connection, which lets go of the kombu transport's link to its
connection, then closes the connection again. That second close reaches
the task channel, which must put back the messages it holds unacknowledged
and so asks for connection parameters the transport no longer has: kombu
raises AttributeError, which no caller treats as a connection error, and
the worker stops ("Unrecoverable error"). A late acknowledgement of a task
that was running during the outage takes the same path.

The channel here remembers where its broker is, so those calls reach Redis
(or fail with redis' own ConnectionError, which kombu and Celery handle as
the outage it is). Messages that cannot be put back stay in Redis'
unacknowledged set and are delivered again after the visibility timeout.
"""

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    _broker_params = None

    def _connparams(self, asynchronous=False):
        transport = self.connection
        if transport is not None and transport.client is not None:
            params = super()._connparams(asynchronous=asynchronous)
            if not asynchronous:
                self._broker_params = dict(params)
            return params
        # The asynchronous parameters tie a connection to the event loop of
        # a transport that is gone, so only plain commands (acknowledging,
        # putting messages back) may still run.
        if asynchronous or self._broker_params is None:
            raise RedisConnectionError("the broker connection was closed")
        return dict(self._broker_params)


class Transport(kombu_redis.Transport):
    Channel = Channel


def use_resilient_redis_transport() -> None:
    """Make redis:// and rediss:// broker URLs use this transport, keeping
    the scheme names kombu derives TLS defaults from."""
    for scheme in ("redis", "rediss"):
        TRANSPORT_ALIASES[scheme] = f"{__name__}:Transport"
