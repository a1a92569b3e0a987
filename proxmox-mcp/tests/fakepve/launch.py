"""Start fakepve (PyPI, AGPL, run as a separate process) for the contract tests.

Registers an API token, writes a certificate to trust, seeds a small cluster, then prints one
JSON line: {"url", "port", "ca", "user", "token_name", "token_value"}. Exits when stdin closes,
so a test that dies takes its fake Proxmox with it.
"""

import asyncio
import json
import sys
import tempfile
import uuid

from fakepve.certs import make_cert
from fakepve.server import FakePve


def seed(pve):
    pve.add_node('pve2')
    web = pve.add_vm(100, 'web', node='pve1', status='running',
                     config={'memory': '2048', 'cores': '2', 'scsi0': 'local-lvm:vm-100-disk-0,size=32G',
                             'net0': 'virtio=BC:24:11:00:00:01,bridge=vmbr0', 'agent': '1', 'ostype': 'l26'})
    web.agent = {}
    pve.add_vm(101, 'db', node='pve1', status='stopped',
               config={'memory': '1024', 'scsi0': 'local-lvm:vm-101-disk-0,size=8G'})
    pve.add_ct(200, 'dns', node='pve1', status='running',
               config={'memory': 512, 'rootfs': 'local-lvm:subvol-200-disk-0,size=8G',
                       'net0': 'name=eth0,bridge=vmbr0,ip=dhcp', 'ostype': 'debian'})
    pve.store_file('local', 'debian-13.iso', 1024 * 1024)
    pve.store_file('local', 'debian-13-standard_13.1-1_amd64.tar.zst', 1024 * 1024, content='vztmpl')


async def main():
    pve = FakePve(host='127.0.0.1', port=0)
    pve.time_scale = 0
    secret = str(uuid.uuid4())
    pve.apitokens['root@pam!mcp'] = secret
    seed(pve)
    directory = tempfile.mkdtemp(prefix='proxmox-mcp-fakepve-')
    cert, key, _ = make_cert(directory, hosts=('127.0.0.1',))
    await pve.start(cert, key)
    print(json.dumps({'url': pve.url, 'port': pve.port, 'ca': cert, 'user': 'root@pam', 'token_name': 'mcp',
                      'token_value': secret}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await pve.stop()


if __name__ == '__main__':
    asyncio.run(main())
