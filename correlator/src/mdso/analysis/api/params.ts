// The error list's paging cursor (times are parsed by the API's own time-params).

export interface ErrorCursor {
  occurredAtMs: number;
  id: string;
}

export function encodeCursor(c: ErrorCursor): string {
  return Buffer.from(JSON.stringify([c.occurredAtMs, c.id])).toString('base64url');
}

export function decodeCursor(s: string): ErrorCursor | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && Number.isFinite(v[0]) && typeof v[1] === 'string') {
      return { occurredAtMs: v[0] as number, id: v[1] };
    }
  } catch {
    // fall through: any undecodable cursor is the caller's error
  }
  return null;
}
