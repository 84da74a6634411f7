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
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v sudo >/dev/null 2>&1 || need+=(sudo)
command -v strace >/dev/null 2>&1 || need+=(strace)
# the service module's SysV enabled lab test (update-rc.d)
command -v update-rc.d >/dev/null 2>&1 || need+=(init-system-helpers)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi
mkdir -p /run/sshd

go vet ./...
go test -count=1 -timeout 15m ./... "$@"
