"""The pages' who-is-who: a guardian's own children, a teacher's classes, a class list."""

from __future__ import annotations

from aptt_local.oneroster import build_package
from aptt_local.testing import random_id

from .conftest import DataService, district_roster


async def test_guardians_see_their_own_children_and_staff_their_own_classes(
    data_service: DataService,
) -> None:
    district = random_id("people")
    imported = await data_service.import_roster(district, build_package(district_roster(district)))
    assert imported.json()["status"] == "done"
    async with data_service.client() as client:
        both = data_service.token(district, "guardian", subject="gboth")
        children = (await client.get("/v1/me/students", headers=both)).json()["items"]
        assert [(c["student_id"], c["school_name"]) for c in children] == [
            ("c1-s1", "Lincoln Elementary"),
            ("c2-s1", "Garfield Elementary"),
        ]
        assert children[0]["classrooms"][0]["title"] == "Room 3A"
        one = data_service.token(district, "guardian", subject="c1-g2")
        mine = (await client.get("/v1/me/students", headers=one)).json()["items"]
        assert [c["student_id"] for c in mine] == ["c1-s2"]

        teacher = data_service.token(district, "teacher", subject="t1", schools=["sch1"])
        classes = (await client.get("/v1/me/classrooms", headers=teacher)).json()["items"]
        assert [c["classroom_id"] for c in classes] == ["c1"]
        # Who teaches it, by name only: the school's reach per teacher needs no contact.
        assert classes[0]["teachers"] == [
            {"teacher_id": "t1", "given_name": "Ana", "family_name": "Ruiz"}
        ]
        listed = await client.get("/v1/classrooms/c1/class-list", headers=teacher)
        students = listed.json()["students"]
        assert len(students) == 6
        first = next(s for s in students if s["student_id"] == "c1-s1")
        names = {g["guardian_id"]: g for g in first["guardians"]}
        assert names["gboth"]["language"] == "es-MX"
        assert "phone" not in names["gboth"]
        assert "email" not in names["gboth"]

        # Another teacher's class, a guardian, another district: refused.
        assert (
            await client.get("/v1/classrooms/c2/class-list", headers=teacher)
        ).status_code == 403
        assert (await client.get("/v1/classrooms/c1/class-list", headers=one)).status_code == 403
        other = data_service.token(random_id("other"), "teacher", subject="t1")
        assert (await client.get("/v1/classrooms/c1/class-list", headers=other)).status_code == 404
        stranger = data_service.token(random_id("other"), "guardian", subject="gboth")
        assert (await client.get("/v1/me/students", headers=stranger)).json()["items"] == []

        school = data_service.token(district, "school_admin", subject="p2", schools=["sch2"])
        classes = (await client.get("/v1/me/classrooms", headers=school)).json()["items"]
        assert [c["classroom_id"] for c in classes] == ["c2"]
        admin = data_service.admin(district)
        classes = (await client.get("/v1/me/classrooms", headers=admin)).json()["items"]
        assert {c["classroom_id"] for c in classes} == {"c1", "c2"}
