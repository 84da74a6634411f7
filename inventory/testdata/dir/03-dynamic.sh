#!/bin/sh
# A dynamic inventory in the ansible-inventory --list shape, with _meta.
case "$1" in
--list) cat <<'JSON'
{
  "cloud": {"hosts": ["vm-1", "vm-2"], "vars": {"provider": "cloud"}, "children": ["cloud_eu"]},
  "cloud_eu": ["vm-3"],
  "app": {"hosts": ["app02.example.com"]},
  "_meta": {"hostvars": {"vm-1": {"ansible_host": "198.51.100.1", "n": 1}, "vm-3": {"zone": "eu-1a"}}}
}
JSON
;;
--host) echo '{}' ;;
*) echo "usage: $0 --list | --host NAME" >&2; exit 2 ;;
esac
