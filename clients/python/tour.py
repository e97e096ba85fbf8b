"""The generated Python client against a running API (`make clients` runs it against `make run`).

Checks that every operation of docs/openapi.yaml is in the client, then: creates customers, reads
one, updates it with If-Match (and gets a 412 with the old ETag), adds and updates an address, pages
through the firehose with page_token, and gets a 400 problem parsed as the client's Problem model.
Asserts what it gets; exits non-zero on the first surprise.

Environment: CUSTOMER_API_URL, CUSTOMER_API_TOKEN (staff of CUSTOMER_API_BANK with every scope),
CUSTOMER_API_BANK (a bank with no customers yet). The generated package must be importable
(PYTHONPATH).
"""

import importlib
import os
import re
import sys
from pathlib import Path

import yaml

from customer_api_client import AuthenticatedClient
from customer_api_client.api.addresses import add_address_to_customer, update_customer_address
from customer_api_client.api.customers import create_customer, get_customer_by_customer_id, update_customer_email
from customer_api_client.api.firehose import get_firehose_customer
from customer_api_client.models import (
    AddAddressRequest,
    CountryCode,
    CreateCustomerRequest,
    Problem,
    UpdateAddressRequest,
    UpdateCustomerEmailRequest,
)
from customer_api_client.types import UNSET

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).replace("-", "_").lower()


def check_every_operation() -> int:
    """Each operation of the contract is a module of the client with the four call styles."""
    contract = yaml.safe_load(CONTRACT.read_text())
    count = 0
    for item in contract["paths"].values():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            module = f"customer_api_client.api.{snake(operation['tags'][0])}.{snake(operation['operationId'])}"
            loaded = importlib.import_module(module)
            for call in ("sync", "sync_detailed", "asyncio", "asyncio_detailed"):
                assert callable(getattr(loaded, call, None)), f"{module} has no {call}"
            count += 1
    return count


def main() -> None:
    operations = check_every_operation()
    bank = os.environ["CUSTOMER_API_BANK"]
    client = AuthenticatedClient(base_url=os.environ["CUSTOMER_API_URL"], token=os.environ["CUSTOMER_API_TOKEN"])

    # Three customers, so that the firehose has pages of two.
    created = []
    for n in (1, 2, 3):
        body = CreateCustomerRequest(bank_id=bank, legal_name=f"Python Client {n}", email=f"client{n}@example.com")
        answer = create_customer.sync_detailed(client=client, body=body)
        assert answer.status_code == 201, answer
        created.append(answer.parsed.customer_id)
    customer_id = created[0]

    read = get_customer_by_customer_id.sync_detailed(bank, customer_id, client=client)
    assert read.status_code == 200, read
    first_version = read.headers["ETag"]
    assert (read.parsed.id, read.parsed.legal_name, read.parsed.email) == (
        customer_id,
        "Python Client 1",
        "client1@example.com",
    )

    def update_email(email: str, if_match: str):
        body = UpdateCustomerEmailRequest(email=email)
        return update_customer_email.sync_detailed(bank, customer_id, client=client, body=body, if_match=if_match)

    updated = update_email("renamed@example.com", first_version)
    assert updated.status_code == 200, updated
    assert updated.headers["ETag"] != first_version, "an update gives a new ETag"
    assert updated.parsed.customer.email == "renamed@example.com"

    # The version read before the update no longer matches: 412, parsed as a Problem.
    stale = update_email("stale@example.com", first_version)
    assert stale.status_code == 412 and isinstance(stale.parsed, Problem), stale
    assert stale.parsed.status == 412

    added = add_address_to_customer.sync_detailed(
        customer_id,
        client=client,
        body=AddAddressRequest(line_1="12 St James Square", city="London", country_code=CountryCode.GB),
    )
    assert added.status_code == 201, added
    address_id = added.parsed.customer_address_id
    moved = update_customer_address.sync_detailed(
        bank,
        customer_id,
        address_id,
        client=client,
        body=UpdateAddressRequest(city="Bath"),
        if_match=added.headers["ETag"],
    )
    assert moved.status_code == 200, moved
    assert (moved.parsed.city, moved.parsed.line_1) == ("Bath", "12 St James Square")

    # Every customer of the bank, two per page, each exactly once.
    seen, pages, page_token = [], 0, UNSET
    while True:
        page = get_firehose_customer.sync(bank, client=client, limit=2, page_token=page_token)
        assert not isinstance(page, Problem), page
        pages += 1
        seen.extend(customer.id for customer in page.customers)
        if not page.next_page_token:
            break
        page_token = page.next_page_token
    assert sorted(seen) == sorted(created), (seen, created)
    assert pages >= 2, f"3 customers in pages of 2 take 2 pages, took {pages}"

    # An update naming no field passes the client's model (every field is optional) and is refused
    # by the server: a 400 Problem naming what is wrong.
    empty = update_customer_address.sync_detailed(
        bank, customer_id, address_id, client=client, body=UpdateAddressRequest()
    )
    assert empty.status_code == 400 and isinstance(empty.parsed, Problem), empty
    assert empty.parsed.status == 400 and empty.parsed.errors, empty.parsed
    print(
        f"python client: {operations} operations; create, read, If-Match update (and a 412), address add and "
        f"update, firehose in {pages} pages, a 400 problem: all as expected"
    )


if __name__ == "__main__":
    try:
        main()
    except AssertionError as failure:
        sys.exit(f"python client: FAILED: {failure!r}")
