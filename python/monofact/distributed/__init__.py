"""Distributed counting on top of the local engine (``monofact.distributed.ray``)."""
