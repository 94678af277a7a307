"""Ids are made from bits directly (troupe.ids): the same text uuid.UUID would give."""

import os
import uuid

from troupe.ids import new_id, otid_at


def test_new_ids_are_version_4_uuids_in_their_canonical_text() -> None:
    made = {new_id("message") for _ in range(2000)}
    assert len(made) == 2000
    for made_id in made:
        kind, text = made_id.split("-", 1)
        assert kind == "message"
        parsed = uuid.UUID(text)
        assert str(parsed) == text  # lowercase, dashed 8-4-4-4-12
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


def test_a_forked_child_never_hands_out_its_parents_ids() -> None:
    new_id("message")  # the parent holds a batch drawn before the fork
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next ids, to the parent
        os.write(write, " ".join(new_id("message") for _ in range(300)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = set(pipe.read().split())
    os.waitpid(pid, 0)
    parent = {new_id("message") for _ in range(300)}
    assert len(child) == 300
    assert not child & parent


def test_otids_keep_the_uuid_and_put_the_index_in_its_low_bits() -> None:
    for _ in range(500):
        base = new_id("run")
        raw = uuid.UUID(base.split("-", 1)[1]).int
        for index in (0, 1, 5, 127, 128, 300):
            expected = str(uuid.UUID(int=(raw & ~0x7F) | (index & 0x7F)))
            assert otid_at(base, index) == expected
    # Another form of UUID text reads as uuid.UUID reads it; what is none is refused alike.
    braced = "{12345678-1234-5678-1234-567812345678}"
    assert otid_at(f"x-{braced}", 1) == "12345678-1234-5678-1234-567812345601"
    for bad in ("x-not-a-uuid", "x-1234567g-1234-5678-1234-567812345678"):
        try:
            otid_at(bad, 0)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")
