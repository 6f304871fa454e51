// `tufpip-repo bump`: the cron job. DESIGN.md: online roles are re-signed when less than half of
// their period is left (PEP 458 "Metadata Expiry Times"); offline roles are never touched, and
// an offline role expiring within the warning window makes bump exit non-zero.
import { TufpipError } from '../../metadata/errors.js';
import { OFFLINE_WARNING_DAYS, expiryKeyForRole, isDue } from '../../metadata/profile.js';
import { BINS, CLAIMED, ROOT, SNAPSHOT, TARGETS, TIMESTAMP } from '../../metadata/roles.js';
import { withRepo, type OpenOptions } from '../txn/open-repo.js';
import { Transaction, type CommitResult } from '../txn/transaction.js';
import { dueTime, loadDueSummary, onlineRoleExpiries, saveDueSummary } from '../storage/expiry-cache.js';

export interface BumpOptions extends OpenOptions {
  force?: boolean;
}

export interface OfflineWarning {
  role: string;
  expires: string;
  daysLeft: number;
}

export interface BumpResult {
  resigned: string[];
  commit: CommitResult;
  warnings: OfflineWarning[];
}

export async function bump(repoDir: string, opts: BumpOptions = {}): Promise<BumpResult> {
  const result = await withRepo(repoDir, opts, async (ctx) => {
    const { published: pub, config, now } = ctx;
    const tx = new Transaction(ctx, 'bump');
    const resigned: string[] = [];
    const days = (role: string) => config.expires[expiryKeyForRole(role)];
    // Fast path for cron: no online targets role and not the snapshot is due before
    // summary.nextDue, so neither the 16,385-entry snapshot nor any bin needs reading.
    const summary = await loadDueSummary(ctx.storage.state);
    const fresh = !opts.force && summary?.snapshotVersion === pub.snapshotVersion && now.getTime() < summary.nextDue;
    let snapshotDue = false;
    if (!fresh) {
      let nextDue = dueTime(pub.snapshot.expires, days(SNAPSHOT));
      for (const [role, expires] of await onlineRoleExpiries(pub, ctx.storage.state)) {
        if (opts.force || isDue(expires, days(role), now)) {
          tx.resign(role);
          resigned.push(role);
        } else nextDue = Math.min(nextDue, dueTime(expires, days(role)));
      }
      snapshotDue = !!opts.force || isDue(pub.snapshot.expires, days(SNAPSHOT), now);
      if (resigned.length === 0 && !snapshotDue) {
        const offline: Record<string, string> = {};
        for (const r of [TARGETS, BINS, CLAIMED]) offline[r] = (await pub.role(r)).signed.expires;
        await saveDueSummary(ctx.storage.state, { snapshotVersion: pub.snapshotVersion, nextDue, offline });
      }
    }
    if (resigned.length > 0 || snapshotDue) {
      tx.forceSnapshot = true;
      resigned.push(SNAPSHOT);
    }
    if (opts.force || resigned.length > 0 || isDue(pub.timestamp.signed.expires, days(TIMESTAMP), now)) {
      tx.forceTimestamp = true;
      resigned.push(TIMESTAMP);
    }
    const commit = await tx.commit();

    // Offline roles: warn, never re-sign (their keys are not here).
    const warnings: OfflineWarning[] = [];
    const offline: [string, string][] = [[ROOT, pub.root.signed.expires]];
    const known = fresh ? summary?.offline : undefined;
    for (const r of [TARGETS, BINS, CLAIMED]) offline.push([r, known?.[r] ?? (await pub.role(r)).signed.expires]);
    for (const [role, expires] of offline) {
      const daysLeft = (Date.parse(expires) - now.getTime()) / 86400_000;
      if (daysLeft < OFFLINE_WARNING_DAYS) warnings.push({ role, expires, daysLeft: Math.floor(daysLeft * 10) / 10 });
    }
    return { resigned, commit, warnings };
  });
  return result;
}

export function offlineWarningError(warnings: OfflineWarning[]): TufpipError {
  const list = warnings.map((w) => `${w.role} ${w.daysLeft < 0 ? 'EXPIRED' : `expires in ${w.daysLeft} days`} (${w.expires})`).join('; ');
  return new TufpipError('EXPIRING', `offline role${warnings.length > 1 ? 's' : ''} need re-signing with offline keys: ${list}. Online roles were handled; sign a new version of these (tufpip-repo propose/sign/publish)`);
}
