"""`python -m simsales.dashboard [--host H] [--port P]`: serve the dashboard with Solara (needs the `viz` extra)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence


def command(host: str = "127.0.0.1", port: int = 8765) -> list[str]:
    """The `solara run` command line that serves the dashboard page."""
    return [sys.executable, "-m", "solara", "run", "simsales.dashboard.app", "--host", host, "--port", str(port),
            "--production", "--no-open"]  # fmt: skip


def server_env() -> dict[str, str]:
    """The server's environment: Solara's usage telemetry off unless the caller set it."""
    return {"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False", **os.environ}


def main(argv: Sequence[str] | None = None) -> int:
    """Start the dashboard server in the foreground, in place of this process (Ctrl-C stops it)."""
    parser = argparse.ArgumentParser(prog="python -m simsales.dashboard", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    args = parser.parse_args(argv)
    try:
        import solara  # noqa: F401
    except ImportError:
        print("the dashboard needs Solara: pip install 'simsales[viz]'", file=sys.stderr)
        return 2
    print(f"simsales dashboard on http://{args.host}:{args.port}/  (Ctrl-C to stop)", flush=True)
    cmd = command(args.host, args.port)
    os.execve(cmd[0], cmd, server_env())  # the server replaces this process, so stopping this pid stops the server
    return 0  # pragma: no cover - execv does not return


if __name__ == "__main__":
    raise SystemExit(main())
