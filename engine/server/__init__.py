"""The engine server the plugins talk to: the ROUTER loop (``router``), its job queue (``jobs``), the
checking of ``stylize`` requests (``stylize_request``) and ``restyle serve`` (``serve``).

Above the compute (it runs :class:`engine.Stylizer`) and the client package (the protocol, shared memory,
discovery and keys it shares with the plugins).
"""
