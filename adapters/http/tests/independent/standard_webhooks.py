"""The Standard Webhooks reference implementation (PyPI `standardwebhooks`) as an oracle.

One JSON request per line on stdin, one JSON answer per line on stdout:
  {"op": "sign", "secret", "id", "timestamp", "body_b64"}   -> {"signature": "v1,..."}
  {"op": "verify", "secret", "headers": {...}, "body_b64"}   -> {"valid": bool, "error": str|null}
"""
import base64
import json
import sys
from datetime import datetime, timezone

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

for line in sys.stdin:
    req = json.loads(line)
    wh = Webhook(req["secret"])
    body = base64.b64decode(req["body_b64"])
    if req["op"] == "sign":
        ts = datetime.fromtimestamp(req["timestamp"], tz=timezone.utc)
        out = {"signature": wh.sign(req["id"], ts, body)}
    else:
        try:
            wh.verify(body, req["headers"], json_parse=False)
            out = {"valid": True, "error": None}
        except WebhookVerificationError as e:
            out = {"valid": False, "error": str(e)}
    print(json.dumps(out), flush=True)
