"""``wijkteam viz``: serve the browser view (``app.py``, Mesa SolaraViz) with solara."""

from __future__ import annotations

import argparse
import subprocess
import sys

from experiments.options import CommandError, port_number
from experiments.provenance import REPO


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "viz",
        help="open the browser view of the model (solara)",
        description="Serve app.py (the Mesa SolaraViz page) with 'solara run ... --production'; "
        "open the printed address in a browser. Stop with Ctrl-C.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=port_number, default=8765, help="port, 1-65535 (default 8765)")
    parser.set_defaults(func=viz_command)


def viz_command(args: argparse.Namespace) -> int:
    app = REPO / "app.py"
    if not app.is_file():
        raise CommandError(f"{app} does not exist: the browser view is not installed")
    # The solara of this interpreter, so the page runs with the same packages as the model.
    command = [
        sys.executable,
        "-m",
        "solara",
        "run",
        str(app),
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--production",
        "--no-check-version",  # solara would otherwise ask pypi.org for its latest version
    ]
    print(f"serving the browser view at http://{args.host}:{args.port} (Ctrl-C to stop)")
    try:
        return subprocess.run(command, cwd=REPO, check=False).returncode
    except KeyboardInterrupt:
        return 0
