"""Modules of other packages loaded for less than their import costs: one compiled module on its own, or a
module that only loads when first used.

Some of scipy's subpackages take far longer to import than the one compiled loop coach needs from them
(scipy.signal about 1 s for its filter loop, scipy.fft 0.25 s for pocketfft): the loop's extension file is loaded
directly and registered under its own name, so a later import of the whole subpackage reuses it. And some
packages import at their top a module only one of their features uses (miniaudio: urllib.request, 40 ms of
http, email and ssl, for internet radio): a stand-in takes its place and imports it on first use.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any


class _Deferred(ModuleType):
    """A module's stand-in: the first attribute asked of it imports the module, which then replaces it."""

    def __getattr__(self, attribute: str) -> Any:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attribute)


def import_lazily(name: str) -> ModuleType:
    """The module `name`, or a stand-in for it that imports it when one of its attributes is first used.

    Not importlib's LazyLoader: on Python 3.11 an `import name` statement reads the module's __spec__, which makes
    a LazyLoader module load at once.
    """
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None:
        raise ImportError(f"no module named {name}")
    stand_in = _Deferred(name)
    stand_in.__spec__ = spec
    sys.modules[name] = stand_in
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, stand_in)
    return stand_in


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
