import json
import logging

import structlog

from handoff.logs import configure_logging


def test_log_lines_are_json_with_contacts_masked(capsys) -> None:
    configure_logging("INFO", json_output=True)
    structlog.get_logger("test").info("customer_wrote", text="soy ana@example.com, mi cel +52 55 1234 5678")
    logging.getLogger("uvicorn.error").warning("from %s", "luis@example.org")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert lines[0]["event"] == "customer_wrote" and lines[0]["level"] == "info"
    assert "ana@example.com" not in lines[0]["text"] and "5678" in lines[0]["text"]
    assert "1234 5678" not in lines[0]["text"]
    assert "luis@example.org" not in lines[1]["event"]
