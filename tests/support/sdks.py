"""Both official SDK lines in one process: letta-client 1.x is installed normally, the 0.1.x
line (what older cookbooks pin) sits in its own folder and is loaded as `letta_client_legacy`.
Its modules import each other relatively, so the alias is all it takes."""

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

LEGACY_DIR = Path(
    os.environ.get(
        "TROUPE_TEST_LEGACY_SDK_DIR", Path(sys.prefix) / "letta-client-0.1" / "letta_client"
    )
)


def legacy_sdk() -> ModuleType:
    if "letta_client_legacy" in sys.modules:
        return sys.modules["letta_client_legacy"]
    init = LEGACY_DIR / "__init__.py"
    if not init.exists():
        raise RuntimeError(
            f"letta-client 0.1.x not found at {LEGACY_DIR}: `make test` installs it there"
        )
    spec = importlib.util.spec_from_file_location(
        "letta_client_legacy", init, submodule_search_locations=[str(LEGACY_DIR)]
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["letta_client_legacy"] = module
    spec.loader.exec_module(module)
    return module
