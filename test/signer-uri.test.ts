// The one rule for "is this a signer URI" (metadata/signer-uri.ts), as every tufpip-repo command
// that takes a key (--key, --online-key, --offline-key, config.json onlineSigner) applies it.
import { expect } from 'chai';
import { parseSignerUri, signerKeyFile, signerUriText } from '../metadata/signer-uri.js';

describe('signer URIs: SCHEME:REST, or a key file path', () => {
  const cases: Array<[string, string, string]> = [
    ['file:keys/online.pem', 'file', 'keys/online.pem'],
    ['env:TUFPIP_ONLINE_KEY', 'env', 'TUFPIP_ONLINE_KEY'],
    ['awskms:alias/tuf', 'awskms', 'alias/tuf'],
    ['keys/online.pem', 'file', 'keys/online.pem'],
    ['/abs/online.pem', 'file', '/abs/online.pem'],
    ['C:\\keys\\online.pem', 'file', 'C:\\keys\\online.pem'],
    ['./a:b/online.pem', 'file', './a:b/online.pem'],
    ['/abs/a:b.pem', 'file', '/abs/a:b.pem'],
  ];
  for (const [uri, scheme, rest] of cases) {
    it(`${uri} -> ${scheme}:${rest}`, () => {
      expect(parseSignerUri(uri)).to.deep.equal({ scheme, rest });
      expect(signerUriText(uri)).to.equal(`${scheme}:${rest}`);
      expect(signerKeyFile(uri)).to.equal(scheme === 'file' ? rest : undefined);
    });
  }
});
