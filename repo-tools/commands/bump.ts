// `tufpip-repo bump`: the cron job. DESIGN.md: online roles are re-signed when less than half of
// their period is left (PEP 458 "Metadata Expiry Times"); offline roles are never touched, and
// an offline role expiring within the warning window makes bump exit non-zero.
import { TufpipError } from '../../metadata/errors.js';
import { OFFLINE_WARNING_DAYS, expiryKeyForRole, isDue } from '../../metadata/profile.js';
import { BINS, CLAIMED, ROOT, SNAPSHOT, TARGETS, TIMESTAMP } from '../../metadata/roles.js';
import { withRepo, type OpenOptions } from '../txn/open-repo.js';
import { Transaction, type CommitResult } from '../txn/transaction.js';
import { onlineRoleExpiries } from '../storage/expiry-cache.js';

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
    for (const [role, expires] of await onlineRoleExpiries(pub)) {
      if (opts.force || isDue(expires, days(role), now)) {
        tx.resign(role);
        resigned.push(role);
      }
    }
    if (opts.force || resigned.length > 0 || isDue(pub.snapshot.expires, days(SNAPSHOT), now)) {
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
    for (const r of [TARGETS, BINS, CLAIMED]) offline.push([r, (await pub.role(r)).signed.expires]);
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
