"""Infrastructure backends (native processes, Docker containers) for Redis, placement and
the scheduler, behind one protocol; and choosing between them."""
