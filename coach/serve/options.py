"""What `coach serve` is asked to do, as one object."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PORT = 8765


@dataclass(frozen=True)
class ServeOptions:
    """The routines to publish, where to listen, where the library lives, and the speech settings."""

    routines: tuple[str, ...] = ()  # files, folders or built-in names; none means the built-in routines
    host: str | None = None  # the address to listen on and to print; None: every interface, the LAN address printed
    port: int = DEFAULT_PORT  # 0 picks a free port
    open: bool = False  # no secret path segment
    library_dir: Path | None = None
    cache_dir: Path = Path("audio_cache")
    voice: str | None = None
    rate: int | None = None
    engine: str | None = None  # the speech engine; None: each routine's own
    music: Path | None = None  # a music bed under every routine (--music); None: each routine's own `music:`
    no_music: bool = False  # no music, even where a routine names some
    level: float | None = None  # the point in every routine's ranges; None: each routine's own default
    debounce_ms: int = 300  # how long a file must hold still after a save before it is published again

    def library_path(self) -> Path:
        """The library folder: the option, else coach/serve under the user's data directory."""
        if self.library_dir is not None:
            return self.library_dir
        data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        return Path(data_home) / "coach" / "serve"
