"""What a LINA node may read and contact inside a shared ComfyUI: the operator's settings, one place.

Anyone who can POST /prompt sets every widget, so no widget may choose a file or a URL freely:

- **Files** (``weights_path``, ``adapter_path``, ``knowledge_path`` and the combo names) resolve only
  inside their registered ComfyUI model folder (``models/lina_physworld``, ``models/lina_adapters``,
  ``models/lina_knowledge``; ``extra_model_paths.yaml`` entries count) or the pack's own folder,
  after symlinks are followed. Anything else is refused *before it is opened*, with one generic
  message that shows the file name only (never an absolute path, never whether the file exists).
  Free paths only when the operator opts in (``LINA_ALLOW_ANY_PATH=1`` or ``"allow_any_path": true``).
- **LLM endpoints**: the CSG Parse node's ``llm_url`` only selects among the endpoints the operator
  configured (``LINA_LLM_ENDPOINTS``, comma-separated, or ``"llm_endpoints"`` in the settings file);
  none configured = the LLM backend is off.

Settings file: ``<ComfyUI user dir>/lina_settings.json`` (the user dir itself, NOT ``user/default/``,
which the /userdata API can write). It is re-read when it changes, so no restart is needed::

    {"llm_endpoints": ["http://127.0.0.1:11434/v1"], "llm_max_seconds": 60, "allow_any_path": false}
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import folder_paths

from ..csg.knowledge import DEFAULT_PATH as KNOWLEDGE_DEFAULT
from ..errors import LinaError, short
from ..paths import PACK_WEIGHTS

SETTINGS_FILE = "lina_settings.json"
ENV_ENDPOINTS = "LINA_LLM_ENDPOINTS"
ENV_ANY_PATH = "LINA_ALLOW_ANY_PATH"
ENV_API_KEY = "LINA_LLM_API_KEY"
DEFAULT_LLM_MAX_SECONDS = 120.0
MAX_SETTINGS_BYTES = 1_000_000


@dataclass(frozen=True)
class FileKind:
    folder: str               # ComfyUI folder name (models/<folder>)
    pack_dir: Path            # the pack's own folder for this kind
    pack_label: str
    suffixes: tuple


KINDS = {
    "physworld": FileKind("lina_physworld", PACK_WEIGHTS, "the LINA pack's weights/", (".safetensors",)),
    "adapter": FileKind("lina_adapters", PACK_WEIGHTS, "the LINA pack's weights/", (".safetensors",)),
    "knowledge": FileKind("lina_knowledge", KNOWLEDGE_DEFAULT.parent, "the LINA pack's csg/knowledge/", (".json",)),
}


# ---- operator settings -------------------------------------------------------------------------
_cache: dict = {}


def settings_path() -> Path:
    return Path(folder_paths.get_user_directory()) / SETTINGS_FILE


def settings() -> dict:
    """The settings file's object ({} when absent or unreadable; a broken file is logged, never shown to callers)."""
    p = settings_path()
    try:
        st = p.stat()
    except OSError:
        return {}
    key = (str(p), st.st_mtime_ns, st.st_size)
    if _cache.get("key") != key:
        data: dict = {}
        if st.st_size <= MAX_SETTINGS_BYTES:
            try:
                loaded = json.loads(p.read_text(encoding="utf-8"))
                data = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError):
                data = {}
        _cache.update(key=key, data=data)
    return _cache["data"]


def allow_any_path() -> bool:
    return os.environ.get(ENV_ANY_PATH, "").strip() in ("1", "true", "yes") or settings().get("allow_any_path") is True


def llm_endpoints() -> list[str]:
    """The operator's LLM endpoints (base URLs without a trailing slash), environment first."""
    raw = [u for u in os.environ.get(ENV_ENDPOINTS, "").replace(",", " ").split() if u]
    conf = settings().get("llm_endpoints", [])
    raw += [u for u in (conf if isinstance(conf, list) else [conf]) if isinstance(u, str)]
    return list(dict.fromkeys(u.strip().rstrip("/") for u in raw if u.strip()))


def llm_max_seconds() -> float:
    v = settings().get("llm_max_seconds", DEFAULT_LLM_MAX_SECONDS)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v <= 3600 \
        else DEFAULT_LLM_MAX_SECONDS


def select_llm_endpoint(widget_value: str) -> tuple[str | None, str]:
    """(endpoint, "") when the widget names a configured endpoint (empty = the first one), else (None, why).
    The reason never depends on the network or on the widget's value beyond "not configured"."""
    allowed = llm_endpoints()
    if not allowed:
        return None, (f"the LLM backend is off on this server (the operator has configured no endpoint: "
                      f"{ENV_ENDPOINTS} or \"llm_endpoints\" in {SETTINGS_FILE}).")
    want = (widget_value or "").strip().rstrip("/")
    if not want:
        return allowed[0], ""
    if want in allowed:
        return want, ""
    return None, f"llm_url {short(want, 80)} is not one of the LLM endpoints this server's operator allows."


def llm_api_key() -> str | None:
    """The operator's key (environment only); it is sent only to a configured endpoint, never across a redirect."""
    return os.environ.get(ENV_API_KEY) or None


# ---- files ---------------------------------------------------------------------------------------
def allowed_folders(kind: str) -> list[Path]:
    """The folders files of ``kind`` may come from: the ComfyUI model folder(s), then the pack's folder."""
    k = KINDS[kind]
    if k.folder not in folder_paths.folder_names_and_paths:
        folder_paths.add_model_folder_path(k.folder, str(Path(folder_paths.models_dir) / k.folder))
    return [Path(p) for p in folder_paths.get_folder_paths(k.folder)] + [k.pack_dir]


def folder_labels(kind: str) -> str:
    return f"models/{KINDS[kind].folder} or {KINDS[kind].pack_label}"


def _inside(path: Path, folder: Path) -> bool:
    try:
        return Path(os.path.realpath(path)).is_relative_to(Path(os.path.realpath(folder)))
    except (OSError, ValueError):
        return False


def refused(kind: str, value: str, field: str, error=LinaError) -> LinaError:
    """The one message for every refused file: the same whether it exists, is outside, or is unreadable."""
    name = short(Path(str(value).strip()).name or str(value), 80)
    return error(f"{name} was not found in the allowed folders ({folder_labels(kind)}).", field=field,
                 fix=f"put the file into models/{KINDS[kind].folder} (or the pack's folder) and give its name; "
                     f"free paths need the operator setting {ENV_ANY_PATH}=1.")


def resolve_file(kind: str, value: str, field: str, error=LinaError) -> Path:
    """The real path of ``value`` (a name or path inside an allowed folder), or ``error`` (generic).

    Only path arithmetic and stat calls happen here: no file outside the allowed folders is opened."""
    if not isinstance(value, str) or not value.strip() or "\x00" in value or len(value) > 4096:
        raise refused(kind, str(value)[:200] if value else "(empty)", field, error)
    value = value.strip()
    if allow_any_path():
        p = Path(value).expanduser()
        if p.is_file():
            return p
        raise refused(kind, value, field, error)
    if not value.lower().endswith(KINDS[kind].suffixes):
        raise refused(kind, value, field, error)
    given = Path(value)
    for folder in allowed_folders(kind):
        cand = given if given.is_absolute() else folder / given
        if _inside(cand, folder):
            real = Path(os.path.realpath(cand))
            if real.is_file():
                return real
    raise refused(kind, value, field, error)


def list_files(kind: str, prefix: str = "") -> list[str]:
    """File names of ``kind`` in the allowed folders (for the combo widgets), sorted."""
    names = set()
    for d in allowed_folders(kind):
        if d.is_dir():
            names.update(p.name for p in d.iterdir() if p.name.startswith(prefix)
                         and p.name.lower().endswith(KINDS[kind].suffixes) and _inside(p, d))
    return sorted(names)


def shown_error(err: Exception, real: Path, name: str, field: str, error=LinaError) -> LinaError:
    """``err`` from a loader, as the caller may see it: the absolute path replaced by the name they gave;
    anything that is not one of LINA's own errors becomes a generic one (no OS detail)."""
    if not isinstance(err, LinaError):
        return error(f"{short(Path(name).name, 80)} could not be read.", field=field)
    text = str(err).replace(str(real), short(Path(name).name, 80))
    err.args = (text.replace(str(real.parent), "<folder>"),)
    return err


def load_file(kind: str, value: str, field: str, loader, error=LinaError):
    """``loader(real_path)`` for an allowed file, with caller-safe errors."""
    real = resolve_file(kind, value, field, error)
    try:
        return loader(real)
    except (LinaError, OSError) as e:
        raise shown_error(e, real, value, field, error) from None
