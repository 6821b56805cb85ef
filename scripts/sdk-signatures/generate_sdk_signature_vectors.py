"""Signs fixed requests with the official Huawei Cloud Python SDK (huaweicloudsdkcore 3.1.219) and prints a JSON
fixture that Tests/HuaweiCloudTests compares the Swift client's signatures against.

The SDK stamps X-Sdk-Date from datetime.utcnow(); the signer module's `datetime` is replaced by a subclass with a
fixed clock so the SDK still adds the date itself (the path the real client takes) but the output is reproducible.
Headers are the ones the SDK's own client sets before signing: Content-Type and User-Agent on every call, X-Language
on SecMaster calls; the credentials add X-Project-Id / X-Domain-Id / X-Security-Token and the signer adds Host.
"""
import json
import sys
from datetime import datetime

import huaweicloudsdkcore
from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer import signer as signer_module

FIXED = datetime(2026, 11, 29, 12, 34, 56)


class FixedDatetime(datetime):
    @classmethod
    def utcnow(cls):
        return FIXED

    @classmethod
    def now(cls, tz=None):
        return FIXED


signer_module.datetime = FixedDatetime

AK = "UNWINDTESTAK0000001"
SK = "unwindTestSecretKey0000000000000000000001"
TOKEN = "unwind-test-security-token-0001"
PROJECT = "1f2e3d4c5b6a47988796a5b4c3d2e1f0"
DOMAIN = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
USER_AGENT = "huaweicloud-usdk-python/3.0"

CASES = [
    {
        "name": "secmaster GET with query and X-Project-Id",
        "credentials": "project", "security_token": None,
        "method": "GET", "scheme": "https", "host": "secmaster.cn-north-4.myhuaweicloud.com",
        "path": "/v1/" + PROJECT + "/subscriptions/orders",
        "query": [["page", "RESOURCE_LIST"], ["offset", "0"], ["limit", "100"]],
        "headers": {"X-Language": "en-us"}, "body": "",
    },
    {
        "name": "BSS POST with JSON body and X-Domain-Id",
        "credentials": "global", "security_token": None,
        "method": "POST", "scheme": "https", "host": "bss.myhuaweicloud.com",
        "path": "/v2/orders/subscriptions/resources/unsubscribe", "query": [],
        "headers": {}, "body": '{"resource_ids":["sm-demo-standard-quota","sm-demo-log-analysis"],"unsubscribe_type":1}',
    },
    {
        "name": "ECS POST with security token",
        "credentials": "project", "security_token": TOKEN,
        "method": "POST", "scheme": "https", "host": "ecs.cn-north-4.myhuaweicloud.com",
        "path": "/v1/" + PROJECT + "/cloudservers/delete", "query": [],
        "headers": {}, "body": '{"delete_publicip":true,"delete_volume":false,"servers":[{"id":"5c7f1f0e-8a9b-4c1d-9e2f-3a4b5c6d7e81"}]}',
    },
    {
        "name": "VPCEP DELETE without body on a local endpoint with a port",
        "credentials": "project", "security_token": None,
        "method": "DELETE", "scheme": "http", "host": "127.0.0.1:8443",
        "path": "/v1/" + PROJECT + "/vpc-endpoints/9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b61", "query": [],
        "headers": {}, "body": "",
    },
    {
        "name": "VPCEP GET with a query value that needs encoding",
        "credentials": "project", "security_token": TOKEN,
        "method": "GET", "scheme": "https", "host": "vpcep.cn-north-4.myhuaweicloud.com",
        "path": "/v1/" + PROJECT + "/vpc-endpoints",
        "query": [["vpc_id", "vpc demo/1"], ["limit", "50"], ["offset", "0"]],
        "headers": {}, "body": "",
    },
    {
        "name": "BSS GET order details with X-Domain-Id and security token",
        "credentials": "global", "security_token": TOKEN,
        "method": "GET", "scheme": "https", "host": "bss.myhuaweicloud.com",
        "path": "/v2/orders/customer-orders/details/CS2611291234ABCDE", "query": [["limit", "10"], ["offset", "0"]],
        "headers": {}, "body": "",
    },
]


def sign(case):
    if case["credentials"] == "project":
        credentials = BasicCredentials(AK, SK, PROJECT)
    else:
        credentials = GlobalCredentials(AK, SK, DOMAIN)
    if case["security_token"]:
        credentials = credentials.with_security_token(case["security_token"])
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    headers.update(case["headers"])
    request = SdkRequest(
        method=case["method"], schema=case["scheme"], host=case["host"], resource_path=case["path"],
        query_params=[tuple(pair) for pair in case["query"]], header_params=headers,
        body=case["body"].encode("utf-8") if case["body"] else "",
    )
    signed = credentials.sign_request(request)
    out = dict(case)
    out.update({
        "access_key": AK, "secret_key": SK, "project_id": PROJECT, "domain_id": DOMAIN,
        "user_agent": USER_AGENT, "sdk_date": signed.header_params["X-Sdk-Date"],
        "signed_headers": signed.header_params,
        "authorization": signed.header_params["Authorization"],
    })
    return out


def main():
    fixture = {
        "generator": "scripts/generate-sdk-signature-vectors.sh",
        "sdk": "huaweicloudsdkcore " + getattr(huaweicloudsdkcore, "__version__", "3.1.219"),
        "cases": [sign(case) for case in CASES],
    }
    json.dump(fixture, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
