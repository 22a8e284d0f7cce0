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


def test_what_an_agent_searched_for_stays_out_of_the_access_log(capsys) -> None:
    """A search's query is a customer's phone (written with '+' for spaces, which the phone mask does not read) or
    words a customer wrote: uvicorn's access line keeps the path and withholds the query."""
    configure_logging("INFO", json_output=True)
    access = logging.getLogger("uvicorn.access")
    before = (access.disabled, access.level)
    access.disabled = False
    access.setLevel(logging.INFO)
    try:
        for query in ("q=55+1234+5678", "q=REEMBOLS%C3%93+tarjeta&team=care"):
            access.info('%s - "%s %s HTTP/1.1" %d', "127.0.0.1:5000", "GET", f"/inbox/api/search?{query}", 200)
    finally:
        access.disabled = before[0]
        access.setLevel(before[1])
    events = [json.loads(line)["event"] for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert events == ['127.0.0.1:5000 - "GET /inbox/api/search?q=[withheld] HTTP/1.1" 200',
                      '127.0.0.1:5000 - "GET /inbox/api/search?q=[withheld]&team=care HTTP/1.1" 200'], events
