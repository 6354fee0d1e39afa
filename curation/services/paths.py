"""Which files FineCurate may read: only those under the configured data roots."""
from pathlib import Path

from django.conf import settings

from curation.errors import ApplicationError


class PathNotAllowed(ApplicationError, ValueError):
    """The path lies outside every allowed data root (or escapes one through .. or a link)."""

    code = "path_not_allowed"
    status = 400


def allowed_roots() -> list[Path]:
    return [Path(root).resolve() for root in settings.FINECURATE_DATA_ROOTS]


def data_root_default_ensure() -> Path:
    """The default data root (the first configured one, var/data unless the operator names others), made if missing,
    so a newcomer has a folder to drop files into before registering them."""
    default = allowed_roots()[0]
    default.mkdir(parents=True, exist_ok=True)
    return default


def path_check_allowed(*, path: Path | str) -> Path:
    """The resolved path if it lies under an allowed root; PathNotAllowed otherwise."""
    try:
        resolved = Path(path).expanduser().resolve()
    except (RuntimeError, OSError) as exc:  # "~nobody/x" (no such home), a loop of links
        raise PathNotAllowed(f"{path} cannot be resolved: {exc}") from exc
    for root in allowed_roots():
        if resolved == root or resolved.is_relative_to(root):
            return resolved
    roots = ", ".join(str(r) for r in allowed_roots())
    raise PathNotAllowed(f"{path} is outside the allowed data roots ({roots})")


def path_resolve_relative(*, base: Path, relative: str) -> Path:
    """A path named inside a source file, taken relative to the source's folder and checked against the roots."""
    candidate = Path(relative)
    if not candidate.is_absolute():
        candidate = base / candidate
    return path_check_allowed(path=candidate)
