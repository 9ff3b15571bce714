import hashlib

from vigil.durable_files import HashingFile, publish_part, sha256_file


def test_hash_is_computed_while_writing_and_bytes_reach_the_file_at_once(tmp_path):
    f = HashingFile(tmp_path / "a.part")
    f.write(b"hello ")
    assert (tmp_path / "a.part").read_bytes() == b"hello ", "unbuffered: a killed process loses nothing written"
    f.write(memoryview(b"world"))
    f.close()
    assert f.sha256() == hashlib.sha256(b"hello world").hexdigest()
    size, digest = publish_part(tmp_path / "a.part", tmp_path / "a.mp4", f.sha256())
    assert size == 11 and digest == sha256_file(tmp_path / "a.mp4") and not (tmp_path / "a.part").exists()


def test_a_seek_back_voids_the_running_hash_and_the_file_is_read_instead(tmp_path):
    f = HashingFile(tmp_path / "b.part")
    f.write(b"xxxx-tail")
    f.seek(0)
    f.write(b"head")
    f.close()
    assert (tmp_path / "b.part").read_bytes() == b"head-tail"
    assert f.sha256() == hashlib.sha256(b"head-tail").hexdigest()
