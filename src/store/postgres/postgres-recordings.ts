/**
 * PostgreSQL: voicemail messages (with their mail-out state) and call recordings, the rows of the WAV files on disk
 * (a part of PostgresStore, see postgres-store.ts).
 */
import type { RecordingQuery, RecordingRecord, VoicemailMailUpdate, VoicemailRecord, Store } from '../store.js';
import { listRecordingsSql, RECORDING_COLUMNS, recordingFromRow } from '../sql/recordings.js';
import { checkInt, fromRow, normalizeIso, VOICEMAILS } from '../sql/records.js';
import { listVoicemailsSql } from '../sql/voicemails.js';
import { PH, type PostgresConnection } from './postgres-connection.js';

/** The voicemail and recording methods of {@link Store} on PostgreSQL. */
export class PostgresRecordings {
  readonly #db: PostgresConnection;

  constructor(db: PostgresConnection) {
    this.#db = db;
  }

  async listVoicemails(q: { user_number: string; unheard?: boolean; offset: number; limit: number }): Promise<VoicemailRecord[]> {
    const { sql, params } = listVoicemailsSql(q, PH);
    const r = await this.#db.query('listVoicemails', sql, params);
    return r.rows.map((row) => fromRow(VOICEMAILS, row));
  }

  async getVoicemail(messageId: string): Promise<VoicemailRecord | undefined> {
    const r = await this.#db.query('getVoicemail', `SELECT ${VOICEMAILS.columns.join(', ')} FROM voicemails WHERE message_id = $1`, [messageId]);
    return r.rows[0] ? fromRow(VOICEMAILS, r.rows[0]) : undefined;
  }

  async setVoicemailHeard(messageId: string, heardAt: string | null): Promise<boolean> {
    const at = heardAt === null ? null : normalizeIso(heardAt, 'heard_at');
    return ((await this.#db.query('setVoicemailHeard', 'UPDATE voicemails SET heard_at = $1 WHERE message_id = $2', [at, messageId])).rowCount ?? 0) > 0;
  }

  async deleteVoicemail(messageId: string): Promise<boolean> {
    return ((await this.#db.query('deleteVoicemail', 'DELETE FROM voicemails WHERE message_id = $1', [messageId])).rowCount ?? 0) > 0;
  }

  async listVoicemailMailDue(nowMs: number, limit: number): Promise<VoicemailRecord[]> {
    checkInt(limit, 1, 'limit');
    const r = await this.#db.query('listVoicemailMailDue', `SELECT ${VOICEMAILS.columns.join(', ')} FROM voicemails
      WHERE mail_status = 'pending' AND mail_next_at <= $1 ORDER BY mail_next_at, message_id LIMIT $2`, [nowMs, limit]);
    return r.rows.map((row) => fromRow(VOICEMAILS, row));
  }

  async listVoicemailMailFailures(q: { offset: number; limit: number }): Promise<VoicemailRecord[]> {
    checkInt(q.offset, 0, 'offset');
    checkInt(q.limit, 1, 'limit');
    const r = await this.#db.query('listVoicemailMailFailures', `SELECT ${VOICEMAILS.columns.join(', ')} FROM voicemails
      WHERE mail_status = 'failed' ORDER BY recorded_at DESC, message_id DESC LIMIT $1 OFFSET $2`, [q.limit, q.offset]);
    return r.rows.map((row) => fromRow(VOICEMAILS, row));
  }

  async updateVoicemailMail(messageId: string, u: VoicemailMailUpdate): Promise<void> {
    const sent = u.mail_sent_at === null ? null : normalizeIso(u.mail_sent_at, 'mail_sent_at');
    await this.#db.query('updateVoicemailMail', `UPDATE voicemails SET mail_status = $1, mail_attempts = $2, mail_next_at = $3,
      mail_last_error = $4, mail_sent_at = $5 WHERE message_id = $6`, [u.mail_status, u.mail_attempts, u.mail_next_at, u.mail_last_error, sent, messageId]);
  }

  // call recordings

  async listRecordings(q: RecordingQuery): Promise<RecordingRecord[]> {
    const { sql, params } = listRecordingsSql(q, PH);
    const r = await this.#db.query('listRecordings', sql, params);
    return r.rows.map(recordingFromRow);
  }

  async getRecording(recordingId: string): Promise<RecordingRecord | undefined> {
    const r = await this.#db.query('getRecording', `SELECT ${RECORDING_COLUMNS.join(', ')} FROM recordings WHERE recording_id = $1`, [recordingId]);
    return r.rows[0] ? recordingFromRow(r.rows[0]) : undefined;
  }

  async deleteRecording(recordingId: string): Promise<boolean> {
    const r = await this.#db.query('deleteRecording', 'DELETE FROM recordings WHERE recording_id = $1', [recordingId]);
    return (r.rowCount ?? 0) > 0;
  }

  async deleteRecordings(recordingIds: readonly string[]): Promise<number> {
    if (recordingIds.length === 0) return 0;
    const r = await this.#db.query('deleteRecordings', 'DELETE FROM recordings WHERE recording_id = ANY($1::text[])', [[...recordingIds]]);
    return r.rowCount ?? 0;
  }

  async listRecordingsBefore(beforeMs: number, limit: number): Promise<RecordingRecord[]> {
    checkInt(limit, 1, 'limit');
    const r = await this.#db.query('listRecordingsBefore', `SELECT ${RECORDING_COLUMNS.join(', ')} FROM recordings WHERE created_at < $1 ORDER BY created_at, recording_id LIMIT $2`,
      [new Date(beforeMs).toISOString(), limit]);
    return r.rows.map(recordingFromRow);
  }
}
