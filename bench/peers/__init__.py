"""Peers of the RSA page for ``bench_peers.py``: what a data team would write without Pilotis."""
