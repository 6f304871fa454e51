// metadata/role-graph.ts: the one role graph of the PEP 458 / PEP 480 profile. Pure, so checked
// directly: each fact with a case it holds for and one it does not.
import { expect } from 'chai';
import { binForPath } from '../metadata/hash-bins.js';
import { topDelegations } from '../metadata/builders.js';
import { projectDelegation, releaseRoleName } from '../metadata/releases.js';
import {
  PROJECT_DELEGATORS,
  TOP_DELEGATIONS,
  chainTo,
  delegatorOf,
  isGraphRole,
  isReleaseRole,
  projectDelegationShape,
  projectDelegatorIn,
  projectNameOf,
  projectRoleOf,
  releaseParent,
  rolesForTarget,
} from '../metadata/role-graph.js';

const lookup = projectDelegatorIn({ claimed: ['project-alpha'], 'recently-claimed': ['project-beta'] });

describe('role graph (metadata/role-graph.ts)', () => {
  it('delegator of each role: root -> targets -> claimed / recently-claimed / bins -> bin-n', () => {
    expect(delegatorOf('targets')).to.equal('root');
    for (const r of ['claimed', 'recently-claimed', 'bins']) expect(delegatorOf(r)).to.equal('targets');
    expect(delegatorOf('bin-3f')).to.equal('bins');
    // Not in the graph: no delegator.
    for (const r of ['root', 'snapshot', 'timestamp', 'mirror', 'bin-xyz']) expect(delegatorOf(r), r).to.equal(undefined);
  });

  it('a project role is delegated by what the published state says; a release role by its project role', () => {
    expect(delegatorOf('project-alpha', lookup)).to.equal('claimed');
    expect(delegatorOf('project-beta', lookup)).to.equal('recently-claimed');
    expect(delegatorOf('project-gamma', lookup)).to.equal(undefined);
    expect(delegatorOf('project-alpha')).to.equal(undefined);
    expect(delegatorOf('project-alpha--1.0', lookup)).to.equal('project-alpha');
    expect(delegatorOf('project-alpha--1.0')).to.equal('project-alpha');
  });

  it('chain from the top: targets first, the role last, root excluded', () => {
    expect(chainTo('bins')).to.deep.equal(['targets', 'bins']);
    expect(chainTo('bin-00')).to.deep.equal(['targets', 'bins', 'bin-00']);
    expect(chainTo('project-alpha--1.0', lookup)).to.deep.equal(['targets', 'claimed', 'project-alpha', 'project-alpha--1.0']);
    // An unknown project's chain stops at the role itself.
    expect(chainTo('project-gamma', lookup)).to.deep.equal(['project-gamma']);
  });

  it('release roles: parent, project, name', () => {
    const r = releaseRoleName('alpha', '1.0.Post1');
    expect(r).to.equal('project-alpha--1.0.post1');
    expect(releaseParent(r)).to.equal('project-alpha');
    expect(isReleaseRole(r)).to.equal(true);
    expect(projectRoleOf(r)).to.equal('project-alpha');
    expect(projectNameOf(r)).to.equal('alpha');
    expect(projectNameOf('project-alpha')).to.equal('alpha');
    // Not release roles: a project role, or `--` outside a project role.
    expect(releaseParent('project-alpha')).to.equal(undefined);
    expect(isReleaseRole('bins--1')).to.equal(false);
    expect(projectRoleOf('project-alpha')).to.equal('project-alpha');
  });

  it('graph membership: the targets-type roles a snapshot may list', () => {
    for (const r of ['targets', 'claimed', 'recently-claimed', 'bins', 'bin-0a', 'project-alpha', 'project-alpha--1.0']) expect(isGraphRole(r), r).to.equal(true);
    for (const r of ['root', 'snapshot', 'timestamp', 'mirror', 'bin-', 'projects', 'bin-0A']) expect(isGraphRole(r), r).to.equal(false);
  });

  it('project delegators: claimed, then recently-claimed (a name in both is claimed\'s)', () => {
    expect(PROJECT_DELEGATORS).to.deep.equal(['claimed', 'recently-claimed']);
    const both = projectDelegatorIn({ claimed: ['project-x'], 'recently-claimed': ['project-x', 'project-y'] });
    expect(both('project-x')).to.equal('claimed');
    expect(both('project-y')).to.equal('recently-claimed');
    expect(both('project-z')).to.equal(undefined);
  });

  it('the roles a target path walks through', () => {
    const bins = 16;
    const own = 'packages/alpha/alpha-1.0-py3-none-any.whl';
    expect(rolesForTarget(own, bins, lookup)).to.deep.equal(['targets', 'claimed', 'project-alpha']);
    expect(rolesForTarget(own, bins, lookup, 'project-alpha--1.0')).to.deep.equal(['targets', 'claimed', 'project-alpha', 'project-alpha--1.0']);
    expect(rolesForTarget('packages/beta/beta-2.0.tar.gz', bins, lookup)).to.deep.equal(['targets', 'recently-claimed', 'project-beta']);
    // Not developer-signed: the hash bins, as simple pages.
    const other = 'packages/gamma/gamma-1.0.tar.gz';
    expect(rolesForTarget(other, bins, lookup)).to.deep.equal(['targets', 'bins', binForPath(other, bins)]);
    expect(rolesForTarget(own, bins)).to.deep.equal(['targets', 'bins', binForPath(own, bins)]);
    const page = 'simple/alpha/index.html';
    expect(rolesForTarget(page, bins, lookup)).to.deep.equal(['targets', 'bins', binForPath(page, bins)]);
  });

  it('profile facts: the delegations targets and claim write follow the graph', () => {
    const k = (id: string) => ({ key: { keytype: 'ed25519' as const, scheme: 'ed25519' as const, keyval: { public: id.repeat(64) } }, keyid: id.repeat(64) });
    const top = topDelegations({ claimed: k('a'), recentlyClaimed: k('b'), bins: k('c') });
    expect(top.roles!.map((r) => [r.name, r.terminating, r.paths])).to.deep.equal(TOP_DELEGATIONS.map((d) => [d.name, d.terminating, [...d.paths]]));
    expect(top.roles!.map((r) => r.name)).to.deep.equal(['claimed', 'recently-claimed', 'bins']);
    expect(top.roles!.find((r) => r.name === 'claimed')!.paths).to.deep.equal(['packages/*/*']);
    expect(top.roles!.every((r) => r.terminating === false)).to.equal(true);
    const d = projectDelegation('alpha', ['k2', 'k1'], 2);
    expect(d).to.deep.include({ name: 'project-alpha', keyids: ['k1', 'k2'], threshold: 2, ...projectDelegationShape('alpha') });
    expect(d.terminating).to.equal(true);
    expect(d.paths).to.deep.equal(['packages/alpha/*']);
  });
});
