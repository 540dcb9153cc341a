import { BlockList, isIP } from 'node:net';

/**
 * Where webhooks may not go unless the operator allows private networks (SSRF): loopback,
 * private, link-local, unique-local, carrier-grade NAT, "this network", multicast and reserved
 * ranges. IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) are judged by the IPv4 rules (BlockList
 * does this itself); the other IPv6 forms that carry an IPv4 address (IPv4-compatible,
 * IPv4-translated, NAT64, 6to4, Teredo) are refused whole.
 */
const BLOCKED: [string, number, 'ipv4' | 'ipv6'][] = [
  ['0.0.0.0', 8, 'ipv4'], // "this network"
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'], // IETF protocol assignments
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'], // benchmarking
  ['224.0.0.0', 4, 'ipv4'], // multicast
  ['240.0.0.0', 4, 'ipv4'], // reserved and broadcast
  ['::', 128, 'ipv6'], // unspecified
  ['::1', 128, 'ipv6'], // loopback
  ['64:ff9b:1::', 48, 'ipv6'], // local-use NAT64
  ['64:ff9b::', 96, 'ipv6'], // well-known NAT64: embeds any IPv4 address, private ones included
  ['2002::', 16, 'ipv6'], // 6to4: embeds an IPv4 address
  ['::', 96, 'ipv6'], // IPv4-compatible (deprecated)
  ['::ffff:0:0:0', 96, 'ipv6'], // IPv4-translated (SIIT, RFC 2765): ::ffff:0:127.0.0.1 embeds any IPv4 address
  ['2001::', 32, 'ipv6'], // Teredo: tunnels to an (obfuscated) IPv4 address
  ['fc00::', 7, 'ipv6'], // unique-local
  ['fe80::', 10, 'ipv6'], // link-local
  ['fec0::', 10, 'ipv6'], // site-local (deprecated)
  ['ff00::', 8, 'ipv6'], // multicast
];

const blockList = new BlockList();
for (const [net, prefix, family] of BLOCKED) blockList.addSubnet(net, prefix, family);

/** True when `address` (an IP literal) is in a loopback, private, link-local or other internal range. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) throw new Error(`not an IP address: ${address}`);
  return blockList.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** The host of a URL as a bare name or IP literal: no IPv6 brackets, no trailing dot, lower case. */
export function bareHost(url: URL): string {
  return url.hostname
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase();
}

/**
 * Why a webhook URL is refused before any DNS look-up (creation time), or undefined: an IP
 * literal in a blocked range, or `localhost` and its subdomains. Names are checked again at
 * delivery, on the addresses actually connected to.
 */
export function privateHostReason(url: URL): string | undefined {
  const host = bareHost(url);
  if (host === 'localhost' || host.endsWith('.localhost')) return 'url must not point to localhost';
  if (isIP(host) !== 0 && isPrivateAddress(host))
    return 'url must not point to a loopback, private or link-local address';
  return undefined;
}

/**
 * Why a string is not an acceptable webhook URL (syntax only), or undefined: absolute http(s),
 * no user name or password, no fragment.
 */
export function webhookUrlSyntaxError(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'url must be an absolute http or https URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'url must use http or https';
  if (url.username !== '' || url.password !== '') return 'url must not contain credentials';
  // `new URL('https://x/#').hash` is empty, so look at the text itself.
  if (value.includes('#')) return 'url must not contain a fragment';
  if (url.hostname === '') return 'url must have a host';
  return undefined;
}
