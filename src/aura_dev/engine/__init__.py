"""The running stack: lifecycle (start order, readiness, shutdown), port book, infra start,
unit runners and their state machine, the events hub, the typed snapshot and control socket,
signals, live changes and sessions (foreground, detached, from another terminal).  Only
the orchestrator changes run state."""
