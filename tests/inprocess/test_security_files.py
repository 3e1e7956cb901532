"""File inputs resolve only inside the allowed folders, symlinks included, refused before any open()."""
from __future__ import annotations

import builtins
import io as _io

import pytest

from lina_nodes.inprocess.comfy_import import import_comfy

import_comfy()

import folder_paths  # noqa: E402

from lina_nodes.errors import LinaError  # noqa: E402
from lina_nodes.inprocess import file_access  # noqa: E402


@pytest.fixture()
def folders(tmp_path, monkeypatch):
    models = tmp_path / "models"
    (models / "lina_physworld").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "physworld_secret.safetensors"
    secret.write_text("SENTINEL-SECRET")
    (models / "lina_physworld" / "physworld_link.safetensors").symlink_to(secret)
    (models / "lina_physworld" / "physworld_ok.safetensors").write_text("x")
    monkeypatch.setattr(folder_paths, "models_dir", str(models))
    monkeypatch.setattr(folder_paths, "get_user_directory", lambda: str(tmp_path / "user"))
    monkeypatch.setitem(folder_paths.folder_names_and_paths, "lina_physworld",
                        ([str(models / "lina_physworld")], {".safetensors"}))
    monkeypatch.delenv(file_access.ENV_ANY_PATH, raising=False)
    monkeypatch.delenv(file_access.ENV_ENDPOINTS, raising=False)
    return models / "lina_physworld", secret


def test_outside_paths_are_refused_before_opening(folders, monkeypatch):
    inside, secret = folders
    opened = []
    real_open, real_io_open = builtins.open, _io.open
    monkeypatch.setattr(builtins, "open", lambda f, *a, **k: opened.append(str(f)) or real_open(f, *a, **k))
    monkeypatch.setattr(_io, "open", lambda f, *a, **k: opened.append(str(f)) or real_io_open(f, *a, **k))
    messages = set()
    for value in (str(secret), "../../outside/physworld_secret.safetensors", "physworld_link.safetensors",
                  str(inside / "physworld_link.safetensors"), str(secret.parent / "physworld_none.safetensors"),
                  "/etc/passwd", "/proc/self/environ", "", "\x00", "a" * 5000):
        with pytest.raises(LinaError) as ei:
            file_access.load_file("physworld", value, "weights_path", lambda p: real_open(p).read())
        msg = str(ei.value)
        assert "SENTINEL" not in msg and str(secret.parent) not in msg and "/etc" not in msg and len(msg) < 600
        messages.add(msg.split(" was not found")[1])
    assert len(messages) == 1            # one generic message: existence is never revealed
    assert not any("secret" in f or "passwd" in f or "environ" in f for f in opened), opened


def test_inside_names_and_paths_resolve(folders):
    inside, _ = folders
    assert file_access.resolve_file("physworld", "physworld_ok.safetensors", "weights") == \
        (inside / "physworld_ok.safetensors").resolve()
    assert file_access.resolve_file("physworld", str(inside / "physworld_ok.safetensors"), "weights").is_file()
    assert "physworld_ok.safetensors" in file_access.list_files("physworld", "physworld_")
    assert "physworld_link.safetensors" not in file_access.list_files("physworld", "physworld_")


def test_free_paths_only_when_the_operator_opts_in(folders, monkeypatch):
    _, secret = folders
    monkeypatch.setenv(file_access.ENV_ANY_PATH, "1")
    assert file_access.resolve_file("physworld", str(secret), "weights") == secret


def test_llm_endpoints_come_from_the_operator_only(folders, monkeypatch, tmp_path):
    assert file_access.select_llm_endpoint("http://127.0.0.1:11434/v1")[0] is None
    monkeypatch.setenv(file_access.ENV_ENDPOINTS, "http://127.0.0.1:11434/v1/")
    assert file_access.select_llm_endpoint("http://127.0.0.1:11434/v1")[0] == "http://127.0.0.1:11434/v1"
    assert file_access.select_llm_endpoint("")[0] == "http://127.0.0.1:11434/v1"
    assert file_access.select_llm_endpoint("http://evil.example/v1")[0] is None
    monkeypatch.delenv(file_access.ENV_ENDPOINTS)
    (tmp_path / "user").mkdir()
    (tmp_path / "user" / file_access.SETTINGS_FILE).write_text('{"llm_endpoints": ["http://10.0.0.2:8000/v1"]}')
    assert file_access.select_llm_endpoint("http://10.0.0.2:8000/v1")[0] == "http://10.0.0.2:8000/v1"
