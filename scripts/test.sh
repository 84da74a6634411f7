#!/usr/bin/env bash
# The test command of the README: installs what the tests need on a fresh
# Debian machine (as root), then runs every test, integration included.
# Integration tests create network namespaces with their own OpenSSH sshd,
# so they need root; they fail (not skip) without it.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v ss >/dev/null 2>&1 || need+=(iproute2)
command -v ansible-inventory >/dev/null 2>&1 || need+=(ansible-core)
# the oracle of runner/template's differential test: ansible-core's Templar on Jinja2
/usr/bin/python3 -c 'import jinja2, ansible.template' >/dev/null 2>&1 || need+=(python3-jinja2 ansible-core)
# community.general's json_query filter needs Python's jmespath in the oracle
/usr/bin/python3 -c 'import jmespath' >/dev/null 2>&1 || need+=(python3-jmespath)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v sudo >/dev/null 2>&1 || need+=(sudo)
command -v strace >/dev/null 2>&1 || need+=(strace)
# get_url downloads with the host's curl (the lab hosts share this machine's);
# the oracle's authorized_key case needs the ansible.posix collection
command -v curl >/dev/null 2>&1 || need+=(curl)
/usr/bin/python3 -c 'import ansible_collections.ansible.posix' >/dev/null 2>&1 || need+=(ansible)
# systemd-analyze verify checks tend schedule systemd's units (it needs no
# running systemd: it works in a container)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
# Prometheus's programs for the metrics test (cmd/tend/metrics_integration_test.go):
# node_exporter's textfile collector, the Pushgateway, and promtool, which Debian
# ships only in the prometheus package (~96 MB installed; its daemon is not started).
command -v prometheus-node-exporter >/dev/null 2>&1 || need+=(prometheus-node-exporter)
command -v prometheus-pushgateway >/dev/null 2>&1 || need+=(prometheus-pushgateway)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
# Debian's ActiveMQ 5.17 (it pulls OpenJDK 17; ~30 s) for the real-broker test
# (cmd/tend/activemq_integration_test.go), which runs it inside a lab host.
[ -x /etc/init.d/activemq ] || need+=(activemq)
# ansible's apt module, for the apt differential test (internal/oracle); dpkg-deb
# builds the apt tests' fixture packages
/usr/bin/python3 -c 'import apt' >/dev/null 2>&1 || need+=(python3-apt)
command -v dpkg-deb >/dev/null 2>&1 || need+=(dpkg)
# the service module's SysV enabled lab test (update-rc.d)
command -v update-rc.d >/dev/null 2>&1 || need+=(init-system-helpers)
# unarchive's tests unpack zips with the host's unzip (the lab hosts share /usr)
command -v unzip >/dev/null 2>&1 || need+=(unzip)
# the ufw module's lab and differential tests run the host's ufw, only inside lab
# hosts (their own network namespace and overlay /etc); the package leaves this
# machine's own firewall disabled (ENABLED=no in /etc/ufw/ufw.conf)
command -v ufw >/dev/null 2>&1 || [ -x /usr/sbin/ufw ] || need+=(ufw)
# the haproxy module's lab and differential tests run their own HAProxy inside lab hosts, reached with socat
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
command -v socat >/dev/null 2>&1 || need+=(socat)
# pip's tests make virtualenvs with Debian's python3 -m venv (its ensurepip puts pip in
# them, offline); ansible's pip module (the pip differential case) needs setuptools
/usr/bin/python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
/usr/bin/python3 -c 'import pkg_resources' >/dev/null 2>&1 || need+=(python3-setuptools)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi
mkdir -p /run/sshd
# Debian's haproxy package starts its service where invoke-rc.d lets it (no policy-rc.d
# refusing): the tests start their own inside lab hosts, so stop one the install just started
if [[ " ${need[*]} " == *" haproxy "* ]] && [ -s /run/haproxy.pid ] && kill -0 "$(cat /run/haproxy.pid)" 2>/dev/null; then
  /etc/init.d/haproxy stop >/dev/null || true
fi
if [ -f /etc/ufw/ufw.conf ] && ! grep -qx 'ENABLED=no' /etc/ufw/ufw.conf; then
  echo "note: this machine's own ufw is enabled (/etc/ufw/ufw.conf); the tests never run ufw outside a lab host" >&2
fi
# The package enables no broker instance; enable `main` (nothing starts it
# here: the test starts it inside a lab host's namespaces).
if [ -d /etc/activemq/instances-available/main ] && [ ! -e /etc/activemq/instances-enabled/main ]; then
  ln -s ../instances-available/main /etc/activemq/instances-enabled/main
fi

go vet ./...
go test -count=1 -timeout 30m ./... "$@"
