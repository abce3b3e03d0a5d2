"""One compiled module of an installed package, loaded on its own, without running its package's __init__ files.

Some of scipy's subpackages take far longer to import than the one compiled loop coach needs from them
(scipy.signal about 1 s for its filter loop, scipy.fft 0.25 s for pocketfft): the loop's extension file is loaded
directly and registered under its own name, so a later import of the whole subpackage reuses it.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def load_extension(name: str) -> ModuleType:
    """The compiled module `name` (e.g. "scipy.signal._sosfilt"), loaded from its file; ImportError if it is not there."""
    if name in sys.modules:
        return sys.modules[name]
    top, *inner = name.split(".")
    spec = importlib.util.find_spec(top)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"{top} is not installed")
    folder = Path(next(iter(spec.submodule_search_locations)), *inner[:-1])
    found = [folder / (inner[-1] + suffix) for suffix in importlib.machinery.EXTENSION_SUFFIXES]
    path = next((candidate for candidate in found if candidate.is_file()), None)
    if path is None:
        raise ImportError(f"no compiled module {name} in {folder}")
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    sys.modules[name] = module
    return module
