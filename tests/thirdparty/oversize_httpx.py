"""Uploads a body over docintel's limit with httpx, sync and async, and reports what each
attempt got back, as one JSON object on stdout:

    {"sync plain": [{"status": 413, "content_type": "...", "body": {...}} | {"error": "..."}, ...],
     "sync expect": [...], "async plain": [...], "async expect": [...], "sync chunked": [...]}

httpx sends the whole body before it reads the answer (it does not wait for a
`100 Continue`), so it sees the 413 only if the server reads what it sent.
"""

import argparse
import asyncio
import json

import httpx


def outcome(response):
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return {
        "status": response.status_code,
        "content_type": response.headers.get("content-type"),
        "body": body,
    }


def request_args(args, data, expect):
    headers = {"Authorization": f"Bearer {args.key}"}
    if expect:
        headers["Expect"] = "100-continue"
    if args.api == "v1":
        return {
            "url": f"{args.base}/v1/documents",
            "headers": headers,
            "files": {"file": ("big.txt", data, "text/plain")},
        }
    headers["Content-Type"] = "application/octet-stream"
    return {
        "url": f"{args.base}/v2/documents",
        "params": {"filename": "big.txt"},
        "headers": headers,
        "content": data,
    }


def pieces(data, size=64 * 1024):
    for i in range(0, len(data), size):
        yield data[i : i + size]


def run_sync(args, data, expect, chunked=False):
    results = []
    for _ in range(args.times):
        # A client per attempt: each upload has a connection of its own, as the
        # first upload of a program has.
        with httpx.Client(timeout=60) as client:
            kwargs = request_args(args, data, expect)
            if chunked:
                kwargs["content"] = pieces(data)
            try:
                results.append(outcome(client.post(**kwargs)))
            except httpx.HTTPError as e:
                results.append({"error": f"{type(e).__name__}: {e}"})
    return results


async def run_async(args, data, expect):
    results = []
    for _ in range(args.times):
        async with httpx.AsyncClient(timeout=60) as client:
            try:
                response = await client.post(**request_args(args, data, expect))
                results.append(outcome(response))
            except httpx.HTTPError as e:
                results.append({"error": f"{type(e).__name__}: {e}"})
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--bytes", type=int, required=True)
    parser.add_argument("--times", type=int, default=10)
    parser.add_argument("--api", choices=["v1", "v2"], default="v2")
    args = parser.parse_args()
    data = b"a" * args.bytes
    report = {
        "sync plain": run_sync(args, data, expect=False),
        "sync expect": run_sync(args, data, expect=True),
        "async plain": asyncio.run(run_async(args, data, expect=False)),
        "async expect": asyncio.run(run_async(args, data, expect=True)),
    }
    if args.api == "v2":
        report["sync chunked"] = run_sync(args, data, expect=False, chunked=True)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
