"""troupe's performance suite: real server processes, deterministic models of fixed latency,
so what is measured is the framework's own cost. Run it with `make bench` (see README,
"Performance"); it is not part of `make test`."""
