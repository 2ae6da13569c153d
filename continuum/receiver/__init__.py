"""The webhook receiver (``continuum serve``): signed deliveries in, committed to the inbox, answered.

It knows no vendor: each system that can push gives its verifier through its plugin
(:mod:`continuum.kit.webhooks`), and the endpoint is the system's name in the hub config,
``/hooks/<system>``.  It keeps no state of its own (the store holds the inbox), so several
can run behind a load balancer.
"""

from continuum.receiver.app import ReceiverSettings, build_app

__all__ = ["ReceiverSettings", "build_app"]
