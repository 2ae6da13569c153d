"""Continuum: a Social CRM integration hub.

The core in this package knows no external system by name; systems live in
``connectors/<system>/`` and are looked up by the name given in the hub config.
"""

__version__ = "0.1.0"
