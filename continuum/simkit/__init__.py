"""Tools shared by every system's simulator: an HTTP server with faults, state, paging, and contract checks.

Only simulators and tests import this package, and simulators reach werkzeug only through it
(``Response`` is werkzeug's); production code never imports either.
"""

from werkzeug.wrappers import Response

from continuum.simkit.faults import FAULT_KINDS, PAGING_MODES, Fault, FaultPlan
from continuum.simkit.paging import PageTokens, Window, id_links, link_header, page_number_links, seek, window
from continuum.simkit.request import SimRequest
from continuum.simkit.routes import route, under
from continuum.simkit.server import Exchange, Simulator
from continuum.simkit.state import Clock, Serial, Table

__all__ = [
    "FAULT_KINDS",
    "PAGING_MODES",
    "Clock",
    "Exchange",
    "Fault",
    "FaultPlan",
    "PageTokens",
    "Response",
    "Serial",
    "SimRequest",
    "Simulator",
    "Table",
    "Window",
    "id_links",
    "link_header",
    "page_number_links",
    "route",
    "seek",
    "under",
    "window",
]
