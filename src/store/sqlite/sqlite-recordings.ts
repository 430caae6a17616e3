/**
 * SQLite: voicemail messages (with their mail-out state) and call recordings, the rows of the WAV files on disk (a
 * part of SqliteCore, see sqlite-core.ts).
 */
import type { RecordingQuery, RecordingRecord, VoicemailMailUpdate, VoicemailRecord, Store } from '../store.js';
import { listRecordingsSql, RECORDING_COLUMNS, recordingFromRow } from '../sql/recordings.js';
import { checkInt, fromRow, normalizeIso, VOICEMAILS } from '../sql/records.js';
import { listVoicemailsSql } from '../sql/voicemails.js';
import type { Row, SqliteConnection } from './sqlite-connection.js';

/** The voicemail and recording methods of {@link Store} on one SQLite connection. */
export class SqliteRecordings {
  readonly #db: SqliteConnection;

  constructor(db: SqliteConnection) {
    this.#db = db;
  }

  async listVoicemails(q: { user_number: string; unheard?: boolean; offset: number; limit: number }): Promise<VoicemailRecord[]> {
    const { sql, params } = listVoicemailsSql(q, () => '?');
    return this.#db.op('listVoicemails', () => (this.#db.stmt(sql).all(...params) as Row[]).map((r) => fromRow(VOICEMAILS, r)));
  }

  async getVoicemail(messageId: string): Promise<VoicemailRecord | undefined> {
    return this.#db.op('getVoicemail', () => {
      const row = this.#db.stmt(`SELECT ${VOICEMAILS.columns.join(', ')} FROM voicemails WHERE message_id = ?`).get(messageId) as Row | undefined;
      return row ? fromRow(VOICEMAILS, row) : undefined;
    });
  }

  async setVoicemailHeard(messageId: string, heardAt: string | null): Promise<boolean> {
    const at = heardAt === null ? null : normalizeIso(heardAt, 'heard_at');
    return this.#db.op('setVoicemailHeard', () => this.#db.stmt('UPDATE voicemails SET heard_at = ? WHERE message_id = ?').run(at, messageId).changes > 0);
  }

  async deleteVoicemail(messageId: string): Promise<boolean> {
    return this.#db.op('deleteVoicemail', () => this.#db.stmt('DELETE FROM voicemails WHERE message_id = ?').run(messageId).changes > 0);
  }

  async listVoicemailMailDue(nowMs: number, limit: number): Promise<VoicemailRecord[]> {
    checkInt(limit, 1, 'limit');
    return this.#db.op('listVoicemailMailDue', () => (this.#db.stmt(`SELECT ${VOICEMAILS.columns.join(', ')} FROM voicemails
      WHERE mail_status = 'pending' AND mail_next_at <= ? ORDER BY mail_next_at, message_id LIMIT ?`).all(nowMs, limit) as Row[]).map((r) => fromRow(VOICEMAILS, r)));
  }

  async listVoicemailMailFailures(q: { offset: number; limit: number }): Promise<VoicemailRecord[]> {
    checkInt(q.offset, 0, 'offset');
    checkInt(q.limit, 1, 'limit');
    return this.#db.op('listVoicemailMailFailures', () => (this.#db.stmt(`SELECT ${VOICEMAILS.columns.join(', ')} FROM voicemails
      WHERE mail_status = 'failed' ORDER BY recorded_at DESC, message_id DESC LIMIT ? OFFSET ?`).all(q.limit, q.offset) as Row[]).map((r) => fromRow(VOICEMAILS, r)));
  }

  async updateVoicemailMail(messageId: string, u: VoicemailMailUpdate): Promise<void> {
    const sent = u.mail_sent_at === null ? null : normalizeIso(u.mail_sent_at, 'mail_sent_at');
    this.#db.op('updateVoicemailMail', () => this.#db.stmt(`UPDATE voicemails SET mail_status = ?, mail_attempts = ?, mail_next_at = ?,
      mail_last_error = ?, mail_sent_at = ? WHERE message_id = ?`).run(u.mail_status, u.mail_attempts, u.mail_next_at, u.mail_last_error, sent, messageId));
  }

  // call recordings

  async listRecordings(q: RecordingQuery): Promise<RecordingRecord[]> {
    const { sql, params } = listRecordingsSql(q, () => '?');
    return this.#db.op('listRecordings', () => (this.#db.stmt(sql).all(...params) as Row[]).map(recordingFromRow));
  }

  async getRecording(recordingId: string): Promise<RecordingRecord | undefined> {
    return this.#db.op('getRecording', () => {
      const row = this.#db.stmt(`SELECT ${RECORDING_COLUMNS.join(', ')} FROM recordings WHERE recording_id = ?`).get(recordingId) as Row | undefined;
      return row ? recordingFromRow(row) : undefined;
    });
  }

  async deleteRecording(recordingId: string): Promise<boolean> {
    return this.#db.op('deleteRecording', () => this.#db.stmt('DELETE FROM recordings WHERE recording_id = ?').run(recordingId).changes > 0);
  }

  async deleteRecordings(recordingIds: readonly string[]): Promise<number> {
    if (recordingIds.length === 0) return 0;
    return this.#db.op('deleteRecordings', () => this.#db.immediate(() =>
      this.#db.stmt('DELETE FROM recordings WHERE recording_id IN (SELECT value FROM json_each(?))').run(JSON.stringify(recordingIds)).changes));
  }

  async listRecordingsBefore(beforeMs: number, limit: number): Promise<RecordingRecord[]> {
    checkInt(limit, 1, 'limit');
    const before = new Date(beforeMs).toISOString();
    return this.#db.op('listRecordingsBefore', () => (this.#db.stmt(`SELECT ${RECORDING_COLUMNS.join(', ')} FROM recordings WHERE created_at < ? ORDER BY created_at, recording_id LIMIT ?`)
      .all(before, limit) as Row[]).map(recordingFromRow));
  }
}
