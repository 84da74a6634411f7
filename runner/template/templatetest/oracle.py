# The oracle of the compatibility table: ansible-core's own templating
# (Templar: Jinja2 with Ansible's filters, tests, lookups and undefined
# handling, in Ansible's default non-native mode). Reads {"vars": {...},
# "cases": ["template", ...]} on stdin, writes one JSON line per case:
# {"ok": value} or {"err": "undefined" | "error", "msg": "..."}.
import json
import sys

from ansible.errors import AnsibleUndefinedVariable
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar


def plain(v):
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return repr(v)


def main():
    req = json.load(sys.stdin)
    loader = DataLoader()
    for case in req["cases"]:
        templar = Templar(loader=loader, variables=dict(req["vars"]))
        try:
            out = {"ok": plain(templar.template(case))}
        except AnsibleUndefinedVariable as e:
            out = {"err": "undefined", "msg": str(e)}
        except Exception as e:  # any other refusal: syntax, filter, type
            out = {"err": "error", "msg": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")


main()
