import { isPrivateAddress, privateHostReason, webhookUrlSyntaxError } from './network-policy.js';

describe('isPrivateAddress', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.255.254', true],
    ['10.0.0.1', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['192.168.1.10', true],
    ['169.254.169.254', true], // cloud metadata
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['224.0.0.1', true],
    ['255.255.255.255', true],
    ['::1', true],
    ['::', true],
    ['fc00::1', true],
    ['fd12:3456::1', true],
    ['fe80::1', true],
    ['64:ff9b::a00:1', true], // NAT64 of 10.0.0.1
    ['2002:a00:1::1', true], // 6to4 of 10.0.0.1
    ['::a00:1', true], // IPv4-compatible 10.0.0.1
    ['::ffff:127.0.0.1', true], // IPv4-mapped loopback
    ['::ffff:10.1.2.3', true],
    ['::ffff:0:127.0.0.1', true], // IPv4-translated loopback (RFC 2765)
    ['::ffff:0:a00:1', true], // IPv4-translated 10.0.0.1
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', true], // Teredo
    ['2001::1', true],
    ['2001:db9::1', false], // just past Teredo's /32
    ['8.8.8.8', false],
    ['172.32.0.1', false],
    ['192.169.0.1', false],
    ['100.128.0.1', false],
    ['93.184.215.14', false],
    ['2606:4700:4700::1111', false],
    ['::ffff:8.8.8.8', false],
  ])('%s → %s', (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });

  it('refuses to judge a name', () => {
    expect(() => isPrivateAddress('example.org')).toThrow(/not an IP address/);
  });
});

describe('privateHostReason (creation-time check of the URL text)', () => {
  it.each([
    'http://127.0.0.1/',
    'http://10.0.0.1/hook',
    'https://192.168.0.5:8443/x',
    'http://[::1]:3000/',
    'http://[fd00::5]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:0:127.0.0.1]/',
    'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/',
    'http://169.254.169.254/latest/meta-data',
    'http://localhost/',
    'http://LOCALHOST.:8080/',
    'http://api.localhost/',
    'http://2130706433/', // 127.0.0.1 as one number
    'http://0x7f.1/', // 127.0.0.1 in hex
    'http://0/',
  ])('%s is refused', (url) => {
    expect(privateHostReason(new URL(url))).toEqual(expect.stringMatching(/^url must not point to/));
  });

  it.each([
    'https://example.org/hooks',
    'http://8.8.8.8/',
    'https://[2606:4700:4700::1111]/',
    'https://localhost.example.org/',
  ])('%s passes', (url) => {
    expect(privateHostReason(new URL(url))).toBeUndefined();
  });
});

describe('webhookUrlSyntaxError', () => {
  it.each([
    ['not a url', /absolute http or https/],
    ['/relative/path', /absolute http or https/],
    ['ftp://example.org/x', /http or https/],
    ['javascript:alert(1)', /http or https/],
    ['https://user:pass@example.org/', /credentials/],
    ['https://user@example.org/', /credentials/],
    ['https://example.org/#frag', /fragment/],
    ['https://example.org/#', /fragment/],
  ])('%s → %s', (url, message) => {
    expect(webhookUrlSyntaxError(url)).toMatch(message);
  });

  it.each(['https://example.org/hooks?token=abc', 'http://example.org:8080/', 'https://xn--bcher-kva.example/'])(
    '%s is fine',
    (url) => {
      expect(webhookUrlSyntaxError(url)).toBeUndefined();
    },
  );
});
