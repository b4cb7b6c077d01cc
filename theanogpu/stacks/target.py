"""PURE: a stack as the runs need it, once resolved: its name, python, backend and Theano dialect.

``StackTarget`` is the one resolved-stack type: ``stacks.resolve_targets`` makes them (building or
inspecting each stack once), the run plan spells each variant for one, and the runs use its
interpreter, environment and compile directory.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Mapping, Optional, Tuple

from theanogpu.flags import release_dialect
from theanogpu.frameworks import BY_NAME, KERAS3_PREFERENCE

if TYPE_CHECKING:
    from theanogpu.stacks.kinds import Stack


@dataclass(frozen=True)
class StackTarget:
    name: str  # what rows and results.json call it
    theano: Optional[str]  # "0.8" / "0.9" / "1.0"; None: no Theano in this stack
    backend: str = ""  # theano | torch | jax | tensorflow; "" = theano
    # What ``blas.ldflags = auto`` means in this stack (child/blas.py found it), or None: none found.
    blas_ldflags: Optional[str] = None
    blas_source: str = ""
    python: Optional[Path] = None  # None only in plans that are never run (tests)
    env: Tuple[Tuple[str, str], ...] = ()  # the stack's own variables, set for every run
    stack: Optional["Stack"] = None
    # The key distributions' versions, as far as known: what makes this stack this stack.
    versions: Tuple[Tuple[str, str], ...] = ()

    @property
    def keras_backend(self) -> str:
        return self.backend or "theano"

    def compiledir(self) -> Optional[Path]:
        """Theano's compile cache for runs on this stack (None: no Theano, or an unresolved target)."""
        return self.stack.compiledir() if self.stack is not None and self.theano else None


def stack_backend(installed: Mapping[str, str], env: Mapping[str, str]) -> Tuple[Optional[str], str]:
    """(Theano dialect or None, Keras backend) of a stack from its distributions and environment."""
    theano = release_dialect(installed["theano"])[0] if installed.get("theano") else None
    if env.get("KERAS_BACKEND"):
        return theano, env["KERAS_BACKEND"]
    keras = installed.get("keras", "")
    if theano is not None and not keras.startswith("3"):
        return theano, "theano"
    # Keras 3's own default is tensorflow; without it, the backend that is there.
    for name in KERAS3_PREFERENCE:
        if any(installed.get(dist) for dist in BY_NAME[name].distributions):
            return theano, name
    # Nothing known installed (a custom script, a stub): pass the Theano flags as written.
    return theano, "theano"


def versions_tuple(installed: Dict[str, str]) -> Tuple[Tuple[str, str], ...]:
    return tuple(sorted(installed.items()))
