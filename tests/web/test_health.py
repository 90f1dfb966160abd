import pytest


def test_healthz_answers_without_login_or_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db(databases=["default", "olap", "catalog"])
def test_readyz_reports_each_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["databases"]) == {"default", "olap", "catalog"}
    assert all(result["ok"] and result["ms"] >= 0 for result in body["databases"].values())


@pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True)
def test_readyz_is_503_when_the_olap_database_is_down(client, olap_unreachable):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "databases": {
            "default": response.json()["databases"]["default"],
            "olap": {"ok": False, "error": "unavailable"},
            "catalog": response.json()["databases"]["catalog"],
        },
    }
    assert response.json()["databases"]["default"]["ok"] is True
    assert response.json()["databases"]["catalog"]["ok"] is True
