"""Use cases of the scheduling service: one function per command or handled event.

Each runs in a unit of work (`Mongo.run`): what it writes and the events it records commit
together. Callers pass `now`, so every rule about time is decided once, by the caller's clock;
the service's settings come with the unit of work (`uow.config_as(Config)`).
"""
