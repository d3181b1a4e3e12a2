"""``transformers serve`` gives the HF backend's outputs, example for example.

The server is pinned to tiny-v1 (fp32, CPU) and, without ``--continuous-batching``,
generates one request at a time: about 0.3-0.9 s a request on this 2-core machine, so
the full 500 examples would take minutes per pass. The test sends the first
``SUBSET`` examples through releasegate's endpoint backend, without and with a stop
string (all 500 were identical without one, by hand: docs/endpoints.md).

One quirk changes outputs: transformers serve returns the stop string as part of the
text (OpenAI's API, vLLM and the HF backend leave it out). The endpoint backend cuts
the text at the first stop string, so with one the outputs still equal the HF backend's.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_support import PLAIN, ROOT, STOP, V1, Reference, assert_same_outputs, endpoint_outputs

from releasegate.backends.base import Prompt
from releasegate.testing.engines import (
    EngineServer,
    engine_env,
    free_port,
    transformers_serve_argv,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

SUBSET = 100


def test_transformers_serve_gives_the_hf_backends_outputs(
    engines_py: Path, prompts: list[Prompt], hf_reference: Reference, tmp_path: Path
) -> None:
    port = free_port()
    argv = transformers_serve_argv(engines_py, V1, port=port)
    log = tmp_path / "serve.log"
    subset = prompts[:SUBSET]
    with EngineServer(
        argv, port=port, env=engine_env(ROOT), log_path=log, ready_path="/health"
    ) as server:
        plain = endpoint_outputs(server.base_url, str(V1), subset, PLAIN)
        stopped = endpoint_outputs(server.base_url, str(V1), subset, STOP)
    want = {p.sample_id: hf_reference(V1, PLAIN)[p.sample_id] for p in subset}
    assert_same_outputs(plain, want)

    # With a stop string: transformers serve leaves it in the text; the endpoint backend
    # cuts it there, so the outputs are the HF backend's.
    stop = STOP.stop[0]
    assert sum(stop in (want[p.sample_id].text or "") for p in subset) > SUBSET // 2
    hf_stop = hf_reference(V1, STOP)
    assert_same_outputs(stopped, {p.sample_id: hf_stop[p.sample_id] for p in subset})
