"""Starting the Streamlit app on a workspace: what `persona4rec app` (and the demo command) run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ..errors import ConfigError, WorkspaceError
from ..views.workspaces import is_workspace

DEFAULT_PORT = 8501


def app_path() -> Path:
    """app.py of this checkout (the app ships beside the package, not inside it)."""
    path = Path(__file__).resolve().parents[2] / "app.py"
    if not path.is_file():
        raise ConfigError(f"{path} not found: the app runs from a source checkout (pip install -e .)")
    return path


def app_command(
    workspace: str | Path | None = None,
    port: int = DEFAULT_PORT,
    address: str = "127.0.0.1",
    headless: bool = True,
    watch_files: bool = False,
) -> list[str]:
    """The `streamlit run` command line; Streamlit's own flags go before `--`, the app's after it.
    File watching (reload on save) is for developing the app; off by default."""
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_path()),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true" if headless else "false",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "auto" if watch_files else "none",
    ]
    if workspace is not None:
        command += ["--", "--workspace", str(workspace)]
    return command


def app_url(port: int = DEFAULT_PORT, address: str = "127.0.0.1") -> str:
    return f"http://{'localhost' if address in ('0.0.0.0', '127.0.0.1') else address}:{port}"


def run_app(
    workspace: str | Path | None = None, port: int = DEFAULT_PORT, address: str = "127.0.0.1", headless: bool = True
) -> int:
    """Run the app in the foreground until interrupted (the CLI prints its URL first)."""
    if workspace is not None and not is_workspace(workspace):
        raise WorkspaceError(f"{workspace}: not a workspace (no manifest.json)")
    return subprocess.call(app_command(workspace, port, address, headless), cwd=app_path().parent)
