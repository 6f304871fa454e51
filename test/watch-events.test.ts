// The pure part of `tufpip watch` (metadata/watch-patterns.ts, watch-view.ts, watch-events.ts):
// patterns, the view of a snapshot from role facts, and the events between two views, as scenario
// tables (one row per case, each with the control next to it).
import { expect } from 'chai';
import { normalizeWatchPattern, watchesProject } from '../metadata/watch-patterns.js';
import { assembleView, roleFacts, type RoleFacts, type RootJson, type TargetsJson } from '../metadata/watch-view.js';
import { compareObservations, diffViews, equivocationOf, expiryEvents } from '../metadata/watch-events.js';

const K = (c: string) => c.repeat(64);
const ROOT: RootJson = {
  version: 1,
  expires: '2027-12-01T00:00:00Z',
  roles: { root: { keyids: [K('a')], threshold: 1 }, targets: { keyids: [K('b')], threshold: 1 }, snapshot: { keyids: [K('c')], threshold: 1 }, timestamp: { keyids: [K('c')], threshold: 1 } },
};
const all = () => true;
const sha = (c: string) => c.repeat(64);

function targets(over: Partial<TargetsJson> = {}): TargetsJson {
  return { version: 1, expires: '2027-12-01T00:00:00Z', targets: {}, ...over };
}

/** The role facts of a small index: bins with two bins, optionally a claimed project. */
function index(opts: { binFiles?: Record<string, string>; claimed?: boolean; projectFiles?: Record<string, string>; onlineKey?: string } = {}): Record<string, RoleFacts> {
  const online = opts.onlineKey ?? K('c');
  const files = (m: Record<string, string> = {}) => Object.fromEntries(Object.entries(m).map(([p, h]) => [p, { length: 10, hashes: { sha256: h } }]));
  const roles: Record<string, RoleFacts> = {
    targets: roleFacts(targets({ delegations: { roles: [{ name: 'claimed', keyids: [K('d')], threshold: 1 }, { name: 'recently-claimed', keyids: [online], threshold: 1 }, { name: 'bins', keyids: [K('e')], threshold: 1 }] } }), all),
    claimed: roleFacts(targets({ delegations: { roles: opts.claimed ? [{ name: 'project-myproj', keyids: [K('1'), K('2')], threshold: 2 }] : [] } }), all),
    bins: roleFacts(targets({ delegations: { succinct_roles: { keyids: [online], threshold: 1 } } }), all),
    'bin-0': roleFacts(targets({ targets: files(opts.binFiles) }), all),
  };
  if (opts.claimed) roles['project-myproj'] = roleFacts(targets({ targets: files(opts.projectFiles) }), all);
  return roles;
}

describe('watch: patterns', () => {
  const cases: Record<string, [string, string | RegExp]> = {
    'a name is PEP 503-normalised': ['My_Proj', 'my-proj'],
    'a prefix keeps its separator': ['Acme_*', 'acme-*'],
    'a lone star watches everything': ['*', '*'],
    'a star inside is refused': ['a*b', /prefix ending in \*/],
    'a bad name is refused': ['-x', /not a project name/],
  };
  for (const [name, [input, want]] of Object.entries(cases)) {
    it(name, () => {
      if (typeof want === 'string') expect(normalizeWatchPattern(input)).to.equal(want);
      else expect(() => normalizeWatchPattern(input)).to.throw(want);
    });
  }
  it('matches names and prefixes; no pattern matches every project', () => {
    expect(watchesProject(['acme-*'], 'acme-tools')).to.equal(true);
    expect(watchesProject(['acme-*'], 'acmetools')).to.equal(false);
    expect(watchesProject(['beta'], 'beta')).to.equal(true);
    expect(watchesProject(['beta'], 'betamax')).to.equal(false);
    expect(watchesProject([], 'anything')).to.equal(true);
  });
});

describe('watch: events between two views', () => {
  const view = (v: number, roles: Record<string, RoleFacts>, root = ROOT) => assembleView(v, root, roles, all);
  const f1 = 'packages/beta/beta-1.0-py3-none-any.whl';
  const f2 = 'packages/beta/beta-1.1-py3-none-any.whl';

  it('a file appears and disappears, vouched by the online key; nothing between equal views', () => {
    const a = view(1, index());
    const b = view(2, index({ binFiles: { [f1]: sha('1') } }));
    const added = diffViews(a, b);
    expect(added.map((e) => e.kind)).to.deep.equal(['file-added']);
    expect(added[0]).to.include({ path: f1, sha256: sha('1'), alarm: false, snapshot: 2 });
    expect(added[0].vouch).to.deep.equal({ kind: 'index', role: 'bin-0', keyids: [K('c')], threshold: 1 });
    expect(diffViews(b, view(3, index())).map((e) => e.kind)).to.deep.equal(['file-removed']);
    expect(diffViews(b, b)).to.deep.equal([]);
  });

  it('pre-authorization: an expected hash is authorized and quiet, another hash of that project is an alarm', () => {
    const a = view(1, index());
    const b = view(2, index({ binFiles: { [f1]: sha('1'), [f2]: sha('2') } }));
    const events = diffViews(a, b, { beta: [sha('1')] });
    expect(events.map((e) => [e.path, e.authorized, e.alarm])).to.deep.equal([
      [f1, true, false],
      [f2, false, true],
    ]);
    expect(diffViews(a, b, {}).every((e) => e.authorized === undefined && !e.alarm), 'no expectation: notices').to.equal(true);
  });

  it('a claim is a delegation change; the maintainers-signed file is authorized; an index-only bin entry of the claimed project is an alarm', () => {
    const a = view(1, index());
    const b = view(2, index({ claimed: true }));
    const claim = diffViews(a, b);
    expect(claim.map((e) => e.kind)).to.deep.equal(['delegation-changed']);
    expect(claim[0].message).to.contain('index-signed -> claimed');
    const c = view(3, index({ claimed: true, projectFiles: { 'packages/myproj/myproj-1.0-py3-none-any.whl': sha('3') } }));
    const signed = diffViews(b, c);
    expect(signed.map((e) => [e.kind, e.authorized, e.alarm])).to.deep.equal([['file-added', true, false]]);
    expect(signed[0].vouch).to.include({ kind: 'developer', role: 'project-myproj', threshold: 2 });
    const d = view(4, index({ claimed: true, projectFiles: { 'packages/myproj/myproj-1.0-py3-none-any.whl': sha('3') }, binFiles: { 'packages/myproj/myproj-6.6-py3-none-any.whl': sha('6') } }));
    expect(diffViews(c, d).map((e) => [e.kind, e.alarm])).to.deep.equal([['unsigned-file', true]]);
  });

  it('a key transition published in a project is reported as one, not as a release', () => {
    const b = view(2, index({ claimed: true }));
    const transition = 'packages/myproj/tufpip-key-transition-1.json';
    const c = view(3, index({ claimed: true, projectFiles: { [transition]: sha('7'), 'packages/myproj/myproj-1.0-py3-none-any.whl': sha('3') } }));
    const events = diffViews(b, c);
    expect(events.map((e) => [e.kind, e.path])).to.deep.equal([
      ['file-added', transition],
      ['file-added', 'packages/myproj/myproj-1.0-py3-none-any.whl'],
    ]);
    expect(events[0].message).to.match(/^packages\/myproj\/tufpip-key-transition-1\.json appeared \(a key transition of myproj: its maintainers' record of a key rotation, which tufpip lock follows\), sha256 /);
    expect(events[1].message).to.not.contain('key transition');
  });

  it('root rotation and an online key change', () => {
    const root2: RootJson = { ...ROOT, version: 2, roles: { ...ROOT.roles, timestamp: { keyids: [K('f')], threshold: 1 }, snapshot: { keyids: [K('f')], threshold: 1 } } };
    const events = diffViews(view(1, index()), view(2, index({ onlineKey: K('f') }), root2));
    expect(events.map((e) => e.kind)).to.deep.equal(['root-rotated', 'online-key-changed']);
    expect(events[0].message).to.contain('version 1 -> 2').and.contain('snapshot 1 of cccccccc -> 1 of ffffffff');
  });

  it('offline roles expiring within the window, once per expiry date', () => {
    const v = view(1, index());
    const now = new Date('2027-11-25T00:00:00Z');
    const first = expiryEvents(v, now, 14, {});
    expect(first.events.map((e) => e.role).sort()).to.deep.equal(['bins', 'claimed', 'root', 'targets']);
    expect(expiryEvents(v, now, 14, first.warned).events).to.deep.equal([]);
    expect(expiryEvents(v, now, 3, {}).events, 'outside the window').to.deep.equal([]);
  });

  it('equivocation and forks: the same (role, version) with other bytes', () => {
    const seen = { 'snapshot@3': sha('a') };
    expect(equivocationOf(seen, { role: 'snapshot', version: 3, sha256: sha('a') }, 'x')).to.equal(undefined);
    expect(equivocationOf(seen, { role: 'snapshot', version: 3, sha256: sha('b') }, 'x')).to.include({ kind: 'equivocation', alarm: true });
    const r = compareObservations(seen, [{ role: 'snapshot', version: 3, sha256: sha('b') }, { role: 'snapshot', version: 4, sha256: sha('c') }]);
    expect(r.common).to.equal(1);
    expect(r.events.map((e) => [e.kind, e.role, e.version])).to.deep.equal([['fork', 'snapshot', 3]]);
  });
});
