/** SQL of the voicemails table shared by both backends (placeholders `ph(i)`): a mailbox's list, newest first. */
import type { Store } from '../store.js';
import { checkInt, VOICEMAILS } from './records.js';

/** A mailbox's messages (optionally only the unheard ones), newest first, paged; checks offset and limit. */
export function listVoicemailsSql(q: Parameters<Store['listVoicemails']>[0], ph: (i: number) => string): { sql: string; params: unknown[] } {
  checkInt(q.offset, 0, 'offset');
  checkInt(q.limit, 1, 'limit');
  const unheard = q.unheard ? ' AND heard_at IS NULL' : '';
  const sql = `SELECT ${VOICEMAILS.columns.join(', ')} FROM voicemails WHERE user_number = ${ph(1)}${unheard}
      ORDER BY recorded_at DESC, message_id DESC LIMIT ${ph(2)} OFFSET ${ph(3)}`;
  return { sql, params: [q.user_number, q.limit, q.offset] };
}
