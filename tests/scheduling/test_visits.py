"""Parent-Teacher Home Visits through the API: opt-in on both sides, pairs, one visit at a
time per educator, withdrawal, and who may read a visit."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from aptt_contracts.notify import VisitAnswerReceived
from aptt_local.testing import random_id

from .conftest import Scheduling, iso
from .visiting import YEAR, Programme, at, programme, visit_events

INVITED = "org.aptt.scheduling.visit-invitation.sent.v1"
OPTED_IN = "org.aptt.scheduling.visit-family.opted-in.v1"
OPTED_OUT = "org.aptt.scheduling.visit-family.opted-out.v1"
PROPOSED = "org.aptt.scheduling.home-visit.proposed.v1"
SCHEDULED = "org.aptt.scheduling.home-visit.scheduled.v1"
CANCELLED = "org.aptt.scheduling.home-visit.cancelled.v1"


async def test_a_family_that_has_not_said_yes_is_never_proposed_a_visit(
    scheduling: Scheduling,
) -> None:
    p = await programme(scheduling, students=2)
    invited = await visit_events(p, INVITED, count=2)
    assert {e["student_id"] for e in invited} == set(p.d.students)
    assert all(e["guardian_ids"] for e in invited)

    refused = await p.propose(0)
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("family-not-opted-in")

    assert (await p.answer(0, yes=False))["status"] == "declined"
    assert (await p.propose(0)).status_code == 409

    accepted = await p.answer(0, yes=True)
    assert (accepted["status"], accepted["answer_channel"]) == ("accepted", "web")
    assert accepted["answered_at"] is not None
    [opted_in] = await visit_events(p, OPTED_IN)
    assert (opted_in["student_id"], opted_in["channel"]) == (p.d.students[0], "web")
    assert (await p.propose(0)).status_code == 201
    # The other family never answered.
    assert (await p.propose(1)).status_code == 409


async def test_inviting_again_invites_nobody_twice_and_a_draw_is_recorded(
    scheduling: Scheduling,
) -> None:
    p = Programme(d=await scheduling.district(students=6))
    drawn = await p.invite(draw={"size": 3, "seed": 42})
    assert drawn["draw"]["seed"] == 42
    assert drawn["draw"]["population"] == 6
    assert sorted(i["student_id"] for i in drawn["invited"]) == drawn["draw"]["drawn"]
    assert len(drawn["invited"]) == 3
    again = await p.invite()
    assert (len(again["invited"]), again["already_invited"]) == (3, 3)
    # There is no way to ask for a filtered list: unknown fields are refused.
    filtered = await p.client.post(
        f"/v1/classrooms/{p.d.classroom_id}/visit-invitations",
        json={"school_year": YEAR, "below_benchmark": True},
        headers=p.d.school_admin,
    )
    assert filtered.status_code == 422


async def test_a_coordinator_records_an_answer_given_on_paper(scheduling: Scheduling) -> None:
    p = await programme(scheduling, students=1)
    student = p.d.students[0]
    guardian = p.d.guardians[student][1]
    url = f"/v1/visit-invitations/{p.invitations[student]}/answers/{guardian}"
    recorded = await p.client.put(
        url, json={"answer": "yes", "channel": "paper"}, headers=p.d.school_admin
    )
    assert recorded.status_code == 200, recorded.text
    body = recorded.json()
    assert (body["status"], body["answered_by"], body["answer_channel"]) == (
        "accepted",
        guardian,
        "paper",
    )
    stranger = await p.client.put(
        f"/v1/visit-invitations/{p.invitations[student]}/answers/{random_id('g')}",
        json={"answer": "yes", "channel": "phone"},
        headers=p.d.school_admin,
    )
    assert stranger.status_code == 422
    assert (await p.propose(0)).status_code == 201


async def test_a_pair_is_two_different_trained_educators_who_opted_in(
    scheduling: Scheduling,
) -> None:
    p = await programme(scheduling, students=1, educators=3, opted_in=2)
    await p.answer(0, yes=True)
    not_opted_in = await p.propose(0, (0, 2))
    assert not_opted_in.status_code == 422
    assert not_opted_in.json()["type"].endswith("educator-not-opted-in")
    same_twice = await p.propose(0, (0, 0))
    assert same_twice.json()["type"].endswith("not-a-pair")
    untrained = await p.client.post(
        f"/v1/schools/{p.d.school_id}/visit-educators",
        json={"school_year": YEAR, "trained_on": (date.today() + timedelta(days=5)).isoformat()},
        headers=p.educator(2),
    )
    assert untrained.status_code == 422
    assert (await p.propose(0, (0, 2))).status_code == 422
    # An educator may only propose a visit they are part of.
    outsider = await p.client.post(
        "/v1/home-visits",
        json={
            "invitation_id": p.invitations[p.d.students[0]],
            "educator_ids": p.educators[:2],
            "times": [at(3), at(4)],
        },
        headers=p.educator(2),
    )
    assert outsider.status_code == 403
    assert (await p.propose(0, (0, 1))).status_code == 201


async def test_the_family_chooses_a_time_or_offers_another_that_the_pair_confirms(
    scheduling: Scheduling,
) -> None:
    p = await programme(scheduling, students=2)
    await p.answer(0, yes=True)
    await p.answer(1, yes=True)
    times = [at(5, 1), at(6, 1)]
    first = await p.proposed(0, times=times)
    chosen = await p.choose(0, first, times[1], place_kind="library", address="Main Street branch")
    assert chosen.status_code == 200, chosen.text
    assert (chosen.json()["status"], chosen.json()["place_kind"]) == ("scheduled", "library")
    [scheduled] = await visit_events(p, SCHEDULED)
    assert (scheduled["visit_id"], scheduled["place_kind"]) == (first, "library")
    ics = await p.client.get(
        f"/v1/home-visits/{first}.ics", params={"lang": "es"}, headers=p.educator(1)
    )
    assert ics.status_code == 200, ics.text
    assert ics.headers["content-type"].startswith("text/calendar")
    assert "SUMMARY:Visita al hogar" in ics.text
    assert "LOCATION:Main Street branch" in ics.text
    assert f"UID:{first}@aptt.org" in ics.text
    family_ics = await p.client.get(f"/v1/home-visits/{first}.ics", headers=p.d.guardian(0))
    assert family_ics.status_code == 403

    [mine] = (await p.client.get("/v1/me/home-visits", headers=p.d.guardian(0))).json()["items"]
    assert (mine["visit_id"], mine["address"]) == (first, None)
    assert (await p.client.get("/v1/me/home-visits", headers=p.d.guardian(1))).json()["items"] == []
    pair_list = (await p.client.get("/v1/me/home-visits", headers=p.educator(0))).json()["items"]
    assert [v["visit_id"] for v in pair_list] == [first]
    assert pair_list[0]["address"] == "Main Street branch"
    second = await p.proposed(1, times=[at(7, 1), at(8, 1)])
    offered = await p.choose(1, second, at(9, 2), place_kind="park")
    assert offered.json()["status"] == "counter_proposed"
    confirmed = await p.client.post(f"/v1/home-visits/{second}/confirm", headers=p.educator(1))
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["starts_at"] == at(9, 2).replace("+00:00", "Z")
    again = await p.choose(1, second, at(9, 2))
    assert again.status_code == 409


async def test_an_educator_is_never_on_two_visits_at_once_even_under_a_race(
    scheduling: Scheduling,
) -> None:
    p = await programme(scheduling, students=3, educators=3)
    for student in range(3):
        await p.answer(student, yes=True)
    times = [at(10, 1), at(11, 1)]
    # Educator 0 is in both pairs; both families pick the same hour at the same moment.
    one = await p.proposed(0, (0, 1), times=times)
    two = await p.proposed(1, (0, 2), times=times)
    answers = await asyncio.gather(p.choose(0, one, times[0]), p.choose(1, two, times[0]))
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    [busy] = [a for a in answers if a.status_code == 409]
    assert busy.json()["type"].endswith("educator-busy")

    # Overlapping by half an hour is refused too; proposing the busy hour is refused at once.
    half = iso(datetime.fromisoformat(times[0]) + timedelta(minutes=30))
    three = await p.proposed(2, (2, 0), times=[at(12, 1), at(13, 1)])
    overlap = await p.choose(2, three, half)
    assert overlap.json()["status"] == "counter_proposed"
    refused = await p.client.post(f"/v1/home-visits/{three}/confirm", headers=p.educator(2))
    assert refused.status_code == 409
    busy_proposal = await p.propose(2, (2, 0), times=[times[0], at(14, 1)])
    assert busy_proposal.status_code == 409


async def test_withdrawing_cancels_pending_visits_and_frees_the_pair(
    scheduling: Scheduling,
) -> None:
    p = await programme(scheduling, students=2)
    await p.answer(0, yes=True)
    await p.answer(1, yes=True)
    times = [at(15, 1), at(16, 1)]
    visit = await p.proposed(0, times=times)
    assert (await p.choose(0, visit, times[0])).status_code == 200
    proposed_only = await p.proposed(0, times=[at(17, 1), at(18, 1)])

    withdrawn = await p.answer(0, yes=False)
    assert withdrawn["status"] == "withdrawn"
    for visit_id in (visit, proposed_only):
        seen = await p.client.get(f"/v1/home-visits/{visit_id}", headers=p.educator(0))
        body = seen.json()
        assert (body["status"], body["reason"], body["outcome_role"]) == (
            "cancelled",
            "withdrawn",
            "family",
        )
    cancelled = await visit_events(p, CANCELLED, count=2)
    assert {e["visit_id"] for e in cancelled} == {visit, proposed_only}
    assert all(e["reason"] == "withdrawn" for e in cancelled)
    [opted_out] = await visit_events(p, OPTED_OUT)
    assert opted_out["withdrawn"] is True
    assert (await p.propose(0)).status_code == 409

    # The hour the withdrawn family had is free for the pair again.
    other = await p.proposed(1, times=times)
    assert (await p.choose(1, other, times[0])).status_code == 200


async def test_a_yes_or_no_texted_to_notify_answers_the_invitation(scheduling: Scheduling) -> None:
    """Notify publishes the texted answer; scheduling records it with channel sms."""
    p = await programme(scheduling, students=2)
    yes_student, no_student = p.d.students
    now = datetime.now(UTC).replace(microsecond=0)
    await scheduling.roster(
        *(
            VisitAnswerReceived(
                district_id=p.d.district_id,
                invitation_id=p.invitations[student],
                guardian_id=p.d.guardians[student][0],
                answer=answer,
                received_at=now,
            )
            for student, answer in ((yes_student, "yes"), (no_student, "no"))
        )
    )
    [opted_in] = await visit_events(p, OPTED_IN)
    assert (opted_in["invitation_id"], opted_in["channel"]) == (p.invitations[yes_student], "sms")
    [opted_out] = await visit_events(p, OPTED_OUT)
    assert (opted_out["invitation_id"], opted_out["channel"]) == (p.invitations[no_student], "sms")
    # The family that said yes can be proposed a visit; the one that said no cannot.
    assert (await p.propose(0)).status_code == 201
    assert (await p.propose(1)).status_code == 409
