"""The bundled demo: a shop's services on loopback and runs of the bundled example workflows.

``baton demo`` prints the runs; the parts (:class:`Shop` and :func:`serve` for the upstream,
:func:`load_example` for the manifests, :data:`DEMO_RUNS` for what to run and expect) are
public so that other front ends, such as serving the examples over HTTP, reuse them.
"""

from baton.demo.examples import EXAMPLES_DIR, Example, ExampleError, load_example
from baton.demo.script import DEMO_RUNS, DemoOutcome, DemoRun, run_demo
from baton.demo.upstreams import DOMAIN, SERVICES, Shop, host_map, serve

__all__ = [
    "DEMO_RUNS",
    "DOMAIN",
    "EXAMPLES_DIR",
    "SERVICES",
    "DemoOutcome",
    "DemoRun",
    "Example",
    "ExampleError",
    "Shop",
    "host_map",
    "load_example",
    "run_demo",
    "serve",
]
