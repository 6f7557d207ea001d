"""Who is who, for the pages: a guardian's children, a staff member's classes, a class list."""

from __future__ import annotations

from aptt_platform.deps import Guardian, Staff, Store
from fastapi import APIRouter

from aptt_data.api.deps import Id, problems
from aptt_data.service import people
from aptt_data.service.people import Children, ClassList, Classrooms

router = APIRouter(tags=["people"])


@router.get("/me/students", summary="A guardian's children, with their school and classes")
async def my_children(principal: Guardian, mongo: Store) -> Children:
    return await mongo.run(people.my_children, principal=principal)


@router.get(
    "/me/classrooms",
    summary="The classes a teacher teaches (school admins: their schools'; district admins: all)",
)
async def my_classrooms(principal: Staff, mongo: Store) -> Classrooms:
    return await mongo.run(people.my_classrooms, principal=principal)


@router.get(
    "/classrooms/{classroom_id}/class-list",
    summary="A class's students and their guardians, names and languages (no contacts)",
    responses=problems(403, 404),
)
async def class_list(classroom_id: Id, principal: Staff, mongo: Store) -> ClassList:
    return await mongo.run(people.class_list, principal=principal, classroom_id=classroom_id)
