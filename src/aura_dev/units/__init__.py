"""One child of the stack: the unit protocol, a process in its own session (spawn, stream,
stop the whole group), and the readiness probes."""
