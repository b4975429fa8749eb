"""The store contract, part 2: artefacts and their versions, suggestions, the review log, users,
and a reader and writers working at the same time."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from pipeline.models import Artefact, ArtefactStatus, ReviewEvent
from pipeline.store import ArtefactConflict, DuplicateUser, Store
from tests.store.data import APPROVED, T0, artefact, candidate, passages, source


def _with_candidates(store: Store) -> tuple[str, str]:
    a, b = source("/c/a.vtt"), source("/c/b.vtt")
    store.save_source(a)
    store.save_source(b)
    store.replace_candidates(a.id, "threads", "h", [candidate("c1", a.id), candidate("c2", a.id, minutes=1)])
    store.replace_candidates(b.id, "threads", "h", [candidate("c3", b.id, minutes=2)])
    return a.id, b.id


class Membership:
    def test_candidates_belong_to_the_artefact_that_last_claimed_them(self, store: Store) -> None:
        a, b = _with_candidates(store)
        store.save_artefacts([artefact("A1", ["c1", "c2"]), artefact("A2", ["c3"])])
        assert store.unassigned_candidates() == []
        store.save_artefacts([artefact("A2", ["c3", "c2"])])  # c2 folds into A2
        store.save_artefacts([artefact("A1", ["c1"])])
        assert store.artefact_ids_for_sources([b]) == ["A2"]
        assert store.artefact_ids_for_sources([a]) == ["A1", "A2"]
        store.save_artefacts([artefact("A1", [])])
        assert [c.id for c in store.unassigned_candidates()] == ["c1"]

    def test_a_removed_source_takes_its_candidates_out_of_the_lookups(self, store: Store) -> None:
        a, b = _with_candidates(store)
        store.save_artefacts([artefact("A1", ["c1", "c3"])])
        store.mark_removed([a])
        assert store.artefact_ids_for_sources([a]) == [] and store.artefact_ids_for_sources([b]) == ["A1"]
        assert store.unassigned_candidates() == []  # c2 went with its source

    def test_artefacts_round_trip_filter_and_order(self, store: Store) -> None:
        a1 = artefact("A2", ["c1"], status=APPROVED, communities=["sre"], visibility="sre", text_edited=True)
        store.save_artefacts([a1, artefact("A1")])
        assert store.get_artefact("A2") == a1 and store.get_artefact("nope") is None
        assert [x.id for x in store.artefacts()] == ["A1", "A2"]
        assert store.artefacts(status="approved") == [a1] and store.artefacts(kind="pattern") == []


class Versions:
    def test_every_write_bumps_the_version(self, store: Store) -> None:
        store.save_artefacts([artefact("A1")])
        store.save_artefacts([artefact("A1", status=APPROVED)])
        store.save_artefacts([artefact("A2")])
        got = store.versioned_artefacts()
        assert {k: v for k, (_, v) in got.items()} == {"A1": 2, "A2": 1}
        assert list(store.versioned_artefacts(["A2", "missing"])) == ["A2"]

    def test_a_stale_version_is_a_conflict_and_writes_nothing(self, store: Store) -> None:
        store.save_artefacts([artefact("A1")])
        assert store.save_artefacts([artefact("A1", status=APPROVED)], {"A1": 1}) == []
        conflicts = store.save_artefacts([artefact("A1", answer="stale writer"), artefact("A3")], {"A1": 1, "A3": 0})
        assert conflicts == ["A1"]
        assert store.get_artefact("A1").status == APPROVED and store.get_artefact("A3") is not None  # type: ignore[union-attr]
        assert store.save_artefacts([artefact("A3")], {}) == ["A3"]  # 0/absent: must not exist yet

    def test_update_rebases_on_conflict_or_gives_up(self, store: Store) -> None:
        store.save_artefacts([artefact("A1"), artefact("A2")])
        store.save_artefacts([artefact("A1", status=APPROVED), artefact("A2", status=APPROVED)])  # meanwhile: v2

        def rebase(current: Artefact | None, attempted: Artefact) -> Artefact | None:
            if attempted.id == "A2":
                return None
            assert current is not None
            return current.model_copy(update={"items": [*current.items, "mine"]})

        attempted = [artefact("A1", items=["mine"]), artefact("A2", items=["mine"])]
        assert store.update_artefacts(attempted, {"A1": 1, "A2": 1}, rebase) == ["A2"]
        a1 = store.get_artefact("A1")
        assert a1 is not None and (a1.status, a1.items) == (APPROVED, ["mine"])
        assert store.get_artefact("A2").items == []  # type: ignore[union-attr]


class Suggestions:
    def test_replace_orders_best_first_and_normalises_pairs(self, store: Store) -> None:
        store.replace_suggestions([("B", "A", 0.5), ("C", "D", 0.75)])
        store.replace_suggestions([("Z", "A", 0.9), ("C", "A", 0.61), ("A", "B", 0.7)])
        assert store.suggestions() == [("A", "Z", 0.9), ("A", "B", 0.7), ("A", "C", 0.61)]
        assert store.suggestions("C") == [("A", "C", 0.61)] and store.suggestions("D") == []


def _event(aid: str, action: str, n: int) -> ReviewEvent:
    return ReviewEvent(at=T0, actor=f"rev{n}", action=action, artefact_id=aid, before={"status": "candidate"},
                       after={"status": "approved", "n": n}, note=f"note {n}")  # fmt: skip


class ReviewLog:
    def test_events_are_appended_newest_first_with_the_artefact(self, store: Store) -> None:
        store.save_review([artefact("A1", status=APPROVED)], [_event("A1", "approve", 1)])
        store.save_review([artefact("A2")], [_event("A2", "edit", 2), _event("A1", "merge", 3)])
        events = store.review_events()
        assert [(e.actor, e.action, e.artefact_id) for e in events] == [("rev3", "merge", "A1"), ("rev2", "edit", "A2"), ("rev1", "approve", "A1")]
        assert events[2].before == {"status": "candidate"} and events[2].after == {"status": "approved", "n": 1}
        assert events[2].at == T0 and events[2].note == "note 1"
        assert len({e.id for e in events}) == 3 and events[0].id > events[1].id > events[2].id  # type: ignore[operator]
        assert [e.actor for e in store.review_events("A1")] == ["rev3", "rev1"]
        assert [e.actor for e in store.review_events(limit=1)] == ["rev3"]
        assert store.get_artefact("A1").status == APPROVED  # type: ignore[union-attr]

    def test_audit_keys_filter_by_actor_action_artefact_and_time(self, store: Store) -> None:
        later = T0 + timedelta(days=2)
        store.save_review([artefact("A1")], [_event("A1", "approve", 1), _event("A2", "edit", 2)])
        store.save_review([artefact("A2")], [_event("A2", "edit", 1).model_copy(update={"at": later})])
        ids = [i for i, _, _ in store.review_event_keys({})]
        assert len(ids) == 3 and ids == sorted(ids, reverse=True)
        assert [(a, act) for _, a, act in store.review_event_keys({"actor": "rev1"})] == [("A2", "edit"), ("A1", "approve")]
        assert [a for _, a, _ in store.review_event_keys({"action": "edit", "artefact_id": "A2"})] == ["A2", "A2"]
        day2 = {"at_from": later.date().isoformat(), "at_to": (later.date() + timedelta(days=1)).isoformat()}
        (only,) = store.review_event_keys(day2)
        assert [(e.actor, e.at) for e in store.review_events_by_id([only[0]])] == [("rev1", later)]
        assert [e.id for e in store.review_events_by_id(ids[1:])] == ids[1:]

    def test_a_conflicting_review_writes_neither_artefact_nor_event(self, store: Store) -> None:
        store.save_artefacts([artefact("A1")])
        store.save_artefacts([artefact("A1", answer="a stage wrote meanwhile")])
        with pytest.raises(ArtefactConflict) as raised:
            store.save_review([artefact("A1", status=APPROVED)], [_event("A1", "approve", 1)], {"A1": 1})
        assert raised.value.ids == ["A1"]
        assert store.review_events() == [] and store.get_artefact("A1").answer == "a stage wrote meanwhile"  # type: ignore[union-attr]

    def test_later_reviews_leave_earlier_events_as_they_were(self, store: Store) -> None:
        store.save_review([artefact("A1")], [_event("A1", "edit", 1)])
        first = store.review_events()
        store.save_review([artefact("A1", status=ArtefactStatus.rejected)], [_event("A1", "reject", 2)])
        assert store.review_events()[1:] == first


class Users:
    def test_users_tokens_and_revocation(self, store: Store) -> None:
        store.add_user("zoe", "admin", ["sre", "ops", "sre"], "hash-z")
        store.add_user("ana", "reviewer", [], "hash-a")
        row = store.user_by_token_hash("hash-z")
        assert row is not None and "token_hash" not in row
        assert (row["name"], row["role"], row["groups"], row["revoked"]) == ("zoe", "admin", ["ops", "sre"], False)
        assert [u["name"] for u in store.users()] == ["ana", "zoe"] and store.user_by_token_hash("nope") is None
        assert store.revoke_user("ana") is True and store.revoke_user("nobody") is False
        assert store.user_by_token_hash("hash-a")["revoked"] is True  # type: ignore[index]

    def test_a_taken_name_or_token_is_refused_and_the_first_user_kept(self, store: Store) -> None:
        store.add_user("ana", "reviewer", ["sre"], "hash-a")
        with pytest.raises(DuplicateUser):
            store.add_user("ana", "admin", [], "hash-b")
        with pytest.raises(DuplicateUser):
            store.add_user("bob", "admin", [], "hash-a")
        assert [(u["name"], u["role"]) for u in store.users()] == [("ana", "reviewer")]


class Concurrency:
    def test_a_reader_sees_each_passage_replacement_whole(self, store: Store) -> None:
        src = source()
        store.save_source(src, passages(src.id, ["v0"]))
        versions, errors, seen = 25, [], set()

        def write() -> None:
            writer = store.reopen()
            try:
                for v in range(1, versions + 1):  # version v has v+1 passages, all saying "v{v}"
                    writer.save_source(src.model_copy(update={"content_hash": f"h{v}"}), passages(src.id, [f"v{v}"] * (v + 1)))
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
            finally:
                writer.close() if writer is not store else None

        thread = threading.Thread(target=write)
        thread.start()
        while thread.is_alive() or not seen:
            texts = [p.text for p in store.passages(src.id)]
            version = int(texts[0][1:])
            assert texts == [f"v{version}"] * (version + 1), texts  # never half of one and half of another
            seen.add(version)
        thread.join()
        assert errors == []
        assert [p.text for p in store.passages(src.id)] == [f"v{versions}"] * (versions + 1)

    def test_two_writers_lose_no_update(self, store: Store) -> None:
        store.save_artefacts([artefact("A1")])
        errors: list[Exception] = []

        def append(current: Artefact | None, attempted: Artefact) -> Artefact | None:
            return current.model_copy(update={"items": [*current.items, attempted.items[-1]]}) if current else None

        def work(name: str) -> None:
            writer = store.reopen()
            try:
                for i in range(10):
                    stored, version = writer.versioned_artefacts(["A1"])["A1"]
                    mine = stored.model_copy(update={"items": [*stored.items, f"{name}{i}"]})
                    assert writer.update_artefacts([mine], {"A1": version}, append, attempts=50) == []
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
            finally:
                writer.close() if writer is not store else None

        threads = [threading.Thread(target=work, args=(n,)) for n in ("x", "y")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        items = store.get_artefact("A1").items  # type: ignore[union-attr]
        assert sorted(items) == sorted([f"x{i}" for i in range(10)] + [f"y{i}" for i in range(10)])
