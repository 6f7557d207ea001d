"""Use cases of the notify service, one module per theme:

- `roster`: the read models (schools, classrooms, students, contacts, skills);
- `notices`: what to tell an audience, expanded into one message per guardian;
- `events`: meetings, private numbers and goals turned into notices;
- `dispatch`: a due message checked against contacts, preferences, quiet hours and limits,
  then turned into deliveries;
- `outcomes`: what an attempt to deliver comes to, decided and recorded in groups;
- `guardians`: preferences and the in-app inbox; `inbound`: STOP, START and HELP texts.

Configuration comes from the unit of work (`uow.config_as(Config)`).
"""
