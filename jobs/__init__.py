"""Background jobs: a queue in PostgreSQL (procrastinate), their progress and results, and the
schedule every domain can declare periodic work on (``jobs.queue.declare``)."""
