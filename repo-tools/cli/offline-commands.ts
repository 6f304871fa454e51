// The offline-key ceremony commands of `tufpip-repo` (issue 5): propose, sign, pending, publish.
// Thin yargs modules like cli/commands.ts: parse flags, call the implementation (imported lazily),
// print; they throw on failure and never exit (main.ts maps errors to exit codes).
import type { Argv, CommandModule } from 'yargs';
import { shortKeyId } from '../../metadata/keys.js';
import { printJson, say, type OutputFlags } from '../../io/cli/output.js';

const json = (y: Argv) => y.option('json', { type: 'boolean', describe: 'print machine-readable JSON on stdout' });
const ids = (l: string[]) => l.map(shortKeyId).join(', ') || 'none';

interface SetView {
  label: string;
  threshold: number;
  keyids: string[];
  signedBy?: string[];
  missing?: string[];
  met?: boolean;
}

function sayThresholds(a: OutputFlags, sets: SetView[]): void {
  for (const s of sets) {
    if (s.signedBy) {
      say(a, `  [${s.met ? 'met' : 'NOT MET'}] ${s.label}: ${s.threshold} needed, has ${s.signedBy.length} (${ids(s.signedBy)}); can still sign: ${ids(s.missing ?? [])}`);
    } else say(a, `  ${s.label}: ${s.threshold} of ${ids(s.keyids)}`);
  }
}

type ProposeArgs = OutputFlags & {
  dir: string;
  role: string;
  'add-key'?: string[];
  'remove-key'?: string[];
  threshold?: number;
  expires?: number;
  'role-key'?: string[];
  'role-threshold'?: string[];
  project?: string;
  replace?: boolean;
  'allow-single-root-key'?: boolean;
};

const propose: CommandModule<object, ProposeArgs> = {
  command: 'propose <dir>',
  describe: 'write the next version of an offline role (root, targets, bins, claimed) as a pending, unsigned file in DIR/pending/',
  builder: (y) =>
    json(y)
      .positional('dir', { type: 'string', demandOption: true, describe: 'repository directory' })
      .option('role', { type: 'string', demandOption: true, choices: ['root', 'targets', 'bins', 'claimed'], describe: 'the offline role to change' })
      .option('add-key', { type: 'string', array: true, describe: 'root: a root key; bins: a bin-* (online) key; claimed: a maintainer key of --project (PUB.json)' })
      .option('remove-key', { type: 'string', array: true, describe: 'a key to remove, by key ID (or 8+ digit prefix) or PUB.json' })
      .option('threshold', { type: 'number', describe: 'new threshold of the keys --add-key/--remove-key act on' })
      .option('expires', { type: 'number', describe: 'days until the new version expires (default: the role\'s configured period); alone, this renews the role' })
      .option('role-key', { type: 'string', array: true, describe: 'ROLE=PUB.json: the keys of a role this one delegates to become these (root: targets, snapshot, timestamp; targets: claimed, recently-claimed, bins; bins: bin; online = the online roles); repeat for several keys' })
      .option('role-threshold', { type: 'string', array: true, describe: 'ROLE=N: threshold of a role this one delegates to' })
      .option('project', { type: 'string', describe: 'claimed: the project whose maintainer keys change (PEP 480)' })
      .option('replace', { type: 'boolean', describe: 'discard an existing pending proposal of this role (and its signatures)' })
      .option('allow-single-root-key', { type: 'boolean', describe: 'accept a root threshold of 1' }) as never,
  handler: async (a) => {
    const { propose: run } = await import('../commands/propose.js');
    const r = await run(a.dir, {
      role: a.role,
      addKeys: a['add-key'],
      removeKeys: a['remove-key'],
      threshold: a.threshold,
      expiresDays: a.expires,
      roleKeys: a['role-key'],
      roleThresholds: a['role-threshold'],
      project: a.project,
      replace: a.replace,
      allowSingleRootKey: a['allow-single-root-key'],
    });
    if (a.json) return printJson(r);
    say(a, `proposed ${r.role} v${r.version} (follows v${r.baseVersion}), expires ${r.expires}: ${r.file}`);
    for (const c of r.changes) say(a, `  ${c}`);
    say(a, `signed content sha256 ${r.signedSha256} (every signer sees this hash in 'tufpip-repo sign')`);
    say(a, 'signatures needed (all of):');
    sayThresholds(a, r.signers);
    for (const n of r.alsoNeeded) say(a, `also needed before publish: ${n}`);
    say(a, `next: each key holder runs 'tufpip-repo sign ${r.file} --key KEY.pem' (a copy of the file is enough), then 'tufpip-repo publish ${a.dir}'`);
  },
};

const sign: CommandModule<object, OutputFlags & { file: string; key: string; 'passphrase-env'?: string }> = {
  command: 'sign <file>',
  describe: 'add one signature to a pending file (needs only the file and the key: the air-gapped step); never changes the signed content',
  builder: (y) =>
    json(y)
      .positional('file', { type: 'string', demandOption: true, describe: 'pending file (DIR/pending/ROLE.json or a copy of it)' })
      .option('key', { type: 'string', demandOption: true, describe: 'your private key (PEM file, or a signer URI file:/env:)' })
      .option('passphrase-env', { type: 'string', describe: 'passphrase of the key, from this environment variable' }) as never,
  handler: async (a) => {
    const { signPending } = await import('../commands/sign.js');
    const r = await signPending(a.file, { key: a.key, passphraseEnv: a['passphrase-env'] });
    if (a.json) return printJson(r);
    say(a, r.added ? `signed ${r.role} v${r.version} with key ${shortKeyId(r.keyid)}: ${r.file}` : `key ${shortKeyId(r.keyid)} had already signed ${r.role} v${r.version}: nothing changed`);
    say(a, `for ${r.repository}, signed content sha256 ${r.signedSha256}`);
    say(a, `follows ${r.role} v${r.baseVersion} (published file sha256 ${r.baseSha256}); what changes:`);
    for (const c of r.changes) say(a, `  ${c}`);
    sayThresholds(a, r.sets);
    say(a, r.complete ? 'every threshold is met: publish it with tufpip-repo publish DIR' : 'more signatures are needed');
  },
};

const pending: CommandModule<object, OutputFlags & { target: string; discard?: string; merge?: string[] }> = {
  command: 'pending <target>',
  describe: 'list pending proposals of repository DIR and the signatures they still need (or show one pending FILE.json)',
  builder: (y) =>
    json(y)
      .positional('target', { type: 'string', demandOption: true, describe: 'repository directory, or one pending file' })
      .option('discard', { type: 'string', describe: 'remove the pending proposal of this role (root, targets, bins, claimed)' })
      .option('merge', { type: 'string', array: true, describe: 'copies signed elsewhere in parallel: add their signatures to DIR/pending/' })
      .conflicts('discard', 'merge') as never,
  handler: async (a) => {
    const cmd = await import('../commands/pending.js');
    const fsp = await import('node:fs/promises');
    if (a.merge) {
      const rs = await cmd.mergePendingSignatures(a.target, a.merge);
      if (a.json) return printJson(rs);
      for (const r of rs) {
        say(a, `${r.role}: ${r.added.length ? `added signatures of ${ids(r.added)}` : 'no new signature'} (${r.file})`);
        sayThresholds(a, r.status.sets);
      }
      return;
    }
    if (a.discard) {
      const r = await cmd.discardPending(a.target, a.discard);
      if (a.json) return printJson(r);
      return say(a, `discarded ${r.file}`);
    }
    if ((await fsp.stat(a.target).catch(() => undefined))?.isFile()) {
      const r = await cmd.pendingFileReport(a.target);
      if (a.json) return printJson(r);
      say(a, `${r.role} v${r.version} for ${r.repository}, expires ${r.expires}${r.contentIntact ? '' : ' — CONTENT CHANGED SINCE PROPOSED'}`);
      for (const c of r.changes) say(a, `  ${c}`);
      sayThresholds(a, r.sets);
      return say(a, r.complete ? 'every threshold this file names is met' : 'more signatures are needed');
    }
    const r = await cmd.listPending(a.target);
    if (a.json) return printJson(r);
    if (r.roles.length === 0) return say(a, 'nothing pending');
    for (const role of r.roles) {
      say(a, `${role.role} v${role.version} [${role.state}] expires ${role.expires}, ${role.signatures} signature(s): ${role.file}`);
      for (const c of role.changes) say(a, `  ${c}`);
      sayThresholds(a, role.sets);
      for (const why of role.reasons) say(a, `  - ${why}`);
    }
    for (const b of r.blockers) say(a, `blocked: ${b}`);
    for (const n of r.incomplete) say(a, `also needed: ${n}`);
    say(a, r.publishable.length ? `publish would publish: ${r.publishable.join(', ')}` : 'publish would publish nothing yet');
  },
};

const publish: CommandModule<object, OutputFlags & { dir: string; 'online-key'?: string }> = {
  command: 'publish <dir>',
  describe: 'publish pending offline roles whose thresholds are met, with a new snapshot and timestamp (re-signing online roles if the online key changes)',
  builder: (y) =>
    json(y)
      .positional('dir', { type: 'string', demandOption: true, describe: 'repository directory' })
      .option('online-key', { type: 'string', describe: 'signer URI of the online key to sign with (file:PATH or env:VAR); required when it changes, then saved in config.json' }) as never,
  handler: async (a) => {
    const { publishPending } = await import('../commands/publish.js');
    const r = await publishPending(a.dir, { onlineKey: a['online-key'] });
    if (a.json) return printJson(r);
    for (const p of r.published) say(a, `published ${p.role} v${p.version}`);
    if (r.alreadyPublished.length) say(a, `already published by an interrupted earlier run, now finished: ${r.alreadyPublished.join(', ')}`);
    if (r.resigned.bins || r.resigned.recentlyClaimed) {
      say(a, `re-signed with online key ${shortKeyId(r.onlineKeyid)}: ${r.resigned.bins} bins${r.resigned.recentlyClaimed ? ', recently-claimed' : ''}`);
    }
    if (r.configOnlineSigner) say(a, `config.json now names the online key ${r.configOnlineSigner}`);
    for (const w of r.waiting) say(a, `still pending: ${w.role} v${w.version}: ${w.reasons.join('; ')}`);
    if (!r.commit.noop) say(a, `published snapshot ${r.commit.snapshotVersion}, timestamp ${r.commit.timestampVersion}`);
  },
};

export const offlineCommands = [propose, sign, pending, publish] as CommandModule[];
