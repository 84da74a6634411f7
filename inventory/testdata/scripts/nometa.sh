#!/bin/sh
# A dynamic inventory without _meta: Ansible (and tend) then call --host
# for every host. Group shapes: full object, bare list, and the shorthand
# object without hosts/children/vars (a host named like the group).
case "$1" in
--list) cat <<'JSON'
{"web": {"hosts": ["w1", "w2"], "vars": {"ansible_user": "deploy", "port": 8080}},
 "db": ["d1"],
 "lonely": {"answer": 42},
 "all": {"vars": {"dc": "dc1"}, "children": ["web", "db"]}}
JSON
;;
--host)
  case "$2" in
  w1) echo '{"ansible_host": "192.0.2.1", "port": 8081}' ;;
  d1) echo '{"role": "primary", "weights": [1, 2.5], "nested": {"a": null}}' ;;
  *) echo '{}' ;;
  esac ;;
*) exit 2 ;;
esac
