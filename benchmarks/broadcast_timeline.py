"""`python -m benchmarks.broadcast_timeline [--workers 100] [--repeats 4] [--backend sqlite]`:
where a broadcast's time goes. A supervisor broadcasts to N workers (200 ms models over the
fake OpenAI server, as in the `broadcast` case); for each broadcast it prints the wall time
over the ideal, the server's CPU, and the timeline of the model calls as the fake server saw
them, relative to the broadcast's request: the supervisor's first call, when the first,
median and last worker's call arrived, when the last worker's answer left, and when the
supervisor's second call came (the gap after the last answer: collecting the replies)."""

import argparse
import asyncio
import statistics
import time

import httpx

from benchmarks import cases, harness, models


async def measure(workers: int, repeats: int, backend: str) -> None:
    with models.fake_servers(["openai"]) as paths, harness.backend(backend) as bk:
        path = paths["openai"]
        assert path.server is not None
        with models.on_path(path):
            async with harness.servers(bk, label="timeline") as s:
                supervisor, text = await cases._team(s, workers)
                for repeat in range(repeats):
                    await path.server.reset()
                    cpu = s.cpu_s()
                    began = time.time()
                    answer = await harness.checked(
                        s.main.post(f"/v1/agents/{supervisor}/messages", json=_body(text))
                    )
                    wall = time.time() - began
                    cpu = s.cpu_s() - cpu
                    cases._check_broadcast(answer, workers)
                    await models.settle()
                    print(
                        _line(repeat, wall, cpu, workers, await _arrivals(path.server.url), began)
                    )


def _body(text: str) -> dict[str, object]:
    return {"messages": [{"role": "user", "content": text}]}


async def _arrivals(url: str) -> list[tuple[float, float, str]]:
    async with httpx.AsyncClient(base_url=url) as client:
        found: list[tuple[float, float, str]] = (await client.get("/arrivals")).json()
    return found


def _line(
    repeat: int,
    wall: float,
    cpu: float,
    workers: int,
    arrivals: list[tuple[float, float, str]],
    began: float,
) -> str:
    def ms(t: float) -> int:
        return round((t - began) * 1000)

    boss = sorted(a for a in arrivals if "scripted" in a[2])
    crew = sorted(a for a in arrivals if "echo" in a[2])
    starts = [ms(a[0]) for a in crew]
    last_answer = max(a[1] for a in crew)
    return (
        f"#{repeat} wall {wall * 1000:.0f} ms = {wall / cases.BROADCAST_IDEAL_S:.2f} x ideal, "
        f"server CPU {cpu * 1000:.0f} ms ({cpu * 1000 / workers:.2f}/worker) | "
        f"sup call1 {ms(boss[0][0])}, workers' calls arrive first {starts[0]} "
        f"median {statistics.median(starts):.0f} last {starts[-1]}, "
        f"last worker answered {ms(last_answer)}, sup call2 {ms(boss[-1][0])} "
        f"(+{ms(boss[-1][0]) - ms(last_answer)} after), done {wall * 1000:.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.broadcast_timeline")
    parser.add_argument("--workers", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgres"))
    args = parser.parse_args()
    asyncio.run(measure(args.workers, args.repeats, args.backend))


if __name__ == "__main__":
    main()
