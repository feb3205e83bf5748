"""The streaming folder walk and the resume keys of files: hostile trees, huge folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from batch_classifier.inference.files.keys import (
    display_path,
    file_key,
    not_done,
    sha256_of,
    with_hashes,
)
from batch_classifier.inference.files.walk import FoundFile, walk_files

IMAGES = frozenset({".jpg", ".png"})


def touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def by_name(found):
    return {display_path(f.path).rsplit("/", 1)[-1]: f for f in found}


def test_walks_recursively_for_wanted_suffixes_skipping_hidden(tmp_path):
    touch(tmp_path / "a.jpg")
    touch(tmp_path / "B.PNG")
    touch(tmp_path / "notes.txt")
    touch(tmp_path / "sub" / "deeper" / "c.jpg", b"1234")
    touch(tmp_path / ".hidden" / "d.jpg")
    touch(tmp_path / "sub" / ".e.jpg")
    named = touch(tmp_path / "direct.txt")
    found = list(walk_files([tmp_path, named], IMAGES))
    assert sorted(by_name(found)) == ["B.PNG", "a.jpg", "c.jpg", "direct.txt"]
    c = by_name(found)["c.jpg"]
    assert c.error is None and c.size == 4 and c.mtime_ns == c.path.stat().st_mtime_ns


def test_symlink_loops_are_reported_once_and_the_walk_ends(tmp_path):
    touch(tmp_path / "a" / "b" / "x.jpg")
    os.symlink(tmp_path / "a", tmp_path / "a" / "b" / "up")
    os.symlink("self.jpg", tmp_path / "a" / "self.jpg")
    os.symlink("gone.jpg", tmp_path / "a" / "broken.jpg")
    found = list(walk_files([tmp_path], IMAGES))
    errors = {display_path(f.path).rsplit("/", 1)[-1]: f.error.message for f in found if f.error}
    assert errors["up"].startswith("symlink loop")
    assert "too many levels of symbolic links" in errors["self.jpg"]
    assert errors["broken.jpg"] == "broken symbolic link"
    assert [f.path.name for f in found if not f.error] == ["x.jpg"]


def test_hostile_names_and_files(tmp_path):
    odd = os.fsencode(tmp_path) + b"/caf\xe9 latin-1.jpg"  # not UTF-8
    touch(Path(os.fsdecode(odd)))
    touch(tmp_path / "new\nline and space.jpg")
    os.mkfifo(tmp_path / "pipe.jpg")  # opening it would block forever
    found = by_name(walk_files([tmp_path], IMAGES))
    assert "caf\\xe9 latin-1.jpg" in found and found["caf\\xe9 latin-1.jpg"].error is None
    assert found["new\nline and space.jpg"].error is None
    assert found["pipe.jpg"].error.message == "not a regular file"
    assert display_path(found["caf\\xe9 latin-1.jpg"].path).encode("utf-8")  # writable


def test_unreadable_folder_is_an_error_row(tmp_path, monkeypatch):
    touch(tmp_path / "ok" / "a.jpg")
    touch(tmp_path / "secret" / "b.jpg")
    real_scandir = os.scandir

    def scandir(path):
        if Path(path).name == "secret":  # chmod 000 does not stop root, so pretend
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    found = by_name(walk_files([tmp_path], IMAGES))
    assert found["secret"].error.message == "cannot read folder (permission denied)"
    assert found["a.jpg"].error is None


def test_files_deleted_while_walking(tmp_path):
    for i in range(50):
        touch(tmp_path / f"{i:02d}.jpg")
    walk = walk_files([tmp_path], IMAGES)
    first = next(walk)
    for path in tmp_path.glob("*.jpg"):
        path.unlink()
    rest = list(walk)
    assert first.error is None
    assert all(f.error.message == "no such file (deleted while the job ran?)" for f in rest)
    gone = list(with_hashes([first], workers=2))
    assert gone[0].error.message == "no such file (deleted while the job ran?)"


def test_a_folder_of_100000_files_streams(tmp_path, monkeypatch):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(100_000):
        os.close(os.open(folder / f"{i:06d}.jpg", os.O_CREAT | os.O_WRONLY))
    listed = []
    real_scandir = os.scandir

    class CountingScandir:  # counts the entries the walk has pulled from the listing
        def __init__(self, path):
            self.inner = real_scandir(path)

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.inner.close()

        def __iter__(self):
            for entry in self.inner:
                listed.append(1)
                yield entry

    monkeypatch.setattr(os, "scandir", CountingScandir)
    walk = walk_files([folder], IMAGES)
    assert next(walk).error is None
    assert len(listed) == 1  # the first file comes before the folder is listed further
    assert 1 + sum(1 for _ in walk) == 100_000


@pytest.mark.parametrize("content_hash", [False, True])
def test_resume_keys_skip_done_files_and_catch_changed_ones(tmp_path, content_hash):
    a, b = touch(tmp_path / "a.jpg", b"aaa"), touch(tmp_path / "b.jpg", b"bbb")

    def found():
        items = walk_files([tmp_path], IMAGES)
        return list(with_hashes(items, workers=2) if content_hash else items)

    done = {file_key(f, content_hash) for f in found()}
    skipped = []
    assert list(not_done(found(), done, content_hash, lambda: skipped.append(1))) == []
    assert len(skipped) == 2
    stat = b.stat()
    b.write_bytes(b"BBB")  # same size; put the old mtime back: only the hash can tell
    os.utime(b, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    touch(tmp_path / "c.jpg")
    todo = [f.path.name for f in not_done(found(), done, content_hash, lambda: None)]
    assert sorted(todo) == (["b.jpg", "c.jpg"] if content_hash else ["c.jpg"])
    assert sha256_of(a) == "9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0"


def test_found_file_keys_are_output_text():
    found = FoundFile(Path("/x/a.jpg"), 12, 34)
    assert file_key(found, False) == ("/x/a.jpg", "12", "34")
