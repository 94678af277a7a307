"""Helpers of the reliability drills: each drill runs real servers hard, then checks the store."""

import asyncio
import concurrent.futures
import time

from troupe.store.integrity import IntegrityReport, check_database


def store_report(database_url: str, *, idle: bool) -> IntegrityReport:
    # In a thread of its own: callers may be inside a running event loop (async tests).
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, check_database(database_url, idle=idle)).result()


def assert_store_intact(database_url: str, *, settle_s: float = 60.0) -> IntegrityReport:
    """The integrity check passes with the server idle: every run it started has finished
    within `settle_s` seconds, and nothing in the store is inconsistent."""
    deadline = time.monotonic() + settle_s
    while True:
        report = store_report(database_url, idle=True)
        if report.ok or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert report.ok, report.summary()
    return report
