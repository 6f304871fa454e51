// The Atom feed of a watcher's latest events (RFC 4287), written with fast-xml-parser's builder
// (escaping included) and replaced atomically, so a feed reader never sees half a file.
import { XMLBuilder } from 'fast-xml-parser';
import { writeFileAtomic } from '../../io/atomic-file.js';
import type { StoredEvent } from './watch-store.js';

export function atomFeed(title: string, feedId: string, events: readonly StoredEvent[], updated: string): string {
  const entries = [...events].reverse().map((e) => ({
    id: `urn:tufpip:watch:${e.id}`,
    title: `${e.alarm ? 'ALARM ' : ''}${e.kind}${e.project ? ` ${e.project}` : ''}`,
    updated: e.at,
    category: { '@_term': e.alarm ? 'alarm' : 'notice' },
    content: { '@_type': 'text', '#text': e.message },
  }));
  const doc = {
    '?xml': { '@_version': '1.0', '@_encoding': 'utf-8' },
    feed: {
      '@_xmlns': 'http://www.w3.org/2005/Atom',
      id: feedId,
      title,
      updated,
      author: { name: 'tufpip watch' },
      entry: entries,
    },
  };
  const builder = new XMLBuilder({ ignoreAttributes: false, format: true, suppressEmptyNode: true, processEntities: true });
  return builder.build(doc) as string;
}

export async function writeAtomFeed(file: string, title: string, feedId: string, events: readonly StoredEvent[], updated: string): Promise<void> {
  await writeFileAtomic(file, atomFeed(title, feedId, events, updated));
}
