// A network interface's flags, through the classic ioctls on a datagram socket: enough to bring a
// new network namespace's loopback up without a netlink client or a CNI plugin exec.
import fs from 'node:fs';
import { check, libc, socketFn } from './libc';

const ioctlFn = libc.func('int ioctl(int fd, unsigned long req, _Inout_ uint8_t *ifr)');

const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const SIOCGIFFLAGS = 0x8913;
const SIOCSIFFLAGS = 0x8914;
const IFF_UP = 0x1;
/** struct ifreq: the name (IFNAMSIZ 16), then a union whose first member here is short ifr_flags. */
const IFREQ_SIZE = 40;
const IFNAMSIZ = 16;

/** Sets IFF_UP on the interface `name` of the calling thread's network namespace. */
export function setLinkUp(name: string): void {
  if (Buffer.byteLength(name) >= IFNAMSIZ) throw new RangeError(`interface name '${name}' is too long`);
  const fd = check('socket(AF_INET, SOCK_DGRAM)', socketFn(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) as number);
  try {
    const ifr = Buffer.alloc(IFREQ_SIZE);
    ifr.write(name, 0, 'utf8');
    check('ioctl(SIOCGIFFLAGS)', ioctlFn(fd, SIOCGIFFLAGS, ifr) as number, name);
    ifr.writeUInt16LE(ifr.readUInt16LE(IFNAMSIZ) | IFF_UP, IFNAMSIZ);
    check('ioctl(SIOCSIFFLAGS)', ioctlFn(fd, SIOCSIFFLAGS, ifr) as number, name);
  } finally {
    fs.closeSync(fd);
  }
}
