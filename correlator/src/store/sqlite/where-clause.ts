/** A SQL function of one text argument giving it in lower case, by JavaScript's Unicode rules. */
export const CASEFOLD_FUNCTION = 'casefold';
/** A SQL function of a severity name giving OTLP's number for it (severity.ts), 0 for others. */
export const SEVERITY_OF_TEXT_FUNCTION = 'severity_of_text';

/** Builds the WHERE clause of a filtered list query from optional filters, with bound arguments. */
export class WhereClause {
  private readonly parts: string[] = [];
  readonly args: unknown[] = [];

  /** Adds `sql` (with its `?` placeholders) when every argument is defined. */
  add(sql: string, ...args: unknown[]): this {
    if (args.every(a => a !== undefined && a !== '')) {
      this.parts.push(sql);
      this.args.push(...args);
    }
    return this;
  }

  /**
   * Case-insensitive substring match on `column`, with LIKE wildcards in the text escaped. SQLite's
   * LIKE folds ASCII case only: text with other letters ("ÜN" for "ünï") is matched through
   * `casefold` (CASEFOLD_FUNCTION, registered on the reading connection), row by row.
   */
  contains(column: string, text: string | undefined): this {
    if (!text) return this;
    const pattern = `%${text.replace(/[\\%_]/g, m => `\\${m}`)}%`;
    return /^[\x00-\x7f]*$/.test(text)
      ? this.add(`${column} LIKE ? ESCAPE '\\'`, pattern)
      : this.add(`${CASEFOLD_FUNCTION}(${column}) LIKE ? ESCAPE '\\'`, pattern.toLowerCase());
  }

  /** Rows whose [firstColumn, lastColumn] span overlaps [fromMs, toMs]. */
  overlaps(firstColumn: string, lastColumn: string, fromMs: number | undefined, toMs: number | undefined): this {
    return this.add(`${lastColumn} >= ?`, fromMs).add(`${firstColumn} <= ?`, toMs);
  }

  toString(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }

  /** A clause of this one's conditions and then `other`'s, with their arguments in that order. */
  and(other: WhereClause): WhereClause {
    const both = new WhereClause();
    both.parts.push(...this.parts, ...other.parts);
    both.args.push(...this.args, ...other.args);
    return both;
  }

  /** The conditions to follow another in a WHERE (` AND …`), or nothing. */
  andConditions(): string {
    return this.parts.map(p => ` AND ${p}`).join('');
  }
}
