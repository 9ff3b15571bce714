import hashlib

from vigil.durable_files import publish_part, sha256_file


def test_publish_renames_the_part_and_returns_the_hash_of_what_is_on_disk(tmp_path):
    (tmp_path / "a.part").write_bytes(b"hello world")
    size, digest = publish_part(tmp_path / "a.part", tmp_path / "a.mp4")
    assert size == 11 and digest == hashlib.sha256(b"hello world").hexdigest()
    assert digest == sha256_file(tmp_path / "a.mp4") and not (tmp_path / "a.part").exists()
