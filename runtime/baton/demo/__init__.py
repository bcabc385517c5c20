"""The bundled demo: a shop's services on loopback, the example workflows served by Baton's
runtime server, and requests to them.

``baton demo`` prints each request, its answer and its run; the parts (:class:`Shop` and
:func:`serve` for the upstream, :func:`load_example` for the manifests, :data:`DEMO_RUNS` for
what to send and expect, :func:`run_demo` for the whole) are public so that tests and other
front ends reuse them.
"""

from baton.demo.examples import EXAMPLES_DIR, Example, ExampleError, load_example
from baton.demo.script import DEMO_RUNS, HOST, DemoOutcome, DemoRun, Serving, example_files, run_demo
from baton.demo.upstreams import DOMAIN, SERVICES, Shop, host_map, serve

__all__ = [
    "DEMO_RUNS",
    "DOMAIN",
    "EXAMPLES_DIR",
    "HOST",
    "SERVICES",
    "DemoOutcome",
    "DemoRun",
    "Example",
    "ExampleError",
    "Serving",
    "Shop",
    "example_files",
    "host_map",
    "load_example",
    "run_demo",
    "serve",
]
