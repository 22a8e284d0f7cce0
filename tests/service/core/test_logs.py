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


MODULE_LOG = structlog.get_logger("handoff.test_module")  # as every module of the service holds its logger


def test_a_module_logger_follows_a_second_configuration_and_capture_logs_sees_it() -> None:
    """Each app configures logging; a logger used in between must still be seen by the tests' capture_logs
    (the tests that prove no code or message text is logged would otherwise pass on nothing)."""
    configure_logging("INFO", json_output=True)
    MODULE_LOG.info("first_use")
    configure_logging("WARNING", json_output=False)  # a second app in the same process
    with structlog.testing.capture_logs() as logs:
        MODULE_LOG.info("seen")
    assert [entry["event"] for entry in logs] == ["seen"]


def test_request_urls_and_a_disabled_access_log_stay_out_of_the_logs(capsys) -> None:
    """httpx's INFO line carries the URL with its query (Rasa's ?token=); uvicorn's --no-access-log must hold."""
    access = logging.getLogger("uvicorn.access")
    before = (list(access.handlers), access.propagate, access.level, access.disabled)
    access.setLevel(logging.INFO)
    access.disabled = False  # as uvicorn sets it (an in-process server of another test may have raised it)
    access.handlers[:], access.propagate = [], False  # what uvicorn --no-access-log leaves before the app starts
    configure_logging("INFO", json_output=True)
    logging.getLogger("httpx").info("HTTP Request: GET http://rasa:5005/status?token=s3cret \"HTTP/1.1 200 OK\"")
    access.info('127.0.0.1:1 - "GET /readyz HTTP/1.0" 200')
    logging.getLogger("httpx").warning("kept")
    assert [json.loads(line)["event"] for line in capsys.readouterr().out.splitlines() if line.strip()] == ["kept"]
    access.addHandler(logging.NullHandler())  # uvicorn's own access log, when it is on
    configure_logging("INFO", json_output=True)
    access.info("seen")
    access.handlers[:], access.propagate = before[0], before[1]
    access.setLevel(before[2])
    access.disabled = before[3]
    assert [json.loads(line)["event"] for line in capsys.readouterr().out.splitlines() if line.strip()] == ["seen"]
